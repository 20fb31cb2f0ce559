"""What batch scoring and training cost beyond the bare LightGBM call each wraps, and where the
rest of the time goes, measured in one run.

1. Batch scoring (`score_caseload`) against a bare `Booster.predict` on the same pairs' feature
   matrix, for a fixed 200-tree ranker and for the ranker `jobmatch train` chooses (the
   champion): pairs per second of each, interleaved run by run, medians and their ratio; wall and
   CPU seconds; the batch's split by stage (median seconds per stage).
2. Training. (a) The fit on 1,000,000 labelled pairs (100,000 with --quick): `fit_ranker` (what
   the fit stage of `train_ranker` runs: LightGBM dataset and training, 200 rounds, the default
   parameters) against a bare `lightgbm.train` with the same parameters and rounds on the same
   matrix, interleaved, medians and the ratio. (b) `train_ranker` as `jobmatch train` runs it
   (CV grid, baselines, evaluation, fairness, drift reference) on --pipeline-pairs labelled
   pairs (100,000; 20,000 with --quick): its split by stage, and its own fit stage against a
   bare `lightgbm.train` doing the same fit (same pairs, parameters, rounds, starting scores).

Both models are saved and loaded as the service loads them. All data are SYNTHETIC (the project
generator). Run: `python bench/bench_costs.py [--quick] [--runs N] [--fit-runs N] [--train-runs N]`. Figures are
printed and written to `bench/results/costs.json`. The machine is shared: every baseline is
measured in the same run, beside what it is compared with.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_core import labelled_dataset  # noqa: E402
from common import log  # noqa: E402

from features.pairs import PairFrame  # noqa: E402
from features.registry import monotone_constraints  # noqa: E402
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates  # noqa: E402
from matching.datasets import Dataset, load_dataset  # noqa: E402
from matching.model import Ranker  # noqa: E402
from serving.batch import score_caseload  # noqa: E402
from serving.loading import LoadedModel  # noqa: E402
from training.fit import DEFAULT_PARAMS, SMALL_FIT_ROWS, boost_start, fit_ranker  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402
from training.train import FIT, TrainResult, train_ranker  # noqa: E402
from training.trainset import held_out_mask, logged_pairs, valid_mask  # noqa: E402


def medians(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the median over the runs that have it."""
    keys = dict.fromkeys(k for row in rows for k in row)
    return {k: statistics.median(row[k] for row in rows if k in row) for k in keys}


def as_served(ranker: Ranker, folder: Path, name: str) -> LoadedModel:
    """The ranker saved and loaded again, as the service and `jobmatch score` load it."""
    paths = ranker.save(folder / name)
    loaded = Ranker.load(paths["booster"], paths["meta"], None)
    return LoadedModel(loaded, "bench", "jobmatch-ranker", name, "", time.time())


def bench_batch(dataset: Dataset, model: LoadedModel, runs: int) -> dict[str, Any]:
    """`score_caseload` and a bare predict on the same pairs, interleaved `runs` times."""
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces, outcomes=dataset.outcomes)
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, eligible_candidates(candidates.frame))
    matrix = model.ranker.features_of(
        PairFrame(candidates.arrays, pool.arrays, c_idx, w_idx, pool.catalogue.vocabulary)
    )
    score_caseload(dataset, model, top_k=10)  # warm-up: path tables, imports
    batch, bare, splits, hidden = [], [], [], []
    first: Any = None
    for run in range(runs):
        cpu = time.process_time()
        frame, figures = score_caseload(dataset, model, top_k=10)
        batch_cpu = time.process_time() - cpu
        first = frame if first is None else first
        assert frame.equals(first), "batch results differ between runs"
        cpu, started = time.process_time(), time.perf_counter()
        model.ranker.booster.predict(matrix)
        bare_wall, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
        batch.append({"seconds": figures["seconds"], "cpu_seconds": batch_cpu})
        bare.append({"seconds": bare_wall, "cpu_seconds": bare_cpu})
        splits.append(figures["stages"])
        hidden.append(figures.get("hidden", {}))
        log(f"  run {run + 1}: batch {figures['seconds']:.2f}s, bare predict {bare_wall:.2f}s")
    b, p = medians(batch), medians(bare)
    n = float(len(matrix))
    return {
        "trees": float(model.ranker.booster.num_trees()),
        "pairs": n,
        "runs": runs,
        "batch_pairs_per_second_median": n / b["seconds"],
        "bare_predict_pairs_per_second_median": n / p["seconds"],
        "ratio_batch_over_bare": p["seconds"] / b["seconds"],
        "batch_cpu_seconds_median": b["cpu_seconds"],
        "bare_predict_cpu_seconds_median": p["cpu_seconds"],
        "ratio_cpu_bare_over_batch": p["cpu_seconds"] / b["cpu_seconds"],
        "stages_seconds_median": medians(splits),
        "hidden_seconds_median": medians(hidden),
    }


