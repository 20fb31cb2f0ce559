"""How well does the trained ranker rank every eligible workplace, against the simplest strong
alternative? NDCG@10 over ALL eligible workplaces of held-out candidates (gain: the truth file's
expected grade), per synthetic truth and method, over several seeds.

For each truth (`standard`, `alternative`, `interactions`, `thresholds`; see
`training/synthetic_truth.py`) and data seed, a SYNTHETIC dataset is generated and
`train_ranker` run on it. Methods:

- `champion`: what `jobmatch train` fits (`training/fit.py`): a Poisson booster of the expected
  grade under the features' monotone constraints, leaves and rounds chosen by grouped CV;
- `plain_lgbm`: LightGBM lambdarank, no constraints, no linear base, leaves, rows per leaf and
  rounds chosen by the same grouped CV (`training.baselines.PlainLambdaRank`);
- `logistic`, `rule`, `random`, `oracle` (the truth itself).

`--ablations` adds the champion without monotone constraints (`no_monotone`), boosted from the
linear base (`linear_base`), and the former design (lambdarank with randomised splits boosted
from the linear base, `lambdarank_linear`), each with the same grouped CV.

`--position-bias ETA` generates logs where the adviser takes up the suggestion at rank r only
with probability r ** -ETA; the champion is then fitted net of the rank's estimated effect
(per-rank offsets), and the bench adds the champion without that correction
(`no_pos_correction`) and the plain lambdarank with LightGBM's own position-bias correction
(`plain_lgbm_pos`, `lightgbm.Dataset(position=...)`; the champion is a Poisson booster, which
that correction does not apply to).

All data are SYNTHETIC. Run: `python bench/bench_quality.py [--seeds 1,2,3] [--candidates N]
[--workplaces M] [--variants ...] [--ablations] [--position-bias ETA]`; the defaults take a few
minutes on two cores. Figures are printed and written to `bench/results/quality.json`.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching.candidates import CandidateTable, WorkplacePool  # noqa: E402
from matching.datasets import Dataset, load_dataset  # noqa: E402
from training.baselines import PlainLambdaRank  # noqa: E402
from training.evaluate import ndcg_at_k  # noqa: E402
from training.held_out import ALL_ELIGIBLE  # noqa: E402
from training.position import shown_ranks  # noqa: E402
from training.synthetic import VARIANTS, generate_dataset  # noqa: E402
from training.train import TrainResult, train_ranker  # noqa: E402
from training.trainset import held_out_mask, logged_pairs  # noqa: E402

MAIN = ("champion", "plain_lgbm", "logistic", "rule", "random", "oracle")
ABLATIONS = ("no_monotone", "linear_base", "lambdarank_linear")
POSITION = ("no_pos_correction", "plain_lgbm_pos")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def all_eligible(result: TrainResult, method: str) -> float:
    return result.evaluation.value(ALL_ELIGIBLE, method)


def plain_with_position(dataset: Dataset, result: TrainResult, seed: int) -> float:
    """The plain lambdarank fitted with LightGBM's position-bias correction, on the same training
    candidates, scored over all eligible workplaces of the held-out ones."""
    candidates, pool = CandidateTable.build(dataset.candidates), WorkplacePool(dataset.workplaces)
    pairs = logged_pairs(dataset, candidates, pool)
    ranks = shown_ranks(dataset.outcomes, pairs)
    assert ranks is not None and pairs.grade is not None
    train = ~held_out_mask(pairs.candidate_ids)
    position = np.nan_to_num(ranks[train], nan=0).astype(np.int32)
    model = PlainLambdaRank(random_state=seed).fit(
        pairs.matrix[train], pairs.grade[train], pairs.c_idx[train], position=position
    )
    eligible = result.held_out.eligible
    assert eligible is not None and eligible.truth is not None
    return ndcg_at_k(eligible.truth, model.score_pairs(eligible.matrix), eligible.c_idx, 10)


def run_one(variant: str, seed: int, args: argparse.Namespace, folder: Path) -> tuple[dict[str, float], dict[str, Any]]:
    generate_dataset(folder, args.candidates, args.workplaces, seed, variant=variant, position_bias=args.position_bias)
    dataset = load_dataset(folder)
    started = time.perf_counter()
    main = train_ranker(dataset, seed=0)
    seconds = time.perf_counter() - started
    scores = {m: all_eligible(main, "model" if m == "champion" else m) for m in MAIN}
    info: dict[str, Any] = {
        "train_seconds": round(seconds, 1),
        "champion_cv": main.tuning.describe() if main.tuning else None,
        "position_effect": main.position.metrics() if main.position else None,
    }
    if args.ablations:
        options: dict[str, dict[str, Any]] = {
            "no_monotone": {"monotone": False},
            "linear_base": {"linear_base": True},
            "lambdarank_linear": {"linear_base": True, "params": {"objective": "lambdarank", "extra_trees": True}},
        }
        for name, kwargs in options.items():
            scores[name] = all_eligible(train_ranker(dataset, seed=0, plain_baseline=False, **kwargs), "model")
    if args.position_bias is not None:
        scores["no_pos_correction"] = all_eligible(
            train_ranker(dataset, seed=0, plain_baseline=False, position_correction=False), "model"
        )
        scores["plain_lgbm_pos"] = plain_with_position(dataset, main, 0)
    return scores, info


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4f} ±{sd:.4f} [{min(values):.4f}-{max(values):.4f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="data seeds, comma-separated (default 1,2,3)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="truths, comma-separated (default all)")
    parser.add_argument("--candidates", type=int, default=1500, help="candidates per dataset (default 1500)")
    parser.add_argument("--workplaces", type=int, default=2000, help="workplaces per dataset (default 2000)")
    parser.add_argument("--ablations", action="store_true", help="also the champion without its parts")
    parser.add_argument("--position-bias", type=float, default=None, help="logs with this position bias (eta)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    variants = [v for v in args.variants.split(",") if v.strip()]
    methods = [*MAIN, *(ABLATIONS if args.ablations else ()), *(POSITION if args.position_bias is not None else ())]
    results: dict[str, dict[str, list[float]]] = {v: {m: [] for m in methods} for v in variants}
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            for seed in seeds:
                scores, info = run_one(variant, seed, args, Path(tmp) / f"{variant}-{seed}")
                for m in methods:
                    results[variant][m].append(scores[m])
                runs.append({"variant": variant, "seed": seed, "ndcg_at_10": scores, **info})
                shown = ", ".join(f"{m} {scores[m]:.4f}" for m in methods)
                log(f"[{time.perf_counter() - started:6.0f}s] {variant} seed {seed}: {shown}")
    print(
        f"NDCG@10 over all eligible workplaces of held-out candidates (SYNTHETIC; {args.candidates} x "
        f"{args.workplaces}, seeds {args.seeds}; mean ±sd [min-max]"
        + (f"; position bias {args.position_bias}" if args.position_bias is not None else "")
        + ")"
    )
    width = 34
    print(f"{'method':<20}" + "".join(f"{v:>{width}}" for v in variants))
    for m in methods:
        print(f"{m:<20}" + "".join(f"{spread(results[v][m]):>{width}}" for v in variants))
    wins = {
        v: sum(c > p for c, p in zip(results[v]["champion"], results[v]["plain_lgbm"], strict=True)) for v in variants
    }
    print("champion above plain_lgbm: " + ", ".join(f"{v} {wins[v]}/{len(seeds)}" for v in variants))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "synthetic": True,
        "protocol": "all_eligible NDCG@10, held-out candidates, gains = true expected grade",
        "candidates": args.candidates,
        "workplaces": args.workplaces,
        "seeds": seeds,
        "position_bias": args.position_bias,
        "seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
