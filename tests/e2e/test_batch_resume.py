"""`jobmatch score` killed midway resumes from its finished chunks and writes the same file as an
uninterrupted run; the output appears only when complete."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from serving.batch import parts_folder
from tests.e2e.test_end_to_end import ROOT, isolated_env, jobmatch

pytestmark = pytest.mark.slow
CHUNK_PAIRS = "4000"  # about 40 candidates per chunk on the test data: dozens of chunks


@pytest.fixture(scope="module")
def env(trained, tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return isolated_env(tmp_path_factory.mktemp("batch"), MLFLOW_TRACKING_URI=trained.tracking_uri)


def score_args(trained, out: Path, *extra: str) -> list[str]:  # type: ignore[no-untyped-def]
    return ["score", "--data", str(trained.data_dir), "--out", str(out), "--chunk-pairs", CHUNK_PAIRS, *extra]


def finished_chunks(out: Path) -> int:
    try:
        return len(json.loads((parts_folder(out) / "manifest.json").read_text())["done"])
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_run_resumes_and_matches_an_uninterrupted_run(trained, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    whole = tmp_path / "whole.parquet"
    jobmatch(*score_args(trained, whole), env=env)
    assert not parts_folder(whole).exists(), "the parts folder is removed once the output is written"

    out = tmp_path / "resumed.parquet"
    process = subprocess.Popen(
        [sys.executable, "-m", "jobmatch", *score_args(trained, out)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while finished_chunks(out) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed; make the chunks smaller"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    done = finished_chunks(out)
    assert done >= 5
    assert not out.exists(), "a killed run leaves no output file"

    again = jobmatch(*score_args(trained, out), env=env)
    assert f"resuming: {done} of" in again.stderr
    assert not parts_folder(out).exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(whole))


def test_parts_of_another_run_are_not_reused(trained, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "shortlists.parquet"
    parts = parts_folder(out)
    parts.mkdir()
    (parts / "manifest.json").write_text(json.dumps({"key": "another run", "done": {"0": 1}}))
    (parts / "chunk-000000.parquet").write_bytes(b"not this run's")
    result = jobmatch(*score_args(trained, out, "--top-k", "3"), env=env)
    assert "starting over" in result.stderr
    shortlists = pd.read_parquet(out)
    assert shortlists.groupby("candidate_id")["rank"].max().max() == 3


def test_allocation_respects_capacity_and_reports_both(trained, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "allocated.parquet"
    result = jobmatch(*score_args(trained, out, "--allocate", "--per-slot", "2"), env=env)
    assert "independent top-k" in result.stdout and "allocated" in result.stdout
    shortlists = pd.read_parquet(out)
    slots = trained.dataset.workplaces.set_index("workplace_id")["slots"]
    load = shortlists.groupby("workplace_id").size()
    assert (load <= 2 * slots.reindex(load.index)).all(), "no workplace above 2 suggestions per free slot"
    assert (shortlists.groupby("candidate_id")["rank"].max() <= 10).all()
    ranks = shortlists.groupby("candidate_id")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))
    assert ranks.all(), "ranks run 1..n within each allocated shortlist"


def test_batch_follows_the_off_switch(trained, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from matching.store.audit import record_audit
    from matching.store.db import make_engine, session_scope
    from matching.store.schema import upgrade

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        record_audit(
            session, "test-scientist", "data_scientist", "scoring_off", "service", "scoring", {"reason": "review"}
        )
    engine.dispose()
    switched = {**env, "JOBMATCH_DATABASE_URL": url}
    out = tmp_path / "off.parquet"
    refused = jobmatch(*score_args(trained, out), env=switched, check=False)
    assert refused.returncode == 3 and "switched off" in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists()
    jobmatch(*score_args(trained, out, "--ignore-off-switch", "--top-k", "2"), env=switched)
    assert out.exists()
