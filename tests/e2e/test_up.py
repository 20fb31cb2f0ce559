"""The main job as a newcomer starts it (`jobmatch up`, what `make run` runs): on an empty folder
and an empty MLflow store it generates the synthetic sample, trains and registers a champion,
writes a local adviser key and serves; the service answers healthy on loopback. A real process,
stopped at the end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_trains_a_champion_on_a_fresh_machine_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "JOBMATCH_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "JOBMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "JOBMATCH_API_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    log = (tmp_path / "up.log").open("w")
    command = [sys.executable, "-m", "jobmatch", "up", "--data", str(tmp_path / "data"), "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(1)
        output = (tmp_path / "up.log").read_text(encoding="utf-8")
        assert status is not None, f"not serving (exit {process.poll()}):\n{output[-3000:]}"
        assert status["status"] == "ok" and status["model_version"] == "1", status
        assert "training a champion" in output and (tmp_path / "keys.json").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
