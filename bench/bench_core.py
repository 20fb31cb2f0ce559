"""Benchmarks of the core path, each against the bare LightGBM call it wraps, measured in one run.

1. Training on 1,000,000 labelled pairs (`train_ranker`: load, validate, features, fit, baselines,
   evaluation) against a bare `lightgbm.train` on the same feature matrix, same parameters and
   the same number of rounds.
2. Batch scoring (`score_caseload`: candidate generation, features, scores, top-k, reasons)
   against a bare `Booster.predict` on the same pairs' feature matrix.
3. API shortlist latency (uvicorn on loopback, HTTP) for one candidate against 20,000 workplaces,
   beside the bare predict time for the same rows.

All data are SYNTHETIC (the project generator). Run: `python bench/bench_core.py [--quick]`.
Figures are printed and written to `bench/results/core.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import free_port, log  # noqa: E402

from features.pairs import PairFrame  # noqa: E402
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates  # noqa: E402
from matching.datasets import load_dataset, write_table  # noqa: E402
from matching.model import Ranker  # noqa: E402
from serving.loading import LoadedModel, load_ranker  # noqa: E402
from training.fit import DEFAULT_PARAMS, fit_ranker  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402
from training.train import train_ranker  # noqa: E402
from training.trainset import held_out_mask, logged_pairs  # noqa: E402


def labelled_dataset(folder: Path, n_pairs: int, seed: int) -> Path:
    """A synthetic dataset whose outcomes table has `n_pairs` labelled pairs: eligible pairs drawn
    at random, grades drawn around the truth's expected grade."""
    generate_dataset(folder, 8000, 8000, seed)
    dataset = load_dataset(folder)
    truth = dataset.truth
    assert truth is not None
    rng = np.random.default_rng(seed)
    take = rng.choice(len(truth), size=min(n_pairs, len(truth)), replace=False)
    chosen = truth.iloc[np.sort(take)]
    grade = np.clip(np.round(chosen["expected_grade"].to_numpy() + rng.normal(0, 0.7, len(chosen))), 0, 4)
    outcomes = pd.DataFrame(
        {
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "workplace_id": chosen["workplace_id"].to_numpy(),
            "suggested_on": "2025-06-01",
            "grade": grade.astype(int),
        }
    )
    write_table(outcomes, folder, "outcomes")
    return folder


TRAIN_ROUNDS = 200


def bench_training(folder: Path, seed: int) -> tuple[dict[str, float], Ranker]:
    started = time.perf_counter()
    result = train_ranker(folder, seed=seed, progress=log, num_rounds=TRAIN_ROUNDS, early_stopping=False)
    pipeline = time.perf_counter() - started
    dataset = result.dataset
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    pairs = logged_pairs(dataset, candidates, pool)
    fit = pairs.subset(~held_out_mask(pairs.candidate_ids))
    rounds = result.ranker.booster.num_trees()
    assert fit.grade is not None
    started = time.perf_counter()
    fit_ranker((fit.matrix, fit.grade, fit.group_sizes()), None, seed=seed, num_rounds=rounds)
    bare = time.perf_counter() - started
    return {
        "labelled_pairs": float(result.counts["logged_pairs"]),
        "trees": float(rounds),
        "pipeline_seconds": pipeline,
        "bare_lgb_train_seconds": bare,
        "ratio_pipeline_over_bare": pipeline / bare,
    }, result.ranker


def register(folder: Path, store: Path, seed: int) -> str:
    from training.lifecycle import log_and_register

    uri = f"sqlite:///{store / 'mlflow.db'}"
    log_and_register(train_ranker(folder, seed=seed), uri)
    return uri


def bench_batch(folder: Path, model: LoadedModel, repeats: int) -> dict[str, float]:
    from serving.batch import score_caseload

    dataset = load_dataset(folder)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, eligible_candidates(candidates.frame))
    matrix = model.ranker.features_of(
        PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary)
    )
    batch, bare = [], []
    for _ in range(repeats):
        _, figures = score_caseload(dataset, model, top_k=10)
        batch.append(figures["pairs_per_second"])
        started = time.perf_counter()
        model.ranker.booster.predict(matrix)
        bare.append(len(matrix) / (time.perf_counter() - started))
    return {
        "trees": float(model.ranker.booster.num_trees()),
        "pairs": float(len(matrix)),
        "batch_pairs_per_second_median": statistics.median(batch),
        "bare_predict_pairs_per_second_median": statistics.median(bare),
        "ratio_batch_over_bare": statistics.median(batch) / statistics.median(bare),
    }


