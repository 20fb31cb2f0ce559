"""The garbage collector's pauses in a worker, with and without its heap settled (`serving.heap`):
the load test's data and mix (`load_test.py`), sent one after another to the app in this process
(Starlette's test client), each variant in a process of its own (freezing is process-wide), with
every collection timed through `gc.callbacks`.

All data are SYNTHETIC. Run: `python bench/gc_pauses.py [--requests 3000]`. Prints, per variant,
the objects the collector tracks after start-up and each generation's collections: how many, the
median and the longest pause.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log  # noqa: E402
from load_test import MIX, prepare, request_for  # noqa: E402


def run_variant(settled: bool, requests: int, seed: int) -> dict[str, object]:
    """The mix against an app built in this process; the collections' pauses by generation."""
    from fastapi.testclient import TestClient

    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    with tempfile.TemporaryDirectory(prefix="jobmatch-gc-") as tmp:
        home = Path(tmp)
        data, env, advisers = prepare(home)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("JOBMATCH_", "MLFLOW_"))})
        os.environ["JOBMATCH_DATA_DIR"] = str(data)
        os.environ["JOBMATCH_DATABASE_URL"] = f"sqlite:///{home / 'store.db'}"
        os.environ["JOBMATCH_LOG_LEVEL"] = "WARNING"
        from matching.settings import get_settings
        from serving.app import create_app
        from serving.heap import Heap

        get_settings.cache_clear()
        rng = random.Random(seed)
        kinds, weights = list(MIX), list(MIX.values())
        shortlists: dict[str, tuple[int, list[int]]] = {}
        with TestClient(create_app(heap=Heap() if settled else None)) as client:
            tracked = len(gc.get_objects())
            gc.callbacks.append(timed)
            for _ in range(requests):
                adviser = rng.choice(advisers)
                kind = rng.choices(kinds, weights)[0]
                have = shortlists.get(adviser.adviser_id)
                if have is None:
                    kind = "POST /shortlists"
                method, url, body = request_for(kind, adviser, have, rng)
                response = client.request(method, url, json=body, headers={"X-API-Key": adviser.key})
                if response.status_code != 200:
                    raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
                if kind == "POST /shortlists":
                    answer = response.json()
                    shortlists[adviser.adviser_id] = (answer["shortlist_id"], [i["rank"] for i in answer["items"]])
            gc.callbacks.remove(timed)
    out: dict[str, object] = {"tracked_after_start": tracked, "frozen": gc.get_freeze_count()}
    for generation in (0, 1, 2):
        times = sorted(ms for g, ms in pauses if g == generation)
        out[f"gen{generation}"] = {
            "collections": len(times),
            "median_ms": round(times[len(times) // 2], 2) if times else None,
            "max_ms": round(times[-1], 1) if times else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests of the mix per variant (3000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", choices=("plain", "settled"), help=argparse.SUPPRESS)  # one child's part
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant == "settled", args.requests, args.seed)))
        return
    results = {}
    for variant in ("plain", "settled"):
        log(f"{variant}: {args.requests} requests of the mix")
        child = subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--requests", str(args.requests)]
            + ["--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"the {variant} run failed:\n{child.stderr[-3000:]}")
        results[variant] = json.loads(child.stdout.strip().splitlines()[-1])
    for variant, figures in results.items():
        print(f"{variant:8} tracked after start {figures['tracked_after_start']:>8,}  frozen {figures['frozen']:>8,}")
        for generation in (0, 1, 2):
            g = figures[f"gen{generation}"]
            assert isinstance(g, dict)
            print(
                f"  gen{generation}: {g['collections']:5d} collections, "
                f"median {g['median_ms']} ms, max {g['max_ms']} ms"
            )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "gc_pauses.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
