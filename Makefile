# The two commands a newcomer needs: `make run` (set up, then the main job) and `make test`.
# `make run` installs the runtime dependencies only; `make test` adds the dev extras (Spark, the
# test tools, the linters) and runs the static checks (`make check`) before the whole suite.
PYTHON ?= python3
VENV := .venv
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
TYPED := features matching training serving jobmatch

.PHONY: run test check bench setup

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	touch $(DEV) $(RUNTIME)

setup: $(DEV)

run: $(RUNTIME)
	$(VENV)/bin/jobmatch up

check: $(DEV)
	$(VENV)/bin/python -m ruff check .
	$(VENV)/bin/python -m ruff format --check .
	$(VENV)/bin/python -m mypy $(TYPED)

# The suite on every core (at most 4 processes: each trains the session's model once); idle
# processes take queued tests from busy ones (worksteal), so one long test does not hold the rest.
test: check
	$(VENV)/bin/python -m pytest -n auto --maxprocesses 4 --dist worksteal

bench: $(DEV)
	$(VENV)/bin/python bench/bench_core.py
