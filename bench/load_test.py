"""The API under load: advisers' everyday mix from 50 concurrent clients for 60 seconds.

Setup, all in a temporary folder: a SYNTHETIC dataset (2,000 candidates x 3,000 workplaces,
seed 7), a champion trained and registered on it as the test suite does (MLflow in SQLite), an
SQLite store, and one API key per adviser for the ten advisers with the largest consenting,
active caseloads. Then `jobmatch serve` (uvicorn, one process, on loopback) and the clients.

Each client is one adviser's session (five clients per adviser): it asks for shortlists for
persons on its adviser's caseload and works on the shortlists it got, picking each next request
at random with these weights (a shortlist first, when it has none):

| request | weight |
| --- | ---: |
| `POST /shortlists` (a person of the caseload, top 10) | 20 |
| `GET /shortlists/{id}` | 20 |
| `POST /shortlists/{id}/answers` (1-3 ranks) | 15 |
| `POST /shortlists/{id}/decisions` (1-2 ranks; 30% accepts, which open plans) | 15 |
| `GET /advisers/{id}/follow-ups` | 15 |
| `GET /health` | 10 |
| `GET /model` | 5 |

Clients are closed-loop with no think time (each sends its next request when the last one is
answered), so this measures the service at saturation, not at a planned arrival rate. Every
response must be a 200: anything else, and any transport error, counts as an error.

Why a bounded asyncio + httpx script rather than locust: the flow is stateful (decisions and
answers go to the shortlists the same client was served), latencies are kept exactly rather than
in locust's rounded histogram buckets, the setup (data, training, keys, server) and the clients
live in one plain Python process without gevent's monkey-patching, and the summary is written as
the JSON below without parsing locust's CSV. On a 2-core machine the clients share the CPU with
the server; they cost about a millisecond of CPU per request.

Run: `python bench/load_test.py [--seconds 60] [--clients 50]`. Prints a table and writes
`bench/results/load.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, percentile, running_server  # noqa: E402

CANDIDATES, WORKPLACES, SEED, ADVISERS, TOP_K = 2000, 3000, 7, 10, 10
MIX: dict[str, int] = {
    "POST /shortlists": 20,
    "GET /shortlists/{id}": 20,
    "POST /shortlists/{id}/answers": 15,
    "POST /shortlists/{id}/decisions": 15,
    "GET /advisers/{id}/follow-ups": 15,
    "GET /health": 10,
    "GET /model": 5,
}
ANSWERS = ("interested", "not_interested", "unsure")


@dataclass
class Adviser:
    adviser_id: str
    key: str
    caseload: list[str]


def prepare(home: Path) -> tuple[Path, dict[str, str], list[Adviser]]:
    """Data, a registered champion, keys; returns the data folder, the server's env and the advisers."""
    import pandas as pd

    from serving.auth import Identity, add_key
    from training.lifecycle import log_and_register
    from training.synthetic import generate_dataset
    from training.train import train_ranker

    data = home / "data"
    tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
    log(f"generating {CANDIDATES} x {WORKPLACES} synthetic records (seed {SEED}) and training a champion")
    generate_dataset(data, CANDIDATES, WORKPLACES, seed=SEED)
    log_and_register(train_ranker(data, seed=0), tracking_uri)
    candidates = pd.read_parquet(data / "candidates.parquet")
    served = candidates[candidates["consent"] & candidates["active"]]
    keys_file = home / "api-keys.json"
    advisers = []
    for adviser_id in served["adviser_id"].value_counts().index[:ADVISERS]:
        caseload = served.loc[served["adviser_id"] == adviser_id, "candidate_id"].astype(str).tolist()
        identity = Identity(name=f"load-{adviser_id}", role="adviser", adviser_id=str(adviser_id))
        advisers.append(Adviser(str(adviser_id), add_key(keys_file, identity), caseload))
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "JOBMATCH_DATABASE_URL": f"sqlite:///{home / 'store.db'}",
        "JOBMATCH_API_KEYS_FILE": str(keys_file),
        "JOBMATCH_PSEUDONYM_KEY_FILE": str(home / "pseudonym.key"),
        "PYTHONWARNINGS": "ignore",
    }
    return data, env, advisers


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds, every answered request
    errors: Counter[str] = field(default_factory=Counter)  # "kind: what" -> count
    first_errors: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str, text: str = "") -> None:
        self.errors[f"{kind}: {what}"] += 1
        if len(self.first_errors) < 10:
            self.first_errors.append(f"{kind}: {what} {text[:200]}")


def request_for(kind: str, adviser: Adviser, shortlist: tuple[int, list[int]] | None, rng: random.Random) -> Any:
    """(method, url, json body) for one request of `kind`."""
    from matching.review import REASON_CODES

    if kind == "POST /shortlists" or shortlist is None:
        return "POST", "/shortlists", {"candidate_id": rng.choice(adviser.caseload), "top_k": TOP_K}
    shortlist_id, ranks = shortlist
    if kind == "GET /shortlists/{id}":
        return "GET", f"/shortlists/{shortlist_id}", None
    if kind == "POST /shortlists/{id}/answers":
        chosen = rng.sample(ranks, min(len(ranks), rng.randint(1, 3)))
        return (
            "POST",
            f"/shortlists/{shortlist_id}/answers",
            {"answers": [{"rank": r, "answer": rng.choice(ANSWERS)} for r in chosen]},
        )
    if kind == "POST /shortlists/{id}/decisions":
        decisions: list[dict[str, Any]] = []
        for rank in rng.sample(ranks, min(len(ranks), rng.randint(1, 2))):
            if rng.random() < 0.3:
                decisions.append({"rank": rank, "decision": "accept"})
            else:
                code = rng.choice(REASON_CODES)
                decision = {"rank": rank, "decision": "reject", "reason_code": code}
                if code == "other":
                    decision["reason_text"] = "the person wants to wait until after the summer"
                decisions.append(decision)
        return "POST", f"/shortlists/{shortlist_id}/decisions", {"decisions": decisions}
    if kind == "GET /advisers/{id}/follow-ups":
        return "GET", f"/advisers/{adviser.adviser_id}/follow-ups", None
    if kind == "GET /health":
        return "GET", "/health", None
    return "GET", "/model", None