def bare_fit(result: TrainResult, seed: int) -> float:
    """Seconds of a bare `lightgbm.train` doing the run's final fit: the same training pairs,
    parameters, rounds and starting scores (checked by comparing the two models' predictions)."""
    dataset = result.dataset
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    pairs = logged_pairs(dataset, candidates, pool)
    train = pairs.subset(~held_out_mask(pairs.candidate_ids))
    fit = train.subset(~valid_mask(train.candidate_ids)) if result.tuning is not None else train
    assert fit.grade is not None
    ranker = result.ranker
    params = {k: result.params[k] for k in DEFAULT_PARAMS if k in result.params}
    if result.tuning is not None:
        params.update(result.tuning.params)
    params["seed"] = seed
    params["num_threads"] = 1 if len(fit) < SMALL_FIT_ROWS else 2
    params["monotone_constraints"] = list(ranker.booster.params.get("monotone_constraints", []))
    init = None
    if result.params.get("linear_base"):
        start = boost_start(None, fit.grade, str(params["objective"]))[1]
        init = start + ranker.base.score(fit.matrix)
    rounds = int(ranker.booster.num_trees())
    started = time.perf_counter()
    data = lgb.Dataset(fit.matrix, label=fit.grade, group=fit.group_sizes(), init_score=init)
    booster = lgb.train(params, data, num_boost_round=rounds)
    seconds = time.perf_counter() - started
    sample = fit.matrix[:2000]
    same = np.allclose(booster.predict(sample, raw_score=True), ranker.booster.predict(sample, raw_score=True))
    assert same, "the bare fit is not the run's fit"
    return seconds


FIT_ROUNDS = 200


def bench_fit(folder: Path, runs: int, seed: int) -> dict[str, Any]:
    """`fit_ranker` against a bare `lightgbm.train` on the training candidates' logged pairs."""
    dataset = load_dataset(folder)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    pairs = logged_pairs(dataset, candidates, pool)
    fit = pairs.subset(~held_out_mask(pairs.candidate_ids))
    assert fit.grade is not None
    grade = fit.grade
    params: dict[str, Any] = {**DEFAULT_PARAMS, "seed": seed}
    params["num_threads"] = 1 if len(fit) < SMALL_FIT_ROWS else 2
    params["monotone_constraints"] = monotone_constraints()

    def ours() -> lgb.Booster:
        return fit_ranker((fit.matrix, grade, fit.group_sizes()), None, seed=seed, num_rounds=FIT_ROUNDS)

    def bare_train() -> lgb.Booster:
        return lgb.train(params, lgb.Dataset(fit.matrix, label=grade, group=fit.group_sizes()), FIT_ROUNDS)

    rows = []
    for run in range(runs):
        # which goes first alternates, so neither gains from the other's warm caches
        timed: dict[str, tuple[lgb.Booster, float]] = {}
        for name, function in (("ours", ours), ("bare", bare_train))[:: 1 if run % 2 == 0 else -1]:
            started = time.perf_counter()
            timed[name] = (function(), time.perf_counter() - started)
        (wrapped_booster, wrapped), (bare, bare_seconds) = timed["ours"], timed["bare"]
        sample = fit.matrix[:2000]
        assert np.array_equal(wrapped_booster.predict(sample), bare.predict(sample)), "the bare fit is not the same fit"
        rows.append({"fit_ranker_seconds": wrapped, "bare_lgb_train_seconds": bare_seconds})
        log(f"  run {run + 1}: fit_ranker {wrapped:.2f}s, bare lightgbm.train {bare_seconds:.2f}s")
    m = medians(rows)
    return {
        "fit_pairs": float(len(fit)),
        "rounds": FIT_ROUNDS,
        "runs": runs,
        **{f"{k}_median": v for k, v in m.items()},
        "ratio_fit_over_bare": m["fit_ranker_seconds"] / m["bare_lgb_train_seconds"],
    }


