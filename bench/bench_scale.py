"""Whole caseloads on one machine, and capacity-aware allocation, measured in one run.

1. A national caseload: 10,000 candidates and 100,000 workplaces spread over Norway (SYNTHETIC,
   the project generator), tens of millions of eligible pairs. `jobmatch score` as a user runs
   it, several times: wall time, peak memory (the process's own maximum resident set), pairs/s.
   Against it, bare `Booster.predict` on the same pairs' feature matrix (built chunk by chunk;
   only the predict is timed). Done for the registered champion and for a fixed 200-tree ranker,
   since a champion that early stopping cut to a tree or two costs almost nothing to predict.
2. Allocation (`jobmatch score --allocate`) against independent top-k on the same pairs: solve
   time, the model's expected success, and, since the data are synthetic, the TRUE expected
   success of the chosen suggestions from the generator's truth file, both summed and capped by
   each workplace's free slots; coverage (full shortlists, workplaces suggested).

Run: `python bench/bench_scale.py [--quick] [--repeats N]`; figures are printed and written to
`bench/results/scale.json`. The generated caseload is kept in `bench/results/` for reruns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.pairs import PairFrame  # noqa: E402
from matching.allocation import summarise  # noqa: E402
from matching.datasets import load_dataset, read_truth  # noqa: E402
from matching.shortlist import top_k_per_candidate  # noqa: E402
from serving.batch import BatchOptions, CaseloadScorer  # noqa: E402
from serving.loading import load_ranker  # noqa: E402
from training.lifecycle import log_and_register  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402
from training.train import train_ranker  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LINE = re.compile(
    r"\(([\d,]+) pairs scored in ([\d.]+)s, ([\d,]+) pairs/s, peak memory ([\d,]+) MB\)",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def caseload(n_candidates: int, n_workplaces: int, seed: int) -> Path:
    folder = RESULTS / f"caseload-{n_candidates}x{n_workplaces}-seed{seed}"
    if not (folder / "SUMMARY.json").exists():
        log(f"generating {n_candidates:,} x {n_workplaces:,} (seed {seed}) in {folder}")
        generate_dataset(folder, n_candidates, n_workplaces, seed)
    return folder


def registered(folder: Path, store: Path, **train: Any) -> str:
    store.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    log_and_register(train_ranker(folder, seed=0, **train), uri)
    return uri


def cli_runs(data: Path, uri: str, repeats: int, tmp: Path) -> dict[str, float]:
    """`jobmatch score` as a user runs it: wall, peak memory and pairs/s, medians over runs."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONWARNINGS": "ignore"}
    walls, peaks, rates, pairs = [], [], [], 0
    for r in range(repeats):
        out = tmp / f"run-{r}.parquet"
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "jobmatch", "score", "--data", str(data), "--out", str(out), "--no-progress"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - started)
        match = LINE.search(result.stdout)
        assert match, result.stdout
        pairs = int(match[1].replace(",", ""))
        rates.append(float(match[3].replace(",", "")))
        peaks.append(float(match[4].replace(",", "")))
        log(f"  run {r + 1}: {walls[-1]:.1f}s wall, {rates[-1]:,.0f} pairs/s, peak {peaks[-1]:,.0f} MB")
    return {
        "pairs": float(pairs),
        "wall_seconds_median": statistics.median(walls),
        "peak_memory_mb_median": statistics.median(peaks),
        "peak_memory_mb_max": max(peaks),
        "pairs_per_second_median": statistics.median(rates),
    }


def bare_predict(data: Path, uri: str, repeats: int) -> dict[str, float]:
    """Bare `Booster.predict` on the same pairs, chunk by chunk (only the predict is timed)."""
    model = load_ranker("models:/jobmatch-ranker@champion", uri)
    scorer = CaseloadScorer(load_dataset(data, with_truth=False), model, BatchOptions())
    vocabulary = scorer.pool.catalogue.vocabulary
    rates = []
    for _ in range(repeats):
        seconds, pairs = 0.0, 0
        for start, stop in scorer.bounds:
            c_idx, w_idx = scorer.pool.generate_pairs(scorer.candidates.arrays, scorer.rows[start:stop])
            matrix = model.ranker.features_of(
                PairFrame(scorer.candidates.arrays, scorer.pool.arrays, c_idx, w_idx, vocabulary)
            )
            began = time.perf_counter()
            model.ranker.booster.predict(matrix)
            seconds += time.perf_counter() - began
            pairs += len(matrix)
        rates.append(pairs / seconds)
    return {"trees": float(model.ranker.booster.num_trees()), "pairs_per_second_median": statistics.median(rates)}


