"""The API under load, the code as it was (a baseline commit) and as it is, on the same data with
the same client in one run: the advisers' everyday mix, closed-loop at saturation, or advisers
with think time ramped up until the latency target no longer holds.

Setup, all in a temporary folder: a SYNTHETIC dataset (2,000 candidates x 3,000 workplaces,
seed 7), a champion trained and registered on it as the test suite does (MLflow in SQLite), and
one API key per adviser for the ten advisers with the largest consenting, active caseloads. Each
server gets a store of its own (an SQLite file, or with `--database postgresql://...` a fresh
database on that server, dropped after), filled from the dataset at its first start.

The two servers, one after the other on loopback:
- baseline: the commit `--baseline` (default dd15a43, one uvicorn process as it served then)
  unpacked with `git archive` into a temporary folder and run from there with the same venv
  (`PYTHONPATH` pointing at that folder);
- current: this tree, `jobmatch serve --workers N` (default: the number of cores).

Each client is one adviser's session (the sessions are spread over the ten advisers): it asks for
shortlists for persons on its adviser's caseload and works on the shortlists it got, picking each
next request at random with these weights (a shortlist first, when it has none):

| request | weight |
| --- | ---: |
| `POST /shortlists` (a person of the caseload, top 10) | 20 |
| `GET /shortlists/{id}` | 20 |
| `POST /shortlists/{id}/answers` (1-3 ranks) | 15 |
| `POST /shortlists/{id}/decisions` (1-2 ranks; 30% accepts, which open plans) | 15 |
| `GET /advisers/{id}/follow-ups` | 15 |
| `GET /health` | 10 |
| `GET /model` | 5 |

Modes:
- closed loop (default): `--clients` sessions (50) each send the next request as soon as the last
  is answered, for `--seconds` (60): the service at saturation. Targets on a 2-core machine, the
  client included: requests/s at least 5x the baseline's, p99 <= 300 ms, reads (GET) p99 <= 50 ms,
  no errors.
- think time (`--think 5-30`): each adviser sends one request, then waits a uniformly random
  5-30 s, and so on; the number of advisers is ramped up in stages (`--stages`, each
  `--stage-seconds` long, advisers added at random moments over the first think interval) and
  the run reports the most advisers served with p99 <= `--p99-ms` (200) and no errors. A
  stage's latencies are those of the requests sent during it.

Every response must be a 200: anything else, and any transport error, counts as an error.
Latency is request sent to response read, at the client. The client freezes its own heap before
it measures (`gc.freeze`): else its garbage collector's full passes (240 ms in this process)
hold back every response it is reading, and its pauses, not the server's, make the p99.

The client is aiohttp on uvloop (when installed): all sessions in one event loop, one connection
pool. `--client httpx` runs the same flow on httpx to compare; the summary gives the client's own
CPU time per request (measured on the mix, on a loaded machine: aiohttp 2.3-2.6 ms, httpx 8-10 ms).
On a 2-core machine the clients share the CPU with the servers.

Run: `python bench/load_test.py [--seconds 60] [--clients 50] [--workers N] [--think 5-30]
[--database postgresql://...] [--only current]`. Prints a table per server and the ratios, and
writes `bench/results/load.json` (`load-think.json` with `--think`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, percentile, running_server  # noqa: E402
from load_client import Client, Results, make_client  # noqa: E402

CANDIDATES, WORKPLACES, SEED, ADVISERS, TOP_K = 2000, 3000, 7, 10, 10
BASELINE = "dd15a43"
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
STAGES = (100, 250, 500, 1000, 1500, 2000, 2500, 3000, 4000)


@dataclass
class Adviser:
    adviser_id: str
    key: str
    caseload: list[str]


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


def prepare(home: Path) -> tuple[Path, dict[str, str], list[Adviser]]:
    """Data, a registered champion, keys; returns the data folder, the servers' env (without a
    store) and the advisers."""
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
        "JOBMATCH_API_KEYS_FILE": str(keys_file),
        "JOBMATCH_PSEUDONYM_KEY_FILE": str(home / "pseudonym.key"),
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("JOBMATCH_WORKERS", None)
    return data, env, advisers


@contextlib.contextmanager
def store(home: Path, name: str, database: str | None) -> Iterator[str]:
    """A new, empty store for one server: an SQLite file, or a database created on the PostgreSQL
    server of `database` (dropped after)."""
    if not database:
        yield f"sqlite:///{home / f'{name}.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database).set(drivername="postgresql+psycopg")
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    db = f"bench_{name}_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield url.set(database=db).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        server.dispose()


@contextlib.contextmanager
def baseline_tree(commit: str, home: Path) -> Iterator[Path]:
    """The code of `commit`, unpacked from git into a folder (the venv is the same)."""
    folder = home / f"code-{commit}"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    yield folder


# The sessions -----------------------------------------------------------------------------------


async def session(
    client: Client, adviser: Adviser, seed: int, until: float, results: Results, think: tuple[float, float] | None
) -> None:
    """One adviser's session until `until`: closed loop, or one request per think interval."""
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    shortlists: list[tuple[int, list[int]]] = []  # this session's shortlists with suggestions (latest 5)
    await asyncio.sleep(rng.uniform(0, think[1] if think else 1.0))  # not all in one burst
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0] if shortlists else "POST /shortlists"
        method, path, body = request_for(kind, adviser, rng.choice(shortlists) if shortlists else None, rng)
        sent = time.monotonic()
        try:
            status, answer, text = await client.send(method, path, adviser.key, body)
        except Exception as error:  # noqa: BLE001  (any transport failure is an error of the run)
            results.error(kind, sent, type(error).__name__, str(error))
        else:
            results.add(kind, sent, time.monotonic() - sent)
            if status != 200:
                results.error(kind, sent, f"HTTP {status}", text)
            elif kind == "POST /shortlists" and answer["items"]:
                shortlists.append((answer["shortlist_id"], [item["rank"] for item in answer["items"]]))
                del shortlists[:-5]
        if think:
            await asyncio.sleep(rng.uniform(*think))


