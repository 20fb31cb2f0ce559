"""`jobmatch score` and `jobmatch train` end with where the time went: each stage's seconds and
share, adding up to the total they print, which is no more than the command took."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.test_end_to_end import isolated_env, jobmatch

pytestmark = pytest.mark.slow
ROW = re.compile(r"^  (\S.*?)\s+(\d+\.\d\d)s\s+(\d+\.\d)%$")


def split(stdout: str) -> tuple[float, dict[str, float]]:
    """The printed total and seconds per stage."""
    lines = stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("where the time went ("))
    total = float(lines[head].split("(")[1].rstrip("s):"))
    stages: dict[str, float] = {}
    for line in lines[head + 1 :]:
        match = ROW.match(line)
        if not match:
            break
        stages[match.group(1)] = float(match.group(2))
    return total, stages


def test_score_prints_its_split(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = isolated_env(tmp_path, MLFLOW_TRACKING_URI=trained.tracking_uri)
    out = tmp_path / "shortlists.parquet"
    started = time.perf_counter()
    result = jobmatch("score", "--data", str(trained.data_dir), "--out", str(out), "--no-progress", env=env)
    wall = time.perf_counter() - started
    total, stages = split(result.stdout)
    for name in ("reading data", "loading model", "candidate generation", "features", "predict", "top-k", "reasons"):
        assert name in stages, name
    assert "writing output" in stages and "writing chunks" in stages and "reading chunks" in stages
    assert sum(stages.values()) == pytest.approx(total, abs=0.01 * len(stages))
    assert 0 < total <= wall and stages["other"] <= 0.2 * total + 0.5
    assert len(pd.read_parquet(out)) > 0


def test_train_prints_its_split_and_what_each_part_buys(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = tmp_path / "data"
    jobmatch("generate", "--out", str(data), "--candidates", "400", "--workplaces", "600", "--seed", "3", env=env)
    started = time.perf_counter()
    result = jobmatch("train", "--data", str(data), "--no-register", "--quiet", env=env)
    wall = time.perf_counter() - started
    total, stages = split(result.stdout)
    for name in ("features", "CV grid", "fit", "baselines", "evaluation", "fairness", "drift reference"):
        assert name in stages, name
    assert sum(stages.values()) == pytest.approx(total, abs=0.01 * len(stages))
    assert 0 < total <= wall and stages["other"] <= 0.2 * total + 0.5
    assert "what each part buys:" in result.stdout
    assert re.search(r"^  CV grid \(\d+\.\dx the fit\): chose ", result.stdout, re.M)
