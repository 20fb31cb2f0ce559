"""Benchmark of the Spark engine (`score_caseload_spark`, local[2]) against the local engine
(`serving.batch.score_caseload`) on the same SYNTHETIC data and the same registered model.

A dataset of 3,000 candidates x 20,000 workplaces (seed 3) is generated in a temporary folder, a
model trained and registered in a temporary SQLite MLflow store (as tests/conftest.py does), and
each engine scores the whole caseload `--runs` times (top 10, reasons included), the runs of the
two engines taking turns so that both see the same load on a shared machine. Each run's pairs/s
is the engine's own figure: from the data to the explained shortlists, without loading the model
or starting Spark; the Spark session's start-up is printed on its own, and the first Spark run
also pays for starting the Python workers (imports, loading the model in each), so every run is
printed, and the medians compared. Where the Spark engine's time goes is printed per step: on
the driver (shipping the model, planning, the Spark job, the top-k merge, the reasons) and in
the workers (features, predict, top-k; seconds summed over the workers).

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
STEPS = (
    "ship_model_seconds",
    "plan_seconds",
    "spark_seconds",
    "merge_top_k_seconds",
    "reasons_seconds",
    "worker_features_seconds",
    "worker_predict_seconds",
    "worker_top_k_seconds",
)


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
    """The same rows, columns, dtypes and values, the scores to the bit."""
    return bool(list(a.columns) == list(b.columns) and a.reset_index(drop=True).equals(b.reset_index(drop=True)))


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

        started = time.perf_counter()
        spark = build_spark_session(MASTER, app_name="jobmatch-bench")
        session_seconds = time.perf_counter() - started
        local_runs: list[dict[str, float]] = []
        spark_runs: list[dict[str, float]] = []
        agree = True
        try:
            for run in range(args.runs):
                local_frame, figures = score_caseload(dataset, model, top_k=10)
                local_runs.append({k: float(figures[k]) for k in ("pairs", "seconds", "pairs_per_second")})
                log(f"local run {run + 1}: {figures['pairs']:,.0f} pairs, {figures['pairs_per_second']:,.0f} pairs/s")
                started = time.perf_counter()
                spark_frame, on_spark = score_caseload_spark(dataset, MODEL_URI, uri, top_k=10, spark=spark)
                spark_runs.append({**on_spark, "wall": time.perf_counter() - started})
                agree = agree and same_shortlists(spark_frame, local_frame)
                steps = ", ".join(f"{k.removesuffix('_seconds')} {on_spark[k]:.2f}s" for k in STEPS)
                rate = on_spark["pairs_per_second"]
                log(f"spark run {run + 1}: {on_spark['pairs']:,.0f} pairs, {rate:,.0f} pairs/s; {steps}")
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
        "spark_model_loads": [r["model_loads"] for r in spark_runs],
        "spark_step_seconds_median": {k: statistics.median(r[k] for r in spark_runs) for k in STEPS},
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
    print(
        "spark model loads per run (one per Python worker, first run only): "
        + ", ".join(f"{r['model_loads']:.0f}" for r in spark_runs)
    )
    print(
        "spark seconds per step (medians; worker_* summed over the workers): "
        + ", ".join(f"{k.removesuffix('_seconds')} {v:.2f}" for k, v in result["spark_step_seconds_median"].items())
    )
    print(f"median pairs/s: local {local_median:,.0f}, spark {spark_median:,.0f}")
    print(f"ratio spark/local: {result['ratio_spark_over_local']:.3f}")
    print(f"same shortlists, scores and reasons: {agree}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