def one_candidate_dataset(source: Path, folder: Path, n_workplaces: int, seed: int) -> Path:
    """One candidate who can reach every one of `n_workplaces` workplaces."""
    generate_dataset(folder, 50, n_workplaces, seed)
    dataset = load_dataset(folder)
    candidate = dataset.candidates.iloc[[0]].copy()
    candidate["max_commute_km"] = 5000.0
    candidate["consent"], candidate["active"] = True, True
    for column in [c for c in candidate.columns if c.startswith("needs_")]:
        candidate[column] = 0
    workplaces = dataset.workplaces.copy()
    workplaces["active"], workplaces["slots"] = True, np.maximum(workplaces["slots"], 1)
    for name in ("outcomes", "audit", "truth"):
        for path in folder.glob(f"{name}.*"):
            path.unlink()
    write_table(candidate, folder, "candidates")
    write_table(workplaces, folder, "workplaces")
    return folder


def bench_api(folder: Path, uri: str, requests: int) -> dict[str, float]:
    import httpx

    from serving.auth import Identity, add_key

    port = free_port()
    keys = folder / "api-keys.json"
    key = add_key(keys, Identity(name="bench", role="batch"))
    env = {
        **os.environ,
        "JOBMATCH_DATA_DIR": str(folder),
        "MLFLOW_TRACKING_URI": uri,
        "JOBMATCH_API_KEYS_FILE": str(keys),
        "JOBMATCH_DATABASE_URL": f"sqlite:///{folder / 'store.db'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "jobmatch", "serve", "--data", str(folder), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
            for _ in range(600):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            candidate_id = str(load_dataset(folder).candidates["candidate_id"].iloc[0])
            body = {"candidate_id": candidate_id, "top_k": 10}
            first = client.post("/shortlists", json=body)
            first.raise_for_status()
            eligible = first.json()["eligible_workplaces"]
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.post("/shortlists", json=body).raise_for_status()
                times.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
    model = load_ranker("models:/jobmatch-ranker@champion", uri)
    dataset = load_dataset(folder)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, np.array([0]))
    matrix = model.ranker.features_of(
        PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary)
    )
    bare = []
    for _ in range(50):
        started = time.perf_counter()
        model.ranker.booster.predict(matrix)
        bare.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    return {
        "requests": float(requests),
        "eligible_workplaces": float(eligible),
        "latency_p50_ms": float(np.percentile(ms, 50)),
        "latency_p99_ms": float(np.percentile(ms, 99)),
        "bare_predict_ms_median": statistics.median(bare) * 1000,
        "ratio_p50_over_bare_predict": float(np.percentile(ms, 50)) / (statistics.median(bare) * 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n_pairs = 100_000 if args.quick else 1_000_000
    n_workplaces = 2_000 if args.quick else 20_000
    requests = 50 if args.quick else 500
    results: dict[str, object] = {
        "quick": args.quick,
        "params": {k: str(v) for k, v in DEFAULT_PARAMS.items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        log(f"[1/3] training on {n_pairs:,} labelled pairs")
        big = labelled_dataset(tmp_path / "labelled", n_pairs, args.seed)
        results["training"], big_ranker = bench_training(big, args.seed)
        log("[2/3] batch scoring")
        sample = tmp_path / "caseload"
        generate_dataset(sample, 2000, 3000, args.seed)
        store = tmp_path / "mlruns"
        store.mkdir()
        uri = register(sample, store, args.seed)
        results["batch"] = bench_batch(sample, load_ranker("models:/jobmatch-ranker@champion", uri), repeats=5)
        log("[2/3] batch scoring again with the 200-tree ranker fitted on 1,000,000 pairs")
        results["batch_200_trees"] = bench_batch(
            sample,
            LoadedModel(big_ranker, "bench", "jobmatch-ranker", "bench-200-trees", "", time.time()),
            repeats=5,
        )
        log(f"[3/3] API latency, one candidate against {n_workplaces:,} workplaces")
        single = one_candidate_dataset(sample, tmp_path / "single", n_workplaces, args.seed)
        results["api"] = bench_api(single, uri, requests)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "core.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