async def closed_loop(url: str, advisers: list[Adviser], clients: int, seconds: float, kind: str) -> Results:
    client = make_client(kind, url)
    results = Results()
    until = time.monotonic() + seconds
    try:
        await asyncio.gather(
            *(
                session(client, advisers[i % len(advisers)], SEED * 1000 + i, until, results, None)
                for i in range(clients)
            )
        )
    finally:
        await client.close()
    return results


async def ramp(
    url: str,
    advisers: list[Adviser],
    think: tuple[float, float],
    stages: list[int],
    seconds: float,
    p99_ms: float,
    kind: str,
) -> list[dict[str, Any]]:
    """Advisers with think time, more each stage, until a stage misses the target."""
    client = make_client(kind, url)
    results = Results()
    tasks: list[asyncio.Task[None]] = []
    rows: list[dict[str, Any]] = []
    far = time.monotonic() + 10 * 24 * 3600
    stop = asyncio.Event()
    try:
        for count in stages:
            begun = time.monotonic()
            for i in range(len(tasks), count):
                tasks.append(
                    asyncio.create_task(
                        session(client, advisers[i % len(advisers)], SEED * 1000 + i, far, results, think)
                    )
                )
            await asyncio.sleep(seconds)
            latencies = [s for values in results.latencies.values() for t, s in values if t >= begun + think[1] / 2]
            errors = sum(1 for t, _ in results.errors if t >= begun)
            row = summarise(latencies, errors, seconds - think[1] / 2)
            row["advisers"] = count
            row["ok"] = errors == 0 and bool(latencies) and row["p99_ms"] <= p99_ms
            rows.append(row)
            log(f"  {count} advisers: {row['requests']} requests, p99 {row['p99_ms']} ms, errors {errors}")
            if not row["ok"]:
                break
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()
    return rows


def summarise(latencies: list[float], errors: int, wall: float) -> dict[str, Any]:
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "requests_per_s": round((len(latencies) + errors) / wall, 1),
    }


