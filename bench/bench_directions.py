"""Both directions from one model? Rank workplaces for a candidate (advisers) and candidates for a
workplace (employers).

On generated data (2,000 candidates x 3,000 workplaces; standard variant seeds 7, 11, 13 and the
alternative variant seed 7) two rankers are trained on the same training candidates:

- `model_cand`: the normal ranker, lambdarank groups and linear-base centring per candidate;
- `model_wp`: the same, grouped (and centred) per workplace (`train_ranker(group_by="workplace")`).

Both are evaluated in both directions over every eligible workplace of each held-out candidate
(gain: the truth's expected grade): grouped by candidate (`all_eligible`) and by workplace
(`all_eligible_by_workplace`, workplaces with a single held-out pair left out), beside the rule,
logistic, random and oracle. The held-out split is by candidate in both directions.

Besides NDCG@10 per method, the paired difference `model_cand - model_wp` is given with its
standard error over the groups of that direction (same groups, same gains, so the noise of the
groups' difficulty cancels).

All data are SYNTHETIC (the project generator). Run: `python bench/bench_directions.py`.
Figures are printed and written to `bench/results/directions.json`.
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

from matching.datasets import load_dataset  # noqa: E402
from training.evaluate import ndcg_per_group  # noqa: E402
from training.held_out import ALL_ELIGIBLE, ALL_ELIGIBLE_BY_WORKPLACE, by_workplace  # noqa: E402
from training.synthetic import generate_dataset  # noqa: E402
from training.train import TrainResult, train_ranker  # noqa: E402

RUNS = (("standard", 7), ("standard", 11), ("standard", 13), ("alternative", 7))
CANDIDATES, WORKPLACES = 2000, 3000
DIRECTIONS = {"candidate": ALL_ELIGIBLE, "workplace": ALL_ELIGIBLE_BY_WORKPLACE}
METHODS = ("model_cand", "model_wp", "rule", "logistic", "random", "oracle")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def paired_difference(cand: TrainResult, wp: TrainResult, direction: str) -> dict[str, float]:
    """Mean and standard error over groups of NDCG@10(model_cand) - NDCG@10(model_wp)."""
    eligible = cand.held_out.eligible
    assert eligible is not None and eligible.truth is not None
    pairs, gains = eligible, eligible.truth
    if direction == "workplace":
        pairs, gains = by_workplace(eligible, eligible.truth)
    groups = pairs.group_keys("workplace" if direction == "workplace" else "candidate")
    a = ndcg_per_group(gains, cand.ranker.score(pairs.matrix), groups, 10)
    b = ndcg_per_group(gains, wp.ranker.score(pairs.matrix), groups, 10)
    diff = a - b
    return {
        "mean": float(diff.mean()),
        "se": float(diff.std(ddof=1) / np.sqrt(len(diff))),
        "groups": len(diff),
        "share_cand_better": float((diff > 1e-12).mean()),
        "share_wp_better": float((diff < -1e-12).mean()),
    }


def run_one(variant: str, seed: int, root: Path) -> dict[str, Any]:
    folder = root / f"{variant}-{seed}"
    started = time.perf_counter()
    generate_dataset(folder, CANDIDATES, WORKPLACES, seed=seed, variant=variant)
    dataset = load_dataset(folder)
    cand = train_ranker(dataset, seed=0, group_by="candidate")
    wp = train_ranker(dataset, seed=0, group_by="workplace")
    out: dict[str, Any] = {
        "variant": variant,
        "seed": seed,
        "trees": {"model_cand": cand.counts["trees"], "model_wp": wp.counts["trees"]},
        "held_out_eligible_pairs": cand.counts["held_out_eligible_pairs"],
        "ndcg@10": {},
        "cand_minus_wp": {},
    }
    for direction, protocol in DIRECTIONS.items():
        values = {
            "model_cand": cand.evaluation.value(protocol, "model"),
            "model_wp": wp.evaluation.value(protocol, "model"),
        }
        for method in METHODS[2:]:
            values[method] = cand.evaluation.value(protocol, method)
            # baselines do not depend on the model's grouping: both runs must agree
            assert abs(values[method] - wp.evaluation.value(protocol, method)) < 1e-9, (method, protocol)
        out["ndcg@10"][direction] = values
        out["cand_minus_wp"][direction] = paired_difference(cand, wp, direction)
    out["seconds"] = round(time.perf_counter() - started, 1)
    log(f"{variant} seed {seed}: {out['seconds']}s")
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    for direction in DIRECTIONS:
        lines.append(f"NDCG@10, {direction} direction ({DIRECTIONS[direction]}), held-out candidates:")
        lines.append(f"  {'data':<14}" + "".join(f"{m:>11}" for m in METHODS) + f"{'cand-wp (se)':>20}")
        for r in results:
            v, d = r["ndcg@10"][direction], r["cand_minus_wp"][direction]
            lines.append(
                f"  {r['variant'][:3] + ' seed ' + str(r['seed']):<14}"
                + "".join(f"{v[m]:>11.4f}" for m in METHODS)
                + f"{d['mean']:>+11.4f} ({d['se']:.4f})"
            )
        standard = [r for r in results if r["variant"] == "standard"]
        medians = {m: statistics.median(r["ndcg@10"][direction][m] for r in standard) for m in METHODS}
        diff = statistics.median(r["cand_minus_wp"][direction]["mean"] for r in standard)
        lines.append(f"  {'median std':<14}" + "".join(f"{medians[m]:>11.4f}" for m in METHODS) + f"{diff:>+11.4f}")
        lines.append("")
    trees = ", ".join(
        f"{r['variant'][:3]} {r['seed']}: {r['trees']['model_cand']}/{r['trees']['model_wp']}" for r in results
    )
    lines.append(f"trees (model_cand/model_wp, early stopping): {trees}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "directions.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_one(variant, seed, Path(tmp)) for variant, seed in RUNS]
    printed = table(results)
    print(printed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        direction: {
            "median_standard_ndcg@10": {
                m: statistics.median(r["ndcg@10"][direction][m] for r in results if r["variant"] == "standard")
                for m in METHODS
            },
            "median_standard_cand_minus_wp": statistics.median(
                r["cand_minus_wp"][direction]["mean"] for r in results if r["variant"] == "standard"
            ),
        }
        for direction in DIRECTIONS
    }
    args.out.write_text(
        json.dumps({"size": [CANDIDATES, WORKPLACES], "runs": results, "summary": summary}, indent=2),
        encoding="utf-8",
    )
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
