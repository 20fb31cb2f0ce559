"""Decisions per second through the API, on SQLite and on PostgreSQL.

For each backend: one `jobmatch serve` (uvicorn on loopback) over a small SYNTHETIC dataset with a
champion trained on it, a fresh store (an SQLite file in a temporary folder; a PostgreSQL database
with a random name on 127.0.0.1:5432, dropped after), one shortlist per client made before the run.
Then N concurrent clients (threads, one httpx.Client each) post decision requests, one decision each,
for a fixed time: each client alternates accept and reject (with a reason) on the ranks of its own
shortlist, so after the first round every request is a correction. Each 200 is a committed write.

Reported per backend: requests/s (200s only), p50/p99 latency of the 200s, errors (non-200 and
transport errors, by kind), and requests/s in the first and the last fifth of the run (each
response carries the whole shortlist with every item's history, which grows with the run).

Run: `python bench/bench_review.py [--clients 8] [--seconds 10] [--quick]`. The summary is printed
as JSON and written to `bench/results/review.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import log, percentile, running_server  # noqa: E402

PG_SERVER_URL = os.environ.get("JOBMATCH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CANDIDATES, WORKPLACES, SEED, TOP_K = 300, 500, 13, 5


def jobmatch(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "jobmatch", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise SystemExit(f"jobmatch {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the PostgreSQL server (dropped after), or None when none answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server_url = make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg")
    server = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with server.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # no server: the PostgreSQL figures are skipped
        log(f"PostgreSQL at {server_url.render_as_string(hide_password=True)} does not answer: {error}")
        server.dispose()
        yield None
        return
    name = f"jobmatch_bench_{secrets.token_hex(6)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, 200s only
    finished: list[float] = field(default_factory=list)  # monotonic completion times of the 200s
    errors: Counter[str] = field(default_factory=Counter)


def run_client(url: str, key: str, shortlist_id: int, ranks: list[int], until: float, result: ClientResult) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    reasons = ["too_far", "task_mismatch", "workplace_not_ready"]
    with httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(30.0, connect=5.0)) as client:
        n = 0
        while time.monotonic() < until:
            rank = ranks[n % len(ranks)]
            if (n // len(ranks)) % 2 == 0:
                decision: dict[str, Any] = {"rank": rank, "decision": "accept"}
            else:
                decision = {"rank": rank, "decision": "reject", "reason_code": reasons[n % len(reasons)]}
            n += 1
            start = time.perf_counter()
            try:
                response = client.post(f"/shortlists/{shortlist_id}/decisions", json={"decisions": [decision]})
            except httpx.TransportError as error:
                result.errors[type(error).__name__] += 1
                continue
            elapsed = time.perf_counter() - start
            if response.status_code == 200:
                result.latencies.append(elapsed)
                result.finished.append(time.monotonic())
            else:
                result.errors[f"HTTP {response.status_code}"] += 1


def bench_backend(
    backend: str, database_url: str, data: Path, base_env: dict[str, str], home: Path, clients: int, seconds: float
) -> dict[str, Any]:
    folder = home / backend
    folder.mkdir()
    env = {**base_env, "JOBMATCH_DATABASE_URL": database_url, "JOBMATCH_API_KEYS_FILE": str(folder / "keys.json")}
    candidates = pd.read_parquet(data / "candidates.parquet")
    served = candidates[candidates["consent"] & candidates["active"]]
    adviser_id = str(served["adviser_id"].value_counts().index[0])
    ids = served.loc[served["adviser_id"] == adviser_id, "candidate_id"].astype(str).tolist()
    key = jobmatch("keys", "add", "--name", "bench", "--role", "adviser", "--adviser-id", adviser_id, env=env).strip()
    with running_server(data, env, folder / "server.log") as url:
        shortlists: list[tuple[int, list[int]]] = []
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
            for candidate_id in ids:
                response = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": TOP_K})
                response.raise_for_status()
                body = response.json()
                if len(body["items"]) >= 2:
                    shortlists.append((body["shortlist_id"], [item["rank"] for item in body["items"]]))
                if len(shortlists) == clients:
                    break
            if not shortlists:
                raise SystemExit("no candidate of the adviser has two suggestions or more")
            # warm up (connections, the first plans), not counted
            warm_id, warm_ranks = shortlists[0]
            for rank in warm_ranks:
                client.post(
                    f"/shortlists/{warm_id}/decisions", json={"decisions": [{"rank": rank, "decision": "accept"}]}
                )
        results = [ClientResult() for _ in range(clients)]
        start = time.monotonic()
        until = start + seconds
        threads = [
            threading.Thread(target=run_client, args=(url, key, *shortlists[i % len(shortlists)], until, results[i]))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        if any(thread.is_alive() for thread in threads):
            raise SystemExit(f"{backend}: clients still running {seconds + 120} s after the end")
        wall = time.monotonic() - start
    latencies = [x for r in results for x in r.latencies]
    finished = [x for r in results for x in r.finished]
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.errors)
    fifth = seconds / 5
    first = sum(1 for t in finished if t < start + fifth) / fifth
    last = sum(1 for t in finished if until - fifth <= t < until) / fifth
    summary = {
        "requests_per_s": round(len(latencies) / wall, 1),
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "requests_per_s_first_fifth": round(first, 1),
        "requests_per_s_last_fifth": round(last, 1),
        "wall_s": round(wall, 2),
        "shortlists": len(shortlists),
    }
    log(f"{backend}: {json.dumps(summary)}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration per backend (default 10)")
    parser.add_argument("--quick", action="store_true", help="a short run (2 s per backend)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "review.json")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    if args.clients < 1 or seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}", "PYTHONWARNINGS": "ignore"}
        data = home / "data"
        log(f"generating {CANDIDATES} x {WORKPLACES} synthetic records and training a champion")
        jobmatch("generate", "--out", str(data), "--candidates", str(CANDIDATES), "--workplaces", str(WORKPLACES),
                 "--seed", str(SEED), env=env)  # fmt: skip
        jobmatch("train", "--data", str(data), env=env)
        backends: dict[str, Any] = {}
        log(f"sqlite: {args.clients} clients for {seconds} s")
        backends["sqlite"] = bench_backend(
            "sqlite", f"sqlite:///{home / 'store.db'}", data, env, home, args.clients, seconds
        )
        with postgres_database() as url:
            if url is None:
                backends["postgresql"] = {"skipped": f"PostgreSQL at {PG_SERVER_URL.split('@')[-1]} does not answer"}
            else:
                log(f"postgresql: {args.clients} clients for {seconds} s")
                backends["postgresql"] = bench_backend("postgresql", url, data, env, home, args.clients, seconds)
    results = {
        "what": "POST /shortlists/{id}/decisions, one decision per request (accept/reject corrections), "
        "through uvicorn on loopback; requests/s counts 200s (committed writes)",
        "clients": args.clients,
        "seconds": seconds,
        "quick": args.quick,
        "dataset": f"synthetic {CANDIDATES} candidates x {WORKPLACES} workplaces, top_k {TOP_K}",
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "backends": backends,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
