"""What a training run spent its time on, and what each part beyond the fit buys, one line each,
from figures the run itself measured (`jobmatch train` prints them after its report).

The fit (the final LightGBM dataset and training) is what any LightGBM ranker costs; the rest
is this project's: cross-validated model choice, the calibration of P(hired), baselines and the
evaluation against them, fairness, the drift reference and the MLflow record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from training.fit import DEFAULT_PARAMS, MAX_ROUNDS
from training.held_out import ALL_ELIGIBLE, LOGGED

if TYPE_CHECKING:
    from training.train import TrainResult

MLFLOW = "MLflow logging"


def cv_gain(result: TrainResult) -> str:
    """What the CV grid chose, and its CV score beside that of the defaults it replaces."""
    tuning = result.tuning
    if tuning is None:
        return ""
    chosen = ", ".join(f"{k}={v}" for k, v in tuning.params.items())
    base = ", linear base" if tuning.linear_base else ", no linear base"
    line = f"chose {chosen}, {tuning.rounds} rounds{base}"
    default = f"num_leaves={DEFAULT_PARAMS['num_leaves']}"
    rounds = max((n for setting, n, _ in tuning.scores if setting == default), default=None)
    for setting, n, score in tuning.scores:
        if setting == default and n == rounds and score == score:
            line += (
                f"; grouped-CV {tuning.criterion} {tuning.score:.4f} vs {score:.4f} for the defaults"
                f" ({default}, {rounds} rounds, no linear base): {tuning.score - score:+.4f}"
            )
            if rounds != MAX_ROUNDS:
                line += f" (the grid stops at {rounds} of {MAX_ROUNDS} rounds)"
            break
    return line


def baseline_gain(result: TrainResult) -> str:
    """The ranker's held-out NDCG@10 beside each baseline's."""
    evaluation = result.evaluation
    protocols = [row.protocol for row in evaluation.rows]
    protocol = ALL_ELIGIBLE if ALL_ELIGIBLE in protocols else LOGGED
    model = evaluation.value(protocol, "model")
    others = [
        f"{row.method} {row.ndcg[10]:.4f}"
        for row in evaluation.rows
        if row.protocol == protocol and row.method not in ("model", "random", "oracle")
    ]
    return f"held-out NDCG@10 ({protocol}) of the ranker {model:.4f} vs " + ", ".join(others)


def buys(result: TrainResult) -> dict[str, str]:
    """Per stage beyond the fit, what it gives the run (only what the run measured or reports)."""
    counts = result.counts
    calibration = result.ranker.meta.get("calibration", {})
    reference = result.ranker.meta.get("feature_reference", {})
    out = {
        "features": f"{counts['logged_pairs']:,} labelled pairs with their features",
        "CV grid": cv_gain(result),
        "fit": f"the ranker: {counts['trees']} trees",
        "calibration": (
            f"P(hired) for allocation and congestion (slope {calibration.get('slope', float('nan')):.4f} on"
            f" {calibration.get('pairs', 0):,} {calibration.get('fitted_on', '')} pairs)"
        ),
        "baselines": baseline_gain(result),
        "evaluation": f"the NDCG table above on {counts['held_out_candidates']:,} held-out candidates",
        "fairness": "exposure and NDCG by age band and gender (the table above)",
        "drift reference": (
            f"what `jobmatch drift` compares new data with ({reference.get('pairs', 0):,} pairs)"
            if isinstance(reference, dict)
            else ""
        ),
        "position effect": "the shown rank's own effect (above), fitted out of the ranker",
        MLFLOW: "the run, its metrics and model card, the registered version and the champion decision",
    }
    return {name: text for name, text in out.items() if text}


def cost_lines(result: TrainResult, total: float) -> list[str]:
    """The split of a training run's `total` wall seconds, and one line per stage on what it buys."""
    stages = result.stages
    lines = stages.lines("where the time went", total)
    fit = stages.seconds.get("fit", 0.0)
    described = buys(result)
    lines.append("what each part buys:")
    for name, seconds in stages.seconds.items():
        if name in described:
            times = f" ({seconds / fit:.1f}x the fit)" if fit > 0 and name != "fit" else ""
            lines.append(f"  {name}{times}: {described[name]}")
    return lines
