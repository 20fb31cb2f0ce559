"""Train the ranker on a dataset: split by candidate, fit (`training.fit`), evaluate against
baselines on held-out candidates (`training.held_out`), and keep a drift reference.

With an `audit` table, the run also reports fairness by age band and gender over the held-out
candidates (`training.fairness`; the audit table is never a feature). The ranker keeps a drift
reference (`meta["feature_reference"]`, see `matching.drift`): the feature distribution of the
training candidates' eligible pairs. Logging and registering the run is `training.lifecycle`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.registry import feature_names, monotone_constraints
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset, load_dataset
from matching.drift import EligiblePairs, feature_reference
from matching.model import Ranker
from matching.rules import RuleRanker
from training.baselines import LogisticRanker, Scorer
from training.fairness import FairnessReport, fairness_report
from training.fit import DEFAULT_PARAMS, MAX_ROUNDS, Params, calibrate, fit_linear_base, fit_ranker
from training.held_out import Evaluation, HeldOut, build_held_out, calibration_check, evaluate_all, held_out_eligible
from training.trainset import (
    GROUP_BY,
    GroupBy,
    attach_truth,
    held_out_mask,
    logged_pairs,
    merge_pairs,
    pair_set,
    stored_pairs,
    valid_mask,
)

# the drift reference describes the eligible pairs of (a seeded sample of) the training candidates
REFERENCE_MAX_PAIRS = 500_000
REFERENCE_SOURCE = "eligible pairs of the training candidates"


class Progress:
    """Step-by-step progress on standard error, with elapsed seconds."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.start:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class TrainResult:
    """What one training run produced."""

    ranker: Ranker
    evaluation: Evaluation
    held_out: HeldOut
    dataset: Dataset
    params: Params
    counts: dict[str, int]
    seconds: float
    calibration_check: dict[str, float] = field(default_factory=dict)
    fairness: FairnessReport | None = None

    def report_lines(self) -> list[str]:
        """What training prints: the evaluation table and (with an audit table) the fairness report."""
        lines = ["NDCG on held-out candidates (linear gains):", self.evaluation.table()]
        if self.fairness is not None:
            lines += ["", *self.fairness.lines()]
        return lines


def training_reference(
    candidates: CandidateTable,
    pool: WorkplacePool,
    exclude_unmet_required: bool,
    seed: int = 0,
    max_pairs: int = REFERENCE_MAX_PAIRS,
) -> dict[str, Any]:
    """The drift reference (`meta["feature_reference"]`, see `matching.drift`): the feature
    distribution of the eligible pairs of the training candidates (consenting, active, not held
    out), the pairs the model is meant to score, rather than the logged pairs advisers picked; a
    seeded sample of candidates when their pairs exceed `max_pairs`."""
    ids = candidates.frame["candidate_id"].to_numpy()
    rows = eligible_candidates(candidates.frame)
    rows = rows[~held_out_mask(ids[rows])] if len(rows) else rows
    sample = EligiblePairs(candidates, pool, rows, exclude_unmet_required, max_pairs, seed)
    matrices = [pair_set(candidates, pool, c_idx, w_idx).matrix for c_idx, w_idx in sample]
    matrix = np.concatenate(matrices) if matrices else np.zeros((0, len(feature_names())), dtype=np.float32)
    return feature_reference(
        matrix,
        feature_names(),
        REFERENCE_SOURCE + (" (a random sample of candidates)" if sample.sampled else ""),
        candidates=len(rows),
        sampled=sample.sampled,
        exclude_unmet_required=exclude_unmet_required,
    )


