"""`jobmatch drift` as a user runs it: stable on the data the champion was trained on, drifting
features named on shifted data."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.datasets import write_table
from tests.e2e.test_end_to_end import isolated_env, jobmatch

pytestmark = pytest.mark.slow


def test_drift_names_the_shifted_features(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = isolated_env(tmp_path, MLFLOW_TRACKING_URI=trained.tracking_uri)
    same = jobmatch("drift", "--data", str(trained.data_dir), env=env)
    assert "no feature drifted" in same.stdout

    shifted = tmp_path / "shifted"
    workplaces = trained.dataset.workplaces.copy()
    workplaces["slots"] = 1
    candidates = trained.dataset.candidates.copy()
    candidates["desired_hours"] = 10.0
    write_table(workplaces, shifted, "workplaces")
    write_table(candidates, shifted, "candidates")
    write_table(trained.dataset.outcomes, shifted, "outcomes")  # the same employer history
    result = jobmatch("drift", "--data", str(shifted), env=env)
    last = result.stdout.strip().splitlines()[-1]
    assert "capacity_slots_left" in last and "logistics_hours_fit" in last, result.stdout

    missing = jobmatch("drift", "--data", str(tmp_path / "nowhere"), env=env, check=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