async def run_client(url: str, adviser: Adviser, seed: int, until: float, results: Results) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    shortlists: list[tuple[int, list[int]]] = []  # this client's shortlists with suggestions (latest 5)
    headers = {"Authorization": f"Bearer {adviser.key}"}
    timeout = httpx.Timeout(60.0, connect=10.0)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, limits=limits) as client:
        await asyncio.sleep(rng.uniform(0, 1.0))  # clients start over the first second, not in one burst
        while time.monotonic() < until:
            kind = rng.choices(kinds, weights)[0] if shortlists else "POST /shortlists"
            shortlist = rng.choice(shortlists) if shortlists else None
            method, path, body = request_for(kind, adviser, shortlist, rng)
            started = time.perf_counter()
            try:
                response = await client.request(method, path, json=body)
            except httpx.HTTPError as error:
                results.error(kind, type(error).__name__, str(error))
                continue
            results.add(kind, time.perf_counter() - started)
            if response.status_code != 200:
                results.error(kind, f"HTTP {response.status_code}", response.text)
                continue
            if kind == "POST /shortlists":
                served = response.json()
                if served["items"]:
                    shortlists.append((served["shortlist_id"], [item["rank"] for item in served["items"]]))
                    del shortlists[:-5]


def summarise(latencies: list[float], errors: int, wall: float) -> dict[str, Any]:
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "requests_per_s": round((len(latencies) + errors) / wall, 1),
    }


async def drive(url: str, advisers: list[Adviser], clients: int, seconds: float) -> tuple[Results, float]:
    results = Results()
    start = time.monotonic()
    until = start + seconds
    tasks = [
        asyncio.create_task(run_client(url, advisers[i % len(advisers)], SEED * 1000 + i, until, results))
        for i in range(clients)
    ]
    await asyncio.gather(*tasks)
    return results, time.monotonic() - start


def warm_up(url: str, adviser: Adviser) -> None:
    """One request of each kind before the clock starts (first-call costs: imports, SHAP, caches)."""
    rng = random.Random(0)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {adviser.key}"}, timeout=60) as client:
        served = None
        for candidate_id in adviser.caseload:
            served = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": TOP_K}).json()
            if served["items"]:
                break
        assert served is not None and served["items"], "no person of the adviser's caseload has a suggestion"
        shortlist = (served["shortlist_id"], [item["rank"] for item in served["items"]])
        for kind in MIX:
            method, path, body = request_for(kind, adviser, shortlist, rng)
            response = client.request(method, path, json=body)
            if response.status_code != 200:
                raise SystemExit(f"warm-up {kind} answered {response.status_code}: {response.text[:300]}")


def table(overall: dict[str, Any], by_kind: dict[str, dict[str, Any]]) -> str:
    header = f"{'request':<34} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}"
    lines = [header, "-" * len(header)]
    for name, row in [*by_kind.items(), ("all", overall)]:
        lines.append(
            f"{name:<34} {row['requests']:>9} {row['errors']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['requests_per_s']:>7}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run (default 60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        home = Path(tmp)
        data, env, advisers = prepare(home)
        log_file = home / "server.log"
        with running_server(data, env, log_file) as url:
            warm_up(url, advisers[0])
            log(f"{args.clients} clients ({len(advisers)} advisers) for {args.seconds:g} s against {url}")
            results, wall = asyncio.run(drive(url, advisers, args.clients, args.seconds))
        server_errors = sum(1 for line in log_file.read_text(encoding="utf-8").splitlines() if '"ERROR"' in line)
    errors_by_kind: Counter[str] = Counter()
    for what, n in results.errors.items():
        errors_by_kind[what.split(": ")[0]] += n
    by_kind = {
        kind: summarise(results.latencies.get(kind, []), errors_by_kind.get(kind, 0), wall)
        for kind in MIX
        if results.latencies.get(kind) or errors_by_kind.get(kind)
    }
    every = [x for values in results.latencies.values() for x in values]
    overall = summarise(every, sum(results.errors.values()), wall)
    summary = {
        "what": "the API under an adviser mix: closed-loop clients without think time, jobmatch serve (uvicorn, "
        "one process) on loopback with an SQLite store; latency = request sent to response read, at the client",
        "clients": args.clients,
        "seconds": args.seconds,
        "wall_s": round(wall, 2),
        "dataset": f"synthetic {CANDIDATES} candidates x {WORKPLACES} workplaces, seed {SEED}; top_k {TOP_K}",
        "advisers": len(advisers),
        "mix_weights": MIX,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "overall": overall,
        "by_request": by_kind,
        "errors_by_kind": dict(results.errors),
        "first_errors": results.first_errors,
        "server_error_log_lines": server_errors,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(overall, by_kind))
    print(f"\nwall {wall:.1f} s; server error log lines: {server_errors}; written to {args.out}")
    if overall["errors"]:
        print(f"errors: {dict(results.errors)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
