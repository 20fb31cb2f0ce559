"""generate -> validate -> train -> register/promote -> serve (uvicorn on loopback) -> score,
through the `jobmatch` command as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def jobmatch(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "jobmatch", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"jobmatch {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    store = tmp_path_factory.mktemp("store")
    return isolated_env(store, MLFLOW_TRACKING_URI=f"sqlite:///{store / 'mlflow.db'}")


def isolated_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment for running `jobmatch` in a test: the project's own data folder is never
    written (its store, keys and pseudonym key stay the user's), everything goes to `home`."""
    return {
        **os.environ,
        "JOBMATCH_DATABASE_URL": f"sqlite:///{home / 'store.db'}",
        "JOBMATCH_API_KEYS_FILE": str(home / "api-keys.json"),
        "JOBMATCH_PSEUDONYM_KEY_FILE": str(home / "pseudonym.key"),
        "PYTHONWARNINGS": "ignore",
        **settings,
    }


def test_generate_train_serve_and_score(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "data"
    jobmatch("generate", "--out", str(data), "--candidates", "500", "--workplaces", "800", "--seed", "5", env=env)
    assert "valid" in jobmatch("validate", "--data", str(data), env=env).stdout

    first = jobmatch("train", "--data", str(data), env=env)
    assert "all_eligible:" in first.stdout and "oracle" in first.stdout
    assert "is now champion" in first.stdout
    second = jobmatch("train", "--data", str(data), env=env)  # same data, same seed: no better
    assert "champion stays v1" in second.stdout

    out = tmp_path / "shortlists.parquet"
    jobmatch("score", "--data", str(data), "--out", str(out), "--top-k", "5", env=env)
    shortlists = pd.read_parquet(out)
    assert list(shortlists.columns[:7]) == [
        "candidate_id",
        "rank",
        "workplace_id",
        "score",
        "reason_1",
        "reason_2",
        "reason_3",
    ]
    assert shortlists.groupby("candidate_id")["rank"].max().max() == 5
    assert (shortlists["model_version"] == "1").all()

    key = jobmatch("keys", "add", "--name", "e2e-batch", "--role", "batch", env=env).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jobmatch", "serve", "--data", str(data), "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=headers) as client:
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail("the API did not come up on loopback")
            candidate_id = shortlists["candidate_id"].iloc[0]
            body = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 5}).json()
            batch = shortlists[shortlists["candidate_id"] == candidate_id]
            assert [i["workplace_id"] for i in body["items"]] == batch["workplace_id"].tolist()
            np.testing.assert_allclose([i["score"] for i in body["items"]], batch["score"].to_numpy())
            assert body["model"]["version"] == "1"
            assert isinstance(body["shortlist_id"], int)
            assert (
                client.post(
                    "/shortlists", json={"candidate_id": candidate_id}, headers={"Authorization": "Bearer x"}
                ).status_code
                == 401
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_bad_input_gets_a_message_not_a_traceback(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "bad"
    jobmatch("generate", "--out", str(data), "--candidates", "40", "--workplaces", "60", "--seed", "1", env=env)
    workplaces = pd.read_parquet(data / "workplaces.parquet")
    workplaces.loc[3, "occupation_code"] = "0001"
    workplaces.loc[5, "past_hires"] = workplaces.loc[5, "past_placements"] + 1
    workplaces.to_parquet(data / "workplaces.parquet")
    for args in (
        ("validate", "--data", str(data)),
        ("train", "--data", str(data)),
        ("score", "--data", str(data), "--out", str(tmp_path / "x.parquet")),
        ("validate", "--data", str(tmp_path / "missing")),
        (
            "score",
            "--data",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "x.parquet"),
            "--model",
            "models:/nope@none",
        ),
        ("generate", "--out", str(tmp_path / "g"), "--candidates", "0"),
    ):
        result = jobmatch(*args, env=env, check=False)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr + result.stdout, (args, result.stderr)
    report = jobmatch("validate", "--data", str(data), env=env, check=False).stdout
    assert "workplaces.occupation_code row 3: unknown occupation code" in report
    assert "workplaces.past_hires row 5: past_hires > past_placements" in report