def warm_up(url: str, adviser: Adviser) -> None:
    """One request of each kind before the clock starts (first-call costs: imports, SHAP, caches);
    with several workers each is sent a few times so that every worker sees some."""
    import httpx

    rng = random.Random(0)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {adviser.key}"}, timeout=60) as client:
        served = None
        for candidate_id in adviser.caseload:
            served = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": TOP_K}).json()
            if served["items"]:
                break
        assert served is not None and served["items"], "no person of the adviser's caseload has a suggestion"
        shortlist = (served["shortlist_id"], [item["rank"] for item in served["items"]])
        for _ in range(4):
            for kind in MIX:
                method, path, body = request_for(kind, adviser, shortlist, rng)
                response = client.request(method, path, json=body, headers={"Connection": "close"})
                if response.status_code != 200:
                    raise SystemExit(f"warm-up {kind} answered {response.status_code}: {response.text[:300]}")


def measured(results: Results, wall: float) -> dict[str, Any]:
    """Overall, reads (GET), and per request kind."""
    errors_by_kind = Counter(what.split(": ")[0] for _, what in results.errors)
    by_kind = {
        kind: summarise([s for _, s in results.latencies.get(kind, [])], errors_by_kind.get(kind, 0), wall)
        for kind in MIX
        if results.latencies.get(kind) or errors_by_kind.get(kind)
    }
    every = [s for values in results.latencies.values() for _, s in values]
    reads = [s for kind, values in results.latencies.items() if kind.startswith("GET") for _, s in values]
    read_errors = sum(n for kind, n in errors_by_kind.items() if kind.startswith("GET"))
    return {
        "overall": summarise(every, len(results.errors), wall),
        "reads": summarise(reads, read_errors, wall),
        "by_request": by_kind,
        "errors_by_kind": dict(Counter(what for _, what in results.errors)),
        "first_errors": results.first_errors,
    }


def table(name: str, row: dict[str, Any]) -> str:
    header = f"{name:<34} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}"
    lines = [header, "-" * len(header)]
    for kind, values in [*row["by_request"].items(), ("reads (GET)", row["reads"]), ("all", row["overall"])]:
        lines.append(
            f"{kind:<34} {values['requests']:>9} {values['errors']:>7} {values['p50_ms']:>8} {values['p99_ms']:>8} "
            f"{values['requests_per_s']:>7}"
        )
    return "\n".join(lines)


