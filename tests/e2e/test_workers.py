"""`jobmatch serve --workers 2` for real on loopback, on SQLite and on PostgreSQL: both workers
answer (each response names its process in `X-Worker`), and what one worker is told is served
by the other from its next request on: the off switch, a reloaded model version, a suggestion
(counted as congestion), a live edit of a person. A worker killed with SIGKILL is replaced within
seconds (a new process at once, serving once it has loaded the records and the model) while the
other keeps serving; when the supervisor itself is killed, its workers stop.

A request goes to whichever worker accepts it, so a check "on the other worker" sends a fresh
connection until a worker other than the one that took the change answers (bounded)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow import MlflowClient
from sqlalchemy import create_engine

from matching.clock import utc_now
from matching.store.db import session_scope
from matching.store.shortlists import live_suggestions
from tests.conftest import Trained
from tests.postgres import fresh_postgres_database

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NAME = "jobmatch-ranker"
TRIES = 300
# uvicorn looks at its workers every 0.5 s (a ping of each, up to 5 s for a busy one): seconds, even
# on a loaded machine
REPLACED_WITHIN = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alive(pid: int) -> bool:
    """The process runs (an exited one not yet reaped by its new parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> set[int]:
    """The running child processes of `pid` (the supervisor's workers and its helper process)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return {child for child in found if alive(child)}


class Service:
    """`jobmatch serve --workers 2` as a subprocess; requests on fresh connections."""

    def __init__(self, trained: Trained, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.keys = trained.keys
        command = [sys.executable, "-m", "jobmatch", "serve", "--workers", "2", "--data", str(trained.data_dir)]
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.seen: set[int] = set()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])

    def request(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Connection": "close", **({"Authorization": f"Bearer {self.keys[key]}"} if key else {})}
        response = httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
        self.seen.add(int(response.headers["x-worker"]))
        return response

    def on_other(self, than: int, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        """The answer of a worker other than `than` (fresh connections until one answers)."""
        for _ in range(TRIES):
            response = self.request(method, path, key, **kwargs)
            if int(response.headers["x-worker"]) != than:
                return response
        pytest.fail(f"no worker but {than} answered in {TRIES} requests")

    def wait_healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the service exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if self.request("GET", "/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        pytest.fail(f"no answer from /health in {seconds} s:\n{self.tail()}")

    def workers(self, count: int) -> set[int]:
        """The pids of `count` distinct workers that answered /health."""
        answered: set[int] = set()
        for _ in range(TRIES):
            response = self.request("GET", "/health")
            assert response.status_code == 200, response.text
            answered.add(int(response.headers["x-worker"]))
            if len(answered) == count:
                return answered
        pytest.fail(f"only workers {answered} answered in {TRIES} requests:\n{self.tail()}")


@contextmanager
def running(trained: Trained, env: dict[str, str], log: Path) -> Iterator[Service]:
    service = Service(trained, env, log)
    try:
        service.wait_healthy()
        yield service
    finally:
        if service.process.poll() is None:
            service.process.terminate()
            service.process.wait(timeout=30)
        for pid in service.seen:  # no worker may outlive the test
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with fresh_postgres_database("jobmatch_workers", "the workers test") as url:
        yield url


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {seconds} s")


def test_two_workers_serve_alike_and_a_killed_worker_is_replaced(
    trained: Trained, database_url: str, tmp_path: Path
) -> None:
    # a registry of our own (the session's stays untouched): version 2 is version 1's model again
    shutil.copy(trained.tracking_uri.removeprefix("sqlite:///"), tmp_path / "mlflow.db")
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "JOBMATCH_DATABASE_URL": database_url,
        "JOBMATCH_API_KEYS_FILE": str(trained.home / "api-keys.json"),
        "JOBMATCH_PSEUDONYM_KEY_FILE": str(tmp_path / "pseudonym.key"),
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("JOBMATCH_WORKERS", None)
    candidates = trained.dataset.candidates
    served = candidates[candidates["consent"] & candidates["active"]]
    caseload = served.loc[served["adviser_id"] == served["adviser_id"].iloc[0], "candidate_id"].astype(str).tolist()
    assert len(caseload) >= 4

    with running(trained, env, tmp_path / "serve.log") as service:
        first = service.workers(2)

        # the off switch, set through one worker, holds on the other at its next request
        off = service.request("POST", "/model/off", "scientist", json={"reason": "checking the workers"})
        assert off.status_code == 200, off.text
        a = int(off.headers["x-worker"])
        assert service.on_other(a, "GET", "/model/scoring", "scientist").json()["scoring"] == "rule"
        on = service.request("POST", "/model/on", "scientist", json={"reason": "checked"})
        assert service.on_other(int(on.headers["x-worker"]), "GET", "/health").json()["scoring"] == "model"

        # a reload through one worker: the other serves the same new version from its next request
        client = MlflowClient(tracking_uri, tracking_uri)
        v1 = client.get_model_version(NAME, "1")
        v2 = str(client.create_model_version(NAME, v1.source, run_id=v1.run_id).version)
        client.set_registered_model_alias(NAME, "champion", v2)
        reloaded = service.request("POST", "/model/reload", "scientist")
        assert reloaded.status_code == 200 and reloaded.json()["version"] == v2, reloaded.text
        other = service.on_other(int(reloaded.headers["x-worker"]), "GET", "/health").json()
        assert other["model_version"] == v2 and other["last_reload_at"] is not None, other

        # congestion: a suggestion one worker records counts in the other's very next shortlist
        asker, others = caseload[0], caseload[1:]
        before = service.request("POST", "/shortlists", "adviser", json={"candidate_id": asker, "top_k": 10})
        assert before.status_code == 200, before.text
        counts = {item["workplace_id"]: item["congestion"]["live_suggestions"] for item in before.json()["items"]}
        shared = None
        for person in others:
            sent = service.request("POST", "/shortlists", "adviser", json={"candidate_id": person, "top_k": 10})
            assert sent.status_code == 200, sent.text
            shared = next((i["workplace_id"] for i in sent.json()["items"] if i["workplace_id"] in counts), None)
            if shared is not None:
                break
        assert shared is not None, "no other person of the caseload shares a suggestion with the first"
        after = service.on_other(
            int(sent.headers["x-worker"]), "POST", "/shortlists", "adviser", json={"candidate_id": asker, "top_k": 10}
        ).json()
        live = {item["workplace_id"]: item["congestion"]["live_suggestions"] for item in after["items"]}
        if shared in live:
            assert live[shared] >= counts[shared] + 1, (shared, counts, live)
        # and every count the other worker served is the store's
        engine = create_engine(database_url)
        with session_scope(engine, readonly=True) as session:
            stored = live_suggestions(session, utc_now() - dt.timedelta(days=trained.settings().congestion_window_days))
        engine.dispose()
        for workplace_id, count in live.items():
            assert count == len(stored.get(workplace_id, set()) - {asker}), (workplace_id, count)

        # a live edit through one worker: the other serves it at once
        person = others[-1]
        edited = service.request("PATCH", f"/candidates/{person}", "adviser", json={"active": False})
        assert edited.status_code == 200, edited.text
        refused = service.on_other(
            int(edited.headers["x-worker"]), "POST", "/shortlists", "adviser", json={"candidate_id": person}
        )
        assert refused.status_code == 409, refused.text

        # each worker froze what it loaded out of the garbage collector's passes (serving.heap)
        one = service.request("GET", "/metrics")
        for metrics in (one, service.on_other(int(one.headers["x-worker"]), "GET", "/metrics")):
            frozen = re.search(r"^jobmatch_gc_frozen_objects (\S+)$", metrics.text, re.MULTILINE)
            assert frozen and float(frozen.group(1)) > 100_000, (metrics.headers["x-worker"], frozen)

        # one worker killed: the other keeps serving, and a new worker takes the place of the dead one
        # at once (a new process of the supervisor), serving once it has loaded the records and the model
        survivor = (first - {victim := sorted(first)[0]}).pop()
        processes = children(service.process.pid)  # the workers and the supervisor's helper process
        assert processes >= first
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        newcomer, answered_by = None, 0
        while newcomer is None or answered_by != newcomer:
            assert time.monotonic() - killed < 120, f"the new worker did not serve within 120 s:\n{service.tail()}"
            response = service.request("GET", "/health")
            assert response.status_code == 200, response.text  # nobody waits for the dead worker
            answered_by = int(response.headers["x-worker"])
            assert answered_by != victim
            new = children(service.process.pid) - processes
            if newcomer is None and new:
                newcomer = new.pop()
                assert time.monotonic() - killed < REPLACED_WITHIN, f"replaced only after {REPLACED_WITHIN} s"
            if newcomer is None:
                assert time.monotonic() - killed < REPLACED_WITHIN, f"not replaced within {REPLACED_WITHIN} s"
            time.sleep(0.05)
        assert service.seen - first == {newcomer}

        # the supervisor killed: its workers do not serve on as orphans
        workers = {survivor, newcomer}
        os.kill(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in workers), 10, "the workers did not stop after their supervisor")
