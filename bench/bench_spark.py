"""Benchmark of the Spark engine (`score_caseload_spark`, local[2]) against the local engine
(`serving.batch.score_caseload`) on the same SYNTHETIC data and the same registered model.

A dataset of 3,000 candidates x 20,000 workplaces (seed 3) is generated in a temporary folder, a
model trained and registered in a temporary SQLite MLflow store (as tests/conftest.py does), and
each engine scores the whole caseload 3 times (top 10, reasons included). Each run's pairs/s is
the engine's own figure: from the data to the explained shortlists, without loading the model
or starting Spark; the Spark session's start-up is printed on its own, and the first Spark run
also pays for starting the Python workers (imports, model load), so every run is printed.

Run: `python bench/bench_spark.py [--candidates N] [--workplaces M] [--runs R]`. Figures are
printed and written to `bench/results/spark.json`. No timing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching.datasets import load_dataset  # noqa: E402
from serving.batch import score_caseload  # noqa: E402
from serving.loading import load_ranker  # noqa: E402
from serving.spark.engine import score_caseload_spark  # noqa: E402
from serving.spark.session import build_spark_session  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402

MODEL_URI = "models:/jobmatch-ranker@champion"
MASTER = "local[2]"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(folder: Path, store: Path, candidates: int, workplaces: int, seed: int) -> str:
    """Generate the dataset, train and register a champion; returns the tracking URI."""
    from training.lifecycle import log_and_register
    from training.train import train_ranker

    log(f"generating {candidates} x {workplaces} (seed {seed}) in {folder}")
    generate_dataset(folder, candidates, workplaces, seed)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    log("training and registering the model")
    log_and_register(train_ranker(folder, seed=0), uri)
    for path in folder.glob("truth.*"):  # evaluation only; scoring never reads it
        path.unlink()
    return uri


def same_shortlists(a: Any, b: Any) -> bool:
    keys = ["candidate_id", "rank", "workplace_id", "reason_1", "reason_2", "reason_3", "model_version"]
    if len(a) != len(b) or not a[keys].reset_index(drop=True).equals(b[keys].reset_index(drop=True)):
        return False
    return bool(np.allclose(a["score"].to_numpy(), b["score"].to_numpy(), rtol=1e-9, atol=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=3000)
    parser.add_argument("--workplaces", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "spark.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder, store = Path(tmp) / "data", Path(tmp) / "mlflow"
        folder.mkdir()
        store.mkdir()
        uri = prepare(folder, store, args.candidates, args.workplaces, args.seed)
        dataset = load_dataset(folder)
        model = load_ranker(MODEL_URI, uri)

        local_runs: list[dict[str, float]] = []
        for run in range(args.runs):
            local_frame, figures = score_caseload(dataset, model, top_k=10)
            local_runs.append({k: float(figures[k]) for k in ("pairs", "seconds", "pairs_per_second")})
            log(f"local run {run + 1}: {figures['pairs']:,.0f} pairs, {figures['pairs_per_second']:,.0f} pairs/s")

        started = time.perf_counter()
        spark = build_spark_session(MASTER, app_name="jobmatch-bench")
        session_seconds = time.perf_counter() - started
        spark_runs: list[dict[str, float]] = []
        agree = True
        try:
            for run in range(args.runs):
                started = time.perf_counter()
                spark_frame, figures = score_caseload_spark(dataset, MODEL_URI, uri, top_k=10, spark=spark)
                wall = time.perf_counter() - started
                spark_runs.append(
                    {**{k: float(figures[k]) for k in ("pairs", "seconds", "pairs_per_second")}, "wall": wall}
                )
                agree = agree and same_shortlists(spark_frame, local_frame)
                log(f"spark run {run + 1}: {figures['pairs']:,.0f} pairs, {figures['pairs_per_second']:,.0f} pairs/s")
        finally:
            spark.stop()

    local_median = statistics.median(r["pairs_per_second"] for r in local_runs)
    spark_median = statistics.median(r["pairs_per_second"] for r in spark_runs)
    result = {
        "data": {"candidates": args.candidates, "workplaces": args.workplaces, "seed": args.seed, "synthetic": True},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "master": MASTER},
        "pairs": local_runs[0]["pairs"],
        "runs": args.runs,
        "local_pairs_per_second": [r["pairs_per_second"] for r in local_runs],
        "spark_pairs_per_second": [r["pairs_per_second"] for r in spark_runs],
        "spark_wall_seconds": [r["wall"] for r in spark_runs],
        "spark_session_start_seconds": session_seconds,
        "local_pairs_per_second_median": local_median,
        "spark_pairs_per_second_median": spark_median,
        "ratio_spark_over_local": spark_median / local_median,
        "same_shortlists": agree,
    }
    print(f"data: {args.candidates:,} candidates x {args.workplaces:,} workplaces (seed {args.seed}, synthetic)")
    print(f"pairs scored per run: {result['pairs']:,.0f}")
    print("local engine pairs/s: " + ", ".join(f"{v:,.0f}" for v in result["local_pairs_per_second"]))
    print("spark local[2] pairs/s: " + ", ".join(f"{v:,.0f}" for v in result["spark_pairs_per_second"]))
    print(f"spark session start: {session_seconds:.1f} s (not in the figures above)")
    print(f"median pairs/s: local {local_median:,.0f}, spark {spark_median:,.0f}")
    print(f"ratio spark/local: {result['ratio_spark_over_local']:.3f}")
    print(f"same shortlists, scores and reasons: {agree}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