def run_server(
    name: str,
    code: Path,
    server_args: list[str],
    args: argparse.Namespace,
    home: Path,
    data: Path,
    env: dict[str, str],
    advisers: list[Adviser],
) -> dict[str, Any]:
    """One server (its own store) under the chosen load; its figures."""
    log_file = home / f"{name}.log"
    with store(home, name, args.database) as url_of_store:
        server_env = {**env, "JOBMATCH_DATABASE_URL": url_of_store}
        with running_server(data, server_env, log_file, code=code, args=server_args) as url:
            warm_up(url, advisers[0])
            # the client's own heap (the dataset, the libraries) out of its collector's passes: a
            # full pass of this process took 240 ms and held back every response it was reading
            gc.collect()
            gc.freeze()
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            started = time.monotonic()
            if args.think:
                log(f"{name}: advisers with think time {args.think[0]:g}-{args.think[1]:g} s against {url}")
                stages = asyncio.run(
                    ramp(url, advisers, args.think, args.stages, args.stage_seconds, args.p99_ms, args.client)
                )
                served = [row["advisers"] for row in stages if row["ok"]]
                figures: dict[str, Any] = {"stages": stages, "most_advisers": max(served, default=0)}
                requests = sum(row["requests"] for row in stages)
            else:
                log(f"{name}: {args.clients} closed-loop clients for {args.seconds:g} s against {url}")
                results = asyncio.run(closed_loop(url, advisers, args.clients, args.seconds, args.client))
                figures = measured(results, time.monotonic() - started)
                requests = figures["overall"]["requests"]
            after = resource.getrusage(resource.RUSAGE_SELF)
        gc.unfreeze()
        text = log_file.read_text(encoding="utf-8", errors="replace")
    client_cpu = (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
    figures["client_cpu_ms_per_request"] = round(1000 * client_cpu / max(1, requests), 3)
    figures["server_error_log_lines"] = sum(1 for line in text.splitlines() if '"ERROR"' in line)
    figures["server"] = " ".join(["jobmatch serve", *server_args]) + f" ({name})"
    return figures


def parse_think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    think = (float(low), float(high or low))
    if not 0 < think[0] <= think[1]:
        raise argparse.ArgumentTypeError(f"think time as LOW-HIGH seconds, e.g. 5-30, not {text!r}")
    return think


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="closed loop: how long the clients run (60)")
    parser.add_argument("--clients", type=int, default=50, help="closed loop: concurrent sessions (50)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="the current server's workers")
    parser.add_argument("--baseline", default=BASELINE, help=f"the commit to compare with (default {BASELINE})")
    parser.add_argument("--only", choices=("baseline", "current"), default=None, help="run one server only")
    parser.add_argument("--think", type=parse_think, default=None, metavar="LOW-HIGH", help="think-time mode, seconds")
    parser.add_argument("--stages", type=lambda t: [int(x) for x in t.split(",")], default=list(STAGES))
    parser.add_argument("--stage-seconds", type=float, default=60.0, help="think-time mode: seconds per stage (60)")
    parser.add_argument("--p99-ms", type=float, default=200.0, help="think-time mode: the p99 target (200 ms)")
    parser.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp")
    parser.add_argument("--database", default=None, help="a postgresql:// server URL (default: SQLite files)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--clients and --workers must be >= 1 and --seconds > 0")
    out = args.out or ROOT / "bench" / "results" / ("load-think.json" if args.think else "load.json")
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        home = Path(tmp)
        data, env, advisers = prepare(home)
        if args.only != "current":
            with baseline_tree(args.baseline, home) as code:
                runs["baseline"] = run_server("baseline", code, [], args, home, data, env, advisers)
        if args.only != "baseline":
            runs["current"] = run_server(
                "current", ROOT, ["--workers", str(args.workers)], args, home, data, env, advisers
            )
    summary = {
        "what": "the API under an adviser mix on loopback, the baseline commit (one process) and the current code "
        "(--workers); latency = request sent to response read, at the client",
        "mode": f"think time {args.think[0]:g}-{args.think[1]:g} s, ramped" if args.think else "closed loop",
        "clients": None if args.think else args.clients,
        "seconds": None if args.think else args.seconds,
        "client": args.client,
        "database": "postgresql" if args.database else "sqlite",
        "dataset": f"synthetic {CANDIDATES} candidates x {WORKPLACES} workplaces, seed {SEED}; top_k {TOP_K}",
        "baseline_commit": args.baseline,
        "mix_weights": MIX,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "runs": runs,
        "ratios": ratios(runs, bool(args.think)),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    report(runs, summary["ratios"], bool(args.think))
    log(f"written to {out}")
    if any(run.get("overall", {}).get("errors") for run in runs.values()):
        raise SystemExit(1)


def ratios(runs: dict[str, dict[str, Any]], think: bool) -> dict[str, float | None]:
    if set(runs) != {"baseline", "current"}:
        return {}
    base, now = runs["baseline"], runs["current"]
    if think:
        most = base["most_advisers"]
        return {"most_advisers": round(now["most_advisers"] / most, 2) if most else None}
    rate = base["overall"]["requests_per_s"]
    return {
        "requests_per_s": round(now["overall"]["requests_per_s"] / rate, 2) if rate else None,
        "p99": round(now["overall"]["p99_ms"] / base["overall"]["p99_ms"], 3) if base["overall"]["p99_ms"] else None,
    }


def report(runs: dict[str, dict[str, Any]], ratio: dict[str, float | None], think: bool) -> None:
    for name, run in runs.items():
        print(
            f"\n{run['server']}; client CPU {run['client_cpu_ms_per_request']} ms/request; "
            f"server error log lines {run['server_error_log_lines']}"
        )
        if think:
            for row in run["stages"]:
                print(
                    f"  {row['advisers']:>5} advisers  {row['requests']:>7} requests  {row['requests_per_s']:>7} req/s "
                    f"p50 {row['p50_ms']:>7} ms  p99 {row['p99_ms']:>7} ms  errors {row['errors']}"
                )
            print(f"  most advisers at the p99 target: {run['most_advisers']}")
        else:
            print(table(name, run))
    if ratio:
        print("\ncurrent / baseline: " + ", ".join(f"{k} {v}" for k, v in ratio.items()))


if __name__ == "__main__":
    main()
