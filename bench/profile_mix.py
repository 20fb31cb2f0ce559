"""Where a worker's time goes under the advisers' mix: the load test's requests (same data, same
weights, see `load_test.py`), sent one after another to the app in this process (Starlette's test
client, no sockets), with the wall time of each kind of request and a py-spy profile of the
timed part (all threads: the app's handlers run in the test client's threads).

All data are SYNTHETIC. Run: `python bench/profile_mix.py [--requests 2000] [--top 40]`.
Prints the mean and p99 milliseconds per request kind, then the functions holding the largest
shares of the sampled time, inclusive (a function counted once per sample it is on the stack of).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, percentile  # noqa: E402
from load_test import MIX, prepare, request_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests of the mix to time (default 2000)")
    parser.add_argument("--warm", type=int, default=200, help="requests sent first, not timed (default 200)")
    parser.add_argument("--top", type=int, default=40, help="functions to list (default 40)")
    parser.add_argument("--only", help="list only functions whose file path contains this (e.g. matching/)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", help="only these request kinds, comma-separated (e.g. 'POST /shortlists')")
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else list(MIX)
    unknown = sorted(set(kinds) - set(MIX))
    if unknown:  # before the minute of set-up
        parser.error(f"unknown request kind(s) {unknown}; choose from {list(MIX)}")
    weights = [MIX[k] for k in kinds]

    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory(prefix="jobmatch-profile-") as tmp:
        home = Path(tmp)
        data, env, advisers = prepare(home)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("JOBMATCH_", "MLFLOW_"))})
        os.environ["JOBMATCH_DATA_DIR"] = str(data)
        os.environ["JOBMATCH_DATABASE_URL"] = f"sqlite:///{home / 'store.db'}"
        os.environ["JOBMATCH_LOG_LEVEL"] = "WARNING"
        from matching.settings import get_settings
        from serving.app import create_app

        get_settings.cache_clear()
        rng = random.Random(args.seed)
        shortlists: dict[str, tuple[int, list[int]]] = {}
        times: dict[str, list[float]] = defaultdict(list)
        with TestClient(create_app()) as client:

            def one(timed: bool) -> None:
                adviser = rng.choice(advisers)
                kind = rng.choices(kinds, weights)[0]
                have = shortlists.get(adviser.adviser_id)
                if have is None:
                    kind = "POST /shortlists"
                method, url, body = request_for(kind, adviser, have, rng)
                started = time.perf_counter()
                response = client.request(method, url, json=body, headers={"X-API-Key": adviser.key})
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
                if kind == "POST /shortlists":
                    answer = response.json()
                    shortlists[adviser.adviser_id] = (
                        answer["shortlist_id"],
                        [item["rank"] for item in answer["items"]],
                    )
                if timed:
                    times[kind].append(elapsed * 1000)

            log(f"{args.warm} warm-up requests")
            for _ in range(args.warm):
                one(False)
            log(f"{args.requests} timed requests under py-spy")
            raw = args.raw or home / "profile.txt"
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(os.getpid()), "--rate", "250"]
                + ["--format", "raw", "--output", str(raw), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
            started = time.perf_counter()
            for _ in range(args.requests):
                one(True)
            total = time.perf_counter() - started
            spy.send_signal(signal.SIGINT)
            spy.wait(30)

        print(f"\n{args.requests} requests in {total:.1f} s: {1000 * total / args.requests:.1f} ms per request")
        print(f"{'request':34} {'n':>5} {'mean ms':>8} {'p50':>7} {'p99':>7} {'share':>6}")
        spent = sum(sum(v) for v in times.values())
        for kind in MIX:
            values = times.get(kind, [])
            if values:
                print(
                    f"{kind:34} {len(values):5d} {statistics.fmean(values):8.2f} {percentile(values, 0.5):7.2f} "
                    f"{percentile(values, 0.99):7.2f} {sum(values) / spent:6.1%}"
                )
        print_profile(raw, args.top, args.only)


def print_profile(raw: Path, top: int, only: str | None) -> None:
    """The functions on the largest shares of the samples (py-spy's collapsed stacks)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        if any("profile_mix.py" in f for f in frames):
            continue  # the client's side (in a real run, another process)
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames]  # per function, not per line
        samples += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"\n{samples} samples of the app's threads; share with the function on the stack, then own share")
    shown = 0
    for frame, n in inclusive.most_common():
        if only and only not in frame:
            continue
        print(f"{n / samples:6.1%} {own[frame] / samples:6.1%}  {frame}")
        shown += 1
        if shown >= top:
            break


if __name__ == "__main__":
    main()
