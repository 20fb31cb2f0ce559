"""Benchmarks of the core path, each against the bare LightGBM call it wraps, measured in one run.

1. Training on 1,000,000 labelled pairs (`train_ranker`: load, validate, features, fit, baselines,
   evaluation) against a bare `lightgbm.train` on the same feature matrix, same parameters and
   the same number of rounds.
2. Batch scoring (`score_caseload`: candidate generation, features, scores, top-k, reasons)
   against a bare `Booster.predict` on the same pairs' feature matrix.
3. API shortlist latency (uvicorn on loopback, HTTP, one client): `POST /shortlists` for one
   candidate against 20,000 workplaces, each shortlist recorded in the SQLite store, beside the
   bare `Booster.predict` on the same rows, timed between the requests (the machine's load then
   weighs on both alike). Target: p99 at most 2 x bare predict + 5 ms. The client freezes its
   own heap before it measures (`gc.freeze`), so its collector's passes are not timed.
4. The same for an adviser's usual size: the person of the generated 2,000 x 3,000 dataset whose
   eligible workplaces are closest to 180.

All data are SYNTHETIC (the project generator). Run: `python bench/bench_core.py [--quick]
[--parts api,adviser]`. Figures are printed and written to `bench/results/core.json`
(`core-<parts>.json` for a subset of the parts).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, running_server  # noqa: E402

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


ADVISER_ELIGIBLE = 180  # about how many workplaces an adviser's person can reach in the generated data
WARM_UP = 30


def adviser_candidate(folder: Path, eligible: int = ADVISER_ELIGIBLE) -> str:
    """The consenting, active person whose eligible workplaces are closest to `eligible`."""
    dataset = load_dataset(folder)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces, outcomes=dataset.outcomes)
    rows = eligible_candidates(candidates.frame)
    c_idx, _ = pool.generate_pairs(candidates.arrays, rows)
    counts = np.bincount(c_idx, minlength=len(candidates.frame))[rows]
    return str(candidates.frame["candidate_id"].iloc[rows[int(np.argmin(np.abs(counts - eligible)))]])


def bench_api(folder: Path, uri: str, requests: int, candidate_id: str | None = None) -> dict[str, float]:
    """`POST /shortlists` latency for one person (the first by default) over HTTP with one client,
    and the bare predict on the same rows (the person's eligible pairs as the server scores them:
    the store's records and the employer history up to now), one bare predict after each request."""
    import httpx

    from serving.auth import Identity, add_key

    keys = folder / "api-keys.json"
    key = add_key(keys, Identity(name="bench", role="batch"))
    env = {
        **os.environ,
        "JOBMATCH_DATA_DIR": str(folder),
        "MLFLOW_TRACKING_URI": uri,
        "JOBMATCH_API_KEYS_FILE": str(keys),
        "JOBMATCH_DATABASE_URL": f"sqlite:///{folder / 'store.db'}",
    }
    dataset = load_dataset(folder)
    candidate_id = candidate_id or str(dataset.candidates["candidate_id"].iloc[0])
    model = load_ranker("models:/jobmatch-ranker@champion", uri)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces, outcomes=dataset.outcomes)
    row = candidates.positions()[candidate_id]
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, np.array([row]))
    matrix = model.ranker.features_of(
        PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary)
    )
    times, bare = [], []
    with running_server(folder, env, folder / "server.log") as base:
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
            body = {"candidate_id": candidate_id, "top_k": 10}
            eligible = 0
            for _ in range(WARM_UP):
                answer = client.post("/shortlists", json=body)
                answer.raise_for_status()
                eligible = answer.json()["eligible_workplaces"]
            # this process holds the dataset and a model: its collector's full passes would be
            # timed as the server's latency, so what it holds is set aside before it measures
            gc.collect()
            gc.freeze()
            for _ in range(requests):
                started = time.perf_counter()
                client.post("/shortlists", json=body).raise_for_status()
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
                model.ranker.booster.predict(matrix)
                bare.append(time.perf_counter() - started)
            gc.unfreeze()
    ms = np.array(times) * 1000
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    bare_ms = statistics.median(bare) * 1000
    target = 2 * bare_ms + 5
    return {
        "requests": float(requests),
        "eligible_workplaces": float(eligible),
        "bench_rows": float(len(matrix)),
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "bare_predict_ms_median": bare_ms,
        "ratio_p50_over_bare_predict": p50 / bare_ms,
        "target_p99_ms": target,
        "target_met": float(p99 <= target),
    }


PARTS = ("training", "batch", "api", "adviser")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"which parts to run, comma-separated (of {', '.join(PARTS)})"
    )
    parser.add_argument("--requests", type=int, help="timed requests of the API parts (default 500, quick 50)")
    args = parser.parse_args()
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    n_pairs = 100_000 if args.quick else 1_000_000
    n_workplaces = 2_000 if args.quick else 20_000
    requests = args.requests or (50 if args.quick else 500)
    results: dict[str, object] = {
        "quick": args.quick,
        "params": {k: str(v) for k, v in DEFAULT_PARAMS.items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        big_ranker = None
        if "training" in parts:
            log(f"[1/4] training on {n_pairs:,} labelled pairs")
            big = labelled_dataset(tmp_path / "labelled", n_pairs, args.seed)
            results["training"], big_ranker = bench_training(big, args.seed)
        sample = tmp_path / "caseload"
        generate_dataset(sample, 2000, 3000, args.seed)
        store = tmp_path / "mlruns"
        store.mkdir()
        uri = register(sample, store, args.seed)
        if "batch" in parts:
            log("[2/4] batch scoring")
            results["batch"] = bench_batch(sample, load_ranker("models:/jobmatch-ranker@champion", uri), repeats=5)
            if big_ranker is not None:
                log("[2/4] batch scoring again with the 200-tree ranker fitted on 1,000,000 pairs")
                results["batch_200_trees"] = bench_batch(
                    sample,
                    LoadedModel(big_ranker, "bench", "jobmatch-ranker", "bench-200-trees", "", time.time()),
                    repeats=5,
                )
        if "api" in parts:
            log(f"[3/4] API latency, one candidate against {n_workplaces:,} workplaces, {requests} requests")
            single = one_candidate_dataset(sample, tmp_path / "single", n_workplaces, args.seed)
            results["api"] = bench_api(single, uri, requests)
        if "adviser" in parts:
            log(f"[4/4] API latency, a person with about {ADVISER_ELIGIBLE} eligible workplaces, {requests} requests")
            results["api_adviser"] = bench_api(sample, uri, requests, adviser_candidate(sample))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = "core.json" if set(parts) == set(PARTS) else f"core-{'-'.join(parts)}.json"
    (out / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
