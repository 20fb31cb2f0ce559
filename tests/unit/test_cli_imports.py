"""The command line stays light: its help loads no training, MLflow, FastAPI or LightGBM, and
`jobmatch serve` never loads training code. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("training", "mlflow", "fastapi", "lightgbm", "uvicorn", "pyspark")

WALK = """
import argparse, contextlib, io, json, sys
import jobmatch

def commands(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name)
                yield from commands(child, (*path, name))

def loaded():
    return sorted({name.split(".")[0] for name in sys.modules})

parser = jobmatch.build_parser()
after_build = loaded()
asked = [[]]
for command in commands(parser):
    if list(command) != SKIP:
        asked.append(list(command))
for command in asked:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            jobmatch.main([*command, "--help"])
        except SystemExit:
            pass
print(json.dumps({"after_build": after_build, "after_help": loaded(), "asked": asked}))
"""


def run_python(code: str, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def heavy(modules: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    return [name for name in modules if name in HEAVY and name not in allowed]


def test_building_the_parser_and_every_help_load_nothing_heavy() -> None:
    seen = run_python("SKIP = None\n" + WALK)
    assert heavy(seen["after_build"]) == []
    assert heavy(seen["after_help"]) == []
    assert ["score"] in seen["asked"] and ["audit", "purge"] in seen["asked"] and ["keys", "add"] in seen["asked"]


def test_keys_add_help_loads_the_roles_but_nothing_heavy() -> None:
    seen = run_python(
        """
import contextlib, io, json, sys
import jobmatch
with contextlib.redirect_stdout(io.StringIO()):
    try:
        jobmatch.main(["keys", "add", "--help"])
    except SystemExit:
        pass
print(json.dumps({"loaded": sorted({name.split(".")[0] for name in sys.modules})}))
"""
    )
    assert heavy(seen["loaded"]) == []
    assert "serving" in seen["loaded"]  # the roles, from serving.role_names


def test_serve_never_loads_training_code(tmp_path: Path) -> None:
    env = {
        "JOBMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "JOBMATCH_API_KEYS_FILE": str(tmp_path / "api-keys.json"),
        "JOBMATCH_PSEUDONYM_KEY_FILE": str(tmp_path / "pseudonym.key"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "PYTHONWARNINGS": "ignore",
    }
    seen = run_python(
        """
import json, sys
import uvicorn
import jobmatch
uvicorn.run = lambda *args, **kwargs: None  # everything up to listening on the port
code = jobmatch.main(["serve"])
print(json.dumps({"code": [str(code)], "loaded": sorted(sys.modules)}))
""",
        env,
    )
    assert seen["code"] == ["0"]
    assert "serving.app" in seen["loaded"] and "uvicorn" in seen["loaded"]
    assert [name for name in seen["loaded"] if name.split(".")[0] == "training"] == []