def bench_training(folder: Path, runs: int, seed: int) -> dict[str, Any]:
    rows, splits = [], []
    for run in range(runs):
        started = time.perf_counter()
        result = train_ranker(folder, seed=seed, progress=log)
        total = time.perf_counter() - started
        bare = bare_fit(result, seed)
        fit = result.stages.seconds[FIT]
        rows.append({"pipeline_seconds": total, "fit_seconds": fit, "bare_lgb_train_seconds": bare})
        splits.append(result.stages.split(total))
        log(f"  run {run + 1}: pipeline {total:.1f}s, fit {fit:.2f}s, bare lightgbm.train {bare:.2f}s")
    m = medians(rows)
    return {
        "labelled_pairs": float(result.counts["logged_pairs"]),
        "fit_pairs_trees": float(result.counts["trees"]),
        "chosen": result.tuning.describe() if result.tuning is not None else "",
        "runs": runs,
        **{f"{k}_median": v for k, v in m.items()},
        "ratio_fit_over_bare": m["fit_seconds"] / m["bare_lgb_train_seconds"],
        "ratio_pipeline_over_bare": m["pipeline_seconds"] / m["bare_lgb_train_seconds"],
        "stages_seconds_median": medians(splits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 labelled pairs instead of 1,000,000")
    parser.add_argument("--runs", type=int, default=5, help="batch runs per model (default 5)")
    parser.add_argument("--fit-runs", type=int, default=3, help="fits on the large matrix (default 3)")
    parser.add_argument("--train-runs", type=int, default=3, help="training pipeline runs (default 3)")
    parser.add_argument("--pipeline-pairs", type=int, default=None, help="labelled pairs of the pipeline runs")
    parser.add_argument("--skip-batch", action="store_true", help="training part only")
    parser.add_argument("--skip-training", action="store_true", help="batch part only")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, Any] = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        sample = tmp_path / "caseload"
        if not args.skip_batch:
            generate_dataset(sample, 2000, 3000, args.seed)
            dataset = load_dataset(sample)
            log("[1/2] batch scoring with a fixed 200-tree ranker")
            fixed = train_ranker(dataset, seed=args.seed, num_rounds=200, early_stopping=False, plain_baseline=False)
            model = as_served(fixed.ranker, tmp_path, "200-trees")
            results["batch_200_trees"] = bench_batch(dataset, model, args.runs)
            log("[1/2] batch scoring with the ranker `jobmatch train` chooses (the champion)")
            champion = train_ranker(dataset, seed=args.seed)
            model = as_served(champion.ranker, tmp_path, "champion")
            results["batch_champion"] = bench_batch(dataset, model, args.runs)
        if not args.skip_training:
            n_pairs = 100_000 if args.quick else 1_000_000
            log(f"[2/2] the fit on {n_pairs:,} labelled pairs against a bare lightgbm.train")
            big = labelled_dataset(tmp_path / "labelled", n_pairs, args.seed)
            results["fit"] = bench_fit(big, args.fit_runs, args.seed)
            n_pairs = args.pipeline_pairs or (20_000 if args.quick else 100_000)
            log(f"[2/2] training on {n_pairs:,} labelled pairs as `jobmatch train` does")
            folder = labelled_dataset(tmp_path / "pipeline", n_pairs, args.seed)
            results["training"] = bench_training(folder, args.train_runs, args.seed)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / ("costs-quick.json" if args.quick else "costs.json")).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
