"""A new champion reaches the running API without a restart, and a broken one does not: `jobmatch
serve` on loopback under concurrent shortlist requests; v2 is promoted and reloaded mid-run, then
a champion with another feature registry's features is promoted and refused.

How the checks can tell:
- every response names the version that scored it; its scores are recomputed here with that
  version's ranker (v1 and v2 are trained with different seeds, so their scores differ): a
  response that mixed models, or named the wrong one, would not match;
- requests sent after the reload answered are all v2, requests answered before it began all v1;
- each recorded shortlist in the store names the same version as its response;
- no request fails, not during the swap nor during the refused reload.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NAME = "jobmatch-ranker"
THREADS = 6
PHASE_SECONDS = 2.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Store:
    home: Path
    data: Path
    uri: str
    client: MlflowClient
    v1: str
    v2: str
    broken: str  # the features of another feature registry
    env: dict[str, str]
    batch: dict[str, str]
    scientist: dict[str, str]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from serving.auth import Identity, add_key
    from training.lifecycle import log_and_register
    from training.synthetic import generate_dataset
    from training.train import train_ranker

    home = tmp_path_factory.mktemp("reload")
    data = home / "data"
    generate_dataset(data, 600, 900, seed=13)
    uri = f"sqlite:///{home / 'mlflow.db'}"
    v1 = log_and_register(train_ranker(data, seed=0), uri).version
    v2 = log_and_register(train_ranker(data, seed=1), uri).version  # promoted or not, moved by hand below
    client = MlflowClient(uri, uri)
    client.set_registered_model_alias(NAME, "champion", v1)

    # v1 as a model of an older feature registry would be: its metadata lists other features
    source = client.get_model_version(NAME, v1).source
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(home / "other")))
    meta_path = local / "artifacts" / "ranker.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["features"] = meta["features"][:-1]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    broken = str(
        client.create_model_version(
            NAME, source=local.as_uri(), run_id=client.get_model_version(NAME, v1).run_id
        ).version
    )

    keys = home / "keys.json"
    batch = add_key(keys, Identity(name="load-batch", role="batch"))
    scientist = add_key(keys, Identity(name="load-scientist", role="data_scientist"))
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "JOBMATCH_DATABASE_URL": f"sqlite:///{home / 'store.db'}",
        "JOBMATCH_API_KEYS_FILE": str(keys),
        "PYTHONWARNINGS": "ignore",
    }
    return Store(
        home,
        data,
        uri,
        client,
        str(v1),
        str(v2),
        broken,
        env,
        {"Authorization": f"Bearer {batch}"},
        {"Authorization": f"Bearer {scientist}"},
    )


@dataclass
class Result:
    sent: float
    done: float
    status: int
    candidate_id: str
    version: str | None = None
    shortlist_id: int | None = None
    scores: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def drive(
    url: str, headers: dict[str, str], candidates: list[str], seed: int, stop: threading.Event, out: list[Result]
) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(30.0, connect=5.0)) as client:
        while not stop.is_set():
            candidate_id = rng.choice(candidates)
            sent = time.monotonic()
            try:
                response = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 5})
            except httpx.HTTPError as error:
                out.append(Result(sent, time.monotonic(), 0, candidate_id, error=f"{type(error).__name__}: {error}"))
                continue
            result = Result(sent, time.monotonic(), response.status_code, candidate_id)
            if response.status_code == 200:
                body = response.json()
                result.version = body["model"]["version"]
                result.shortlist_id = body["shortlist_id"]
                result.scores = {item["workplace_id"]: item["score"] for item in body["items"]}
            else:
                result.error = response.text[:300]
            out.append(result)


def test_a_promoted_champion_is_reloaded_under_load_and_a_broken_one_is_refused(store: Store, tmp_path: Path) -> None:
    import pandas as pd
    from sqlalchemy import select

    from matching.candidates import CandidateTable, WorkplacePool
    from matching.shortlist import Matcher
    from matching.store.db import make_engine, session_scope
    from matching.store.models import Shortlist
    from serving.loading import load_ranker

    candidates = pd.read_parquet(store.data / "candidates.parquet")
    served = candidates.loc[candidates["consent"] & candidates["active"], "candidate_id"].astype(str).tolist()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jobmatch", "serve", "--data", str(store.data), "--port", str(port)],
            env=store.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stop = threading.Event()
    results: list[list[Result]] = [[] for _ in range(THREADS)]
    threads: list[threading.Thread] = []
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    pytest.fail(f"the server exited:\n{log_path.read_text(errors='replace')[-3000:]}")
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            else:
                pytest.fail("the API did not come up on loopback")
            assert client.get("/health").json()["model_version"] == store.v1

            threads = [
                threading.Thread(target=drive, args=(url, store.batch, served, i, stop, results[i]), daemon=True)
                for i in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(PHASE_SECONDS)

            # promote v2 and reload, mid-run
            store.client.set_registered_model_alias(NAME, "champion", store.v2)
            reload_began = time.monotonic()
            response = client.post("/model/reload", json={"reason": "v2 promoted"}, headers=store.scientist)
            reload_done = time.monotonic()
            assert response.status_code == 200, response.text
            assert response.json()["version"] == store.v2 and response.json()["previous_version"] == store.v1
            time.sleep(PHASE_SECONDS)

            # promote a model of other features: refused, v2 keeps serving
            store.client.set_registered_model_alias(NAME, "champion", store.broken)
            response = client.post("/model/reload", headers=store.scientist)
            refused_done = time.monotonic()
            assert response.status_code == 422, response.text
            assert (
                "differ" in response.json()["detail"]
                and f"version {store.v2} keeps serving" in response.json()["detail"]
            )
            health = client.get("/health")
            assert health.status_code == 200
            assert health.json()["status"] == "ok" and health.json()["model_version"] == store.v2
            assert "differ" in health.json()["last_reload_error"]
            time.sleep(PHASE_SECONDS / 2)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)
            metrics = client.get("/metrics").text
            assert 'jobmatch_model_reloads_total{outcome="loaded",trigger="api"} 1.0' in metrics
            assert 'jobmatch_model_reloads_total{outcome="refused",trigger="api"} 1.0' in metrics
            assert f'version="{store.v2}"' in metrics
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        for thread in threads:
            thread.join(timeout=30)
        store.client.set_registered_model_alias(NAME, "champion", store.v1)

    every = [r for per_thread in results for r in per_thread]
    failed = [r for r in every if r.status != 200]
    assert not failed, f"{len(failed)} of {len(every)} requests failed: {[(r.status, r.error) for r in failed[:5]]}"
    versions = {r.version for r in every}
    assert versions == {store.v1, store.v2}, versions
    before = [r for r in every if r.done < reload_began]
    after = [r for r in every if r.sent > reload_done]
    after_refusal = [r for r in every if r.sent > refused_done]
    assert before and after and after_refusal, (len(before), len(after), len(after_refusal))
    assert {r.version for r in before} == {store.v1}
    assert {r.version for r in after} == {store.v2}, "a request sent after the reload was scored by v1"
    print(
        f"{len(every)} requests, {len(before)} before the reload, {len(after)} after it "
        f"({len(after_refusal)} after the refused one); "
        f"{sum(r.sent <= reload_done and r.done >= reload_began for r in every)} in flight during the swap"
    )

    # each response's scores are those of the version it names
    dataset_candidates = CandidateTable.build(candidates)
    served = [pd.read_parquet(store.data / f"{name}.parquet") for name in ("workplaces", "outcomes")]
    pool = WorkplacePool(served[0], outcomes=served[1])  # as served: the employer history up to now
    positions = dataset_candidates.positions()
    matchers = {
        version: Matcher(load_ranker(f"models:/{NAME}/{version}", store.uri).ranker, dataset_candidates, pool)
        for version in (store.v1, store.v2)
    }
    differ = 0
    workplace_ids = pool.frame["workplace_id"].to_numpy()
    for r in [r for r in every if r.version == store.v1][:60] + [r for r in every if r.version == store.v2][:60]:
        own, other = (
            matchers[v].score_rows(np.array([positions[r.candidate_id]]))
            for v in (r.version, ({store.v1, store.v2} - {r.version}).pop())
        )
        own_scores = dict(zip(workplace_ids[own.w_idx], own.scores, strict=True))
        other_scores = dict(zip(workplace_ids[other.w_idx], other.scores, strict=True))
        for workplace_id, score in r.scores.items():
            assert score == pytest.approx(own_scores[workplace_id], rel=1e-9, abs=1e-12), (r.version, workplace_id)
            differ += abs(other_scores[workplace_id] - score) > 1e-6
    assert differ > 0, "v1 and v2 score alike: the check could not tell them apart"

    # the recorded shortlists name the same version as their responses
    engine = make_engine(store.env["JOBMATCH_DATABASE_URL"])
    try:
        with session_scope(engine, readonly=True) as session:
            recorded = {row[0]: row[1] for row in session.execute(select(Shortlist.id, Shortlist.model_version))}
    finally:
        engine.dispose()
    assert all(recorded[r.shortlist_id] == r.version for r in every)

    # the server's logs are JSON lines with a request id, and the request lines name the version
    lines = [json.loads(line) for line in log_path.read_text(errors="replace").splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "jobmatch.requests" and line["route"] == "/shortlists"]
    assert len(requests) == len(every)
    assert {line["model_version"] for line in requests} == {store.v1, store.v2}
    assert all(line["request_id"] for line in requests)
    assert any(line.get("logger") == "jobmatch.serving" and "refused" in line["message"] for line in lines)
    assert '"POST /shortlists HTTP/1.1" 200' not in log_path.read_text(errors="replace"), "uvicorn's access log is on"
