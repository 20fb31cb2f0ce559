"""Should the ranker see how alike a workplace's occupation is to the person's wishes?

On generated data (default 2,000 candidates x 3,000 workplaces, seeds 1-8, the standard and the
alternative truth) the ranker is trained (`train_ranker`, current fitting) with four versions of
the preferred-occupation signal and evaluated by NDCG@10 over every eligible workplace of each
held-out candidate (gain: the truth's expected grade), beside the rule and logistic baselines:

- `earlier`: the registered `interest_preferred_occupation` (1 a wish, 0.5 its minor group, else 0);
- `similarity`: that feature replaced by `matching.occupations.wish_similarity` (the similarity
  of the nearest wish, 1 a wish);
- `banded`: replaced by the similarity banded by the minor group (1 a wish; at least 0.5 inside
  its minor group; at most 0.49 outside it), so the earlier 1 / 0.5 / 0 can still be read off it;
- `beside`: the registered feature kept and the similarity added as one more feature.

The truths' own preference term is exactly `earlier` (`training/synthetic_truth.py`), so a truth
built this way cannot reward a similarity across groups: the question these figures answer is
whether the graded signal costs anything, not whether it helps people.

All data are SYNTHETIC (the project generator). Run: `python bench/bench_related.py [--seeds 1,2]`.
Figures are printed and written to `bench/results/related.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import features.compute as compute  # noqa: E402
import features.registry as registry  # noqa: E402
from features.pairs import PairFrame  # noqa: E402
from matching.datasets import load_dataset  # noqa: E402
from matching.occupations import CODE_DIGITS, occupation_index, shared_digits, wish_similarity  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402
from training.train import train_ranker  # noqa: E402

NAME = "interest_preferred_occupation"
METHODS = ("model", "rule", "logistic")


def banded_matrix() -> np.ndarray:
    index = occupation_index()
    shared = shared_digits(index.numbers[:, None], index.numbers[None, :])
    inside, outside = np.maximum(index.matrix, 0.5), np.minimum(index.matrix, 0.49)
    return np.where(shared >= CODE_DIGITS, 1.0, np.where(shared == CODE_DIGITS - 1, inside, outside))


def variants() -> dict[str, tuple[registry.Feature, ...]]:
    banded = banded_matrix()

    def banded_similarity(p: PairFrame) -> np.ndarray:
        return wish_similarity(p, banded)

    def replaced(compute_with: Callable[[PairFrame], np.ndarray]) -> tuple[registry.Feature, ...]:
        return tuple(dataclasses.replace(f, compute=compute_with) if f.name == NAME else f for f in original)

    original = registry.FEATURES
    beside = []
    for f in original:
        beside.append(f)
        if f.name == NAME:
            beside.append(registry.Feature("interest_wish_similarity", "interest", wish_similarity, "", "", +1))
    return {
        "earlier": original,
        "similarity": replaced(wish_similarity),
        "banded": replaced(banded_similarity),
        "beside": tuple(beside),
    }


def use(features: tuple[registry.Feature, ...]) -> None:
    registry.FEATURES = features
    compute.FEATURES = features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--workplaces", type=int, default=3000)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = variants()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for truth in ("standard", "alternative"):
                folder = Path(tmp) / f"{seed}-{truth}"
                generate_dataset(folder, args.candidates, args.workplaces, seed, variant=truth)
                dataset = load_dataset(folder)
                for name, features in runs.items():
                    use(features)
                    evaluation = train_ranker(dataset, seed=seed).evaluation
                    row = {"seed": seed, "truth": truth, "variant": name}
                    row |= {m: round(evaluation.value("all_eligible", m, 10), 4) for m in METHODS}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    use(runs["earlier"])
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for truth in ("standard", "alternative"):
        summary[truth] = {}
        for name in runs:
            for method in METHODS:
                mine = {r["seed"]: r[method] for r in rows if r["truth"] == truth and r["variant"] == name}
                base = {r["seed"]: r[method] for r in rows if r["truth"] == truth and r["variant"] == "earlier"}
                diff = [mine[s] - base[s] for s in seeds]
                summary[truth][f"{name}.{method}"] = {
                    "mean": round(statistics.mean(mine.values()), 4),
                    "minus_earlier": round(statistics.mean(diff), 4),
                    "sd_of_difference": round(statistics.stdev(diff), 4) if len(diff) > 1 else 0.0,
                }
    out = ROOT / "bench" / "results" / "related.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"synthetic": True, "candidates": args.candidates, "workplaces": args.workplaces, "seeds": seeds}
    out.write_text(json.dumps(result | {"runs": rows, "summary": summary}, indent=2) + "\n", encoding="utf-8")
    for truth, figures in summary.items():
        print(f"\n{truth} truth: NDCG@10 over all eligible held-out pairs (mean; minus earlier, sd)")
        for key, value in figures.items():
            print(f"  {key:<22}{value['mean']:.4f}  {value['minus_earlier']:+.4f}  ({value['sd_of_difference']:.4f})")


if __name__ == "__main__":
    main()