def train_ranker(
    data: str | Path | Dataset,
    seed: int = 0,
    params: Params | None = None,
    exclude_unmet_required: bool = True,
    progress: Callable[[str], None] | None = None,
    num_rounds: int = MAX_ROUNDS,
    early_stopping: bool = True,
    stored: pd.DataFrame | None = None,
    group_by: GroupBy = "candidate",
) -> TrainResult:
    """Load a dataset, fit the ranker on training candidates and evaluate it on held-out ones.

    `stored` adds the store's decided suggestions (`stored_outcomes(..., with_features=True)`),
    with the feature values the model saw; where a pair is in both, the stored one wins.

    With `early_stopping`, a fifth of the training candidates decide when boosting stops (at most
    `num_rounds`); without, all training candidates fit exactly `num_rounds` rounds.

    `group_by="workplace"` fits the lambdarank groups and the linear base's centring per workplace
    instead of per candidate (an employer-direction ranker, for comparison); the split into
    training, early-stopping and held-out candidates stays by candidate.

    Raises:
        DataContractError: when the dataset breaks the contract or has no outcomes.
        ValueError: when the split leaves no training or no held-out candidates with outcomes.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, not {group_by!r}")
    if isinstance(data, Dataset):
        dataset = data
    else:
        say(f"loading and validating {data}")
        dataset = load_dataset(data)
    candidates = CandidateTable.build(dataset.candidates)
    pool = WorkplacePool(dataset.workplaces)
    say("computing features of the logged pairs")
    has_outcomes = dataset.outcomes is not None and len(dataset.outcomes) > 0
    if stored is not None and len(stored):
        from_store = stored_pairs(stored, candidates, pool)
        say(f"{len(from_store)} labelled pairs from the store's decisions and outcomes")
        pairs = merge_pairs(logged_pairs(dataset, candidates, pool), from_store) if has_outcomes else from_store
    else:
        pairs = logged_pairs(dataset, candidates, pool)
    if dataset.truth is not None:
        attach_truth(pairs, dataset.truth)
    test = held_out_mask(pairs.candidate_ids)
    train_pairs, test_pairs = pairs.subset(~test), pairs.subset(test)
    if len(train_pairs) == 0 or len(test_pairs) == 0:
        raise ValueError(
            f"the split by candidate left {len(train_pairs)} training and {len(test_pairs)} held-out pairs;"
            " the dataset needs outcomes for more candidates"
        )
    stop = valid_mask(train_pairs.candidate_ids) if early_stopping else np.zeros(len(train_pairs), dtype=bool)
    fit_pairs, stop_pairs = train_pairs.subset(~stop), train_pairs.subset(stop)
    n_train = len(np.unique(train_pairs.candidate_ids))
    n_test = len(np.unique(test_pairs.candidate_ids))
    say(
        f"split by candidate: {n_train} training candidates ({len(train_pairs)} pairs), "
        f"{n_test} held out ({len(test_pairs)} pairs)"
    )
    if group_by == "workplace":
        fit_pairs, stop_pairs = fit_pairs.grouped("workplace"), stop_pairs.grouped("workplace")
    assert fit_pairs.grade is not None and stop_pairs.grade is not None
    say(f"fitting the linear base within {group_by}s")
    linear = fit_linear_base(fit_pairs.matrix, fit_pairs.grade, fit_pairs.group_keys(group_by), monotone_constraints())
    say(f"fitting LightGBM lambdarank grouped by {group_by} on top of it")
    booster = fit_ranker(
        (fit_pairs.matrix, fit_pairs.grade, fit_pairs.group_sizes(group_by)),
        (stop_pairs.matrix, stop_pairs.grade, stop_pairs.group_sizes(group_by)) if len(stop_pairs) else None,
        params=params,
        seed=seed,
        progress=say,
        num_rounds=num_rounds,
        init=(linear.score(fit_pairs.matrix), linear.score(stop_pairs.matrix) if len(stop_pairs) else None),
    )
    ranker = Ranker.from_booster(booster, meta={"group_by": group_by}, linear=linear)
    say(f"fitted {booster.num_trees()} trees")
    ranker.meta["calibration"] = calibrate(ranker, fit_pairs, stop_pairs, say)
    say("fitting baselines and evaluating on held-out candidates")
    assert train_pairs.grade is not None
    baselines: dict[str, Scorer] = {
        "rule": RuleRanker(ranker.catalogue).score,
        "logistic": LogisticRanker(random_state=seed).fit(train_pairs.matrix, train_pairs.grade).score_pairs,
    }
    held_out = build_held_out(dataset, candidates, pool, test_pairs, exclude_unmet_required)
    evaluation = evaluate_all(ranker, baselines, held_out, seed)
    fairness = None
    if dataset.audit is not None and len(dataset.audit):
        eligible = held_out.eligible
        if eligible is None:
            eligible = held_out_eligible(candidates, pool, exclude_unmet_required)
        fairness = fairness_report(ranker, dataset.audit, candidates, test_pairs, eligible, progress=say)
    say("describing the eligible pairs of the training candidates (drift reference)")
    ranker.meta["feature_reference"] = training_reference(candidates, pool, exclude_unmet_required, seed)
    counts = {
        "candidates": len(dataset.candidates),
        "workplaces": len(dataset.workplaces),
        "logged_pairs": len(pairs),
        "train_candidates": n_train,
        "held_out_candidates": n_test,
        "train_pairs": len(train_pairs),
        "held_out_pairs": len(test_pairs),
        "held_out_eligible_pairs": len(held_out.eligible) if held_out.eligible is not None else 0,
        "trees": booster.num_trees(),
    }
    merged: Params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    return TrainResult(
        ranker,
        evaluation,
        held_out,
        dataset,
        merged,
        counts,
        time.perf_counter() - started,
        calibration_check(ranker, held_out, dataset.truth),
        fairness,
    )
