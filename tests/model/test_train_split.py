"""A training run records where its time went, stage by stage, and says what each part beyond
the fit buys; the stages cover the run."""

from __future__ import annotations

import pytest

from training.costs import cost_lines
from training.train import (
    BASELINES,
    CALIBRATION,
    CV_GRID,
    DRIFT_REFERENCE,
    EVALUATION,
    FAIRNESS,
    FEATURES,
    FIT,
    READING,
)


def test_training_stages_cover_the_run(trained) -> None:  # type: ignore[no-untyped-def]
    result = trained.result
    seconds = result.stages.seconds
    for name in (READING, FEATURES, CV_GRID, FIT, CALIBRATION, BASELINES, EVALUATION, FAIRNESS, DRIFT_REFERENCE):
        assert seconds[name] > 0, name
    covered = sum(seconds.values())
    # the stages are timed one after another inside the run: never more than the run, and what
    # none of them covers (the split by candidate, the result's assembly) is a small rest
    assert covered <= result.seconds
    assert covered >= 0.9 * result.seconds


def test_cost_lines_show_the_split_and_what_each_part_buys(trained) -> None:  # type: ignore[no-untyped-def]
    result = trained.result
    total = result.seconds
    lines = cost_lines(result, total)
    assert lines[0] == f"where the time went ({total:.2f}s):"
    table = {line.split()[0]: line for line in lines[1:] if line.startswith("  ") and line.endswith("%")}
    assert {"fit", "baselines", "evaluation", "fairness", "other"} <= set(table)
    shown = sum(float(line.rsplit(None, 2)[1].rstrip("s")) for line in table.values())
    assert shown == pytest.approx(total, abs=0.01 * len(table))
    buys = lines[lines.index("what each part buys:") + 1 :]
    cv = next(line for line in buys if line.startswith("  CV grid"))
    assert result.tuning is not None and f"{result.tuning.rounds} rounds" in cv
    assert f"{result.tuning.score:.4f}" in cv  # the CV score it chose on
    baselines = next(line for line in buys if line.startswith("  baselines"))
    assert f"{result.evaluation.value('all_eligible', 'model'):.4f}" in baselines and "logistic" in baselines
    assert next(line for line in buys if line.startswith("  fit:")).endswith(f"{result.counts['trees']} trees")