def allocation(data: Path, uri: str, per_slot: float, top_k: int = 10) -> dict[str, Any]:
    """Independent top-k against the allocation, by the model and by the generator's truth."""
    model = load_ranker("models:/jobmatch-ranker@champion", uri)
    dataset = load_dataset(data, with_truth=False)
    options = BatchOptions(top_k=top_k, allocate=True, per_slot=per_slot)
    scorer = CaseloadScorer(dataset, model, options)
    kept = pd.concat([scorer.score_chunk(i)[0] for i in range(len(scorer.bounds))], ignore_index=True)
    frame, figures = scorer.finish(kept)
    result: dict[str, Any] = figures["allocation"]
    # the same selections, valued by the truth: which independent top-k pairs, which allocated
    c_pos, w_pos = kept["c_pos"].to_numpy(), kept["w_pos"].to_numpy()
    independent = np.zeros(len(kept), dtype=bool)
    independent[top_k_per_candidate(c_pos, kept["score"].to_numpy(), top_k)[0]] = True
    ids = scorer.candidates.frame["candidate_id"].to_numpy()[c_pos]
    wids = scorer.pool.frame["workplace_id"].to_numpy()[w_pos]
    truth = read_truth(next(data.glob("truth.*"))).set_index(["candidate_id", "workplace_id"])["p_hired"]
    true_p = truth.reindex(pd.MultiIndex.from_arrays([ids, wids])).to_numpy(dtype=np.float64)
    allocated = pd.MultiIndex.from_arrays([ids, wids]).isin(
        pd.MultiIndex.from_arrays([frame["candidate_id"], frame["workplace_id"]])
    )
    slots = scorer.pool.arrays["slots"]
    context = (top_k, slots, len(scorer.rows), len(scorer.pool.open_rows))
    result["truth"] = {
        "independent": summarise(c_pos, w_pos, np.nan_to_num(true_p), independent, *context),
        "allocated": summarise(c_pos, w_pos, np.nan_to_num(true_p), allocated, *context),
        "pairs_without_truth": int(np.isnan(true_p).sum()),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 x 10,000 instead of 10,000 x 100,000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    n_c, n_w = (1_000, 10_000) if args.quick else (10_000, 100_000)
    results: dict[str, Any] = {"synthetic": True, "candidates": n_c, "workplaces": n_w, "seed": args.seed}
    big = caseload(n_c, n_w, args.seed)
    small = caseload(2_000, 3_000, 7)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        log("training the champion (early stopping) and a fixed 200-tree ranker on 2,000 x 3,000")
        champion = registered(small, tmp_path / "champion")
        fixed = registered(small, tmp_path / "fixed", num_rounds=200, early_stopping=False)
        for name, uri in (("champion", champion), ("200_trees", fixed)):
            log(f"[1] jobmatch score on {n_c:,} x {n_w:,} with the {name} ({args.repeats} runs)")
            runs = cli_runs(big, uri, args.repeats, tmp_path)
            bare = bare_predict(big, uri, args.repeats)
            runs.update(
                {
                    "trees": bare["trees"],
                    "bare_predict_pairs_per_second_median": bare["pairs_per_second_median"],
                    "ratio_batch_over_bare": runs["pairs_per_second_median"] / bare["pairs_per_second_median"],
                }
            )
            results[f"scale_{name}"] = runs
            log(json.dumps(runs, indent=2))
        for label, data in (("2000x3000", small), (f"{n_c}x{n_w}", big)):
            for per_slot in (1.0, 3.0):
                log(f"[2] allocation on {label}, {per_slot:g} suggestions per free slot")
                results[f"allocation_{label}_per_slot_{per_slot:g}"] = allocation(data, champion, per_slot)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
