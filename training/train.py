"""Train the ranker on a dataset: split by candidate, choose the booster's size by grouped
cross-validation on the training candidates and fit it (`training.fit`), evaluate it against
baselines on held-out candidates (`training.held_out`): the rule, logistic regression and a plain
LightGBM lambdarank tuned the same way (`training.baselines`), and keep a drift reference.

When the outcomes carry the rank each suggestion was shown at (`shown_rank`), the run estimates
how much the rank itself changes what advisers pursue (`training.position`) and fits the ranker
net of it.

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
from matching.timing import Stages
from training.baselines import LogisticRanker, PlainLambdaRank, Scorer
from training.fairness import FairnessReport, fairness_report
from training.fit import (
    DEFAULT_PARAMS,
    MAX_ROUNDS,
    CvResult,
    Params,
    boost_start,
    calibrate,
    fit_linear_base,
    fit_ranker,
    grouped_cv,
)
from training.held_out import Evaluation, HeldOut, build_held_out, calibration_check, evaluate_all, held_out_eligible
from training.position import PositionEffect, position_effect, rank_offsets, shown_ranks
from training.trainset import (
    GROUP_BY,
    GroupBy,
    PairSet,
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
# the stages of a training run, as printed (`TrainResult.stages`)
READING = "reading data"
FEATURES = "features"
POSITION = "position effect"
CV_GRID = "CV grid"
LINEAR_BASE = "linear base"
FIT = "fit"
CALIBRATION = "calibration"
BASELINES = "baselines"
EVALUATION = "evaluation"
FAIRNESS = "fairness"
DRIFT_REFERENCE = "drift reference"


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
    tuning: CvResult | None = None
    position: PositionEffect | None = None
    stages: Stages = field(default_factory=Stages)

    def report_lines(self) -> list[str]:
        """What training prints: what cross-validation chose, the position effect (with shown
        ranks), the evaluation table and (with an audit table) the fairness report."""
        lines = []
        if self.tuning is not None:
            lines.append(f"ranker chosen by grouped cross-validation: {self.tuning.describe()}")
        if self.position is not None:
            lines += [*self.position.lines(), ""]
        lines += ["NDCG on held-out candidates (linear gains):", self.evaluation.table()]
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
    linear_base: bool | None = None,
    monotone: bool = True,
    position_correction: bool = True,
    plain_baseline: bool = True,
    stages: Stages | None = None,
) -> TrainResult:
    """Load a dataset, fit the ranker on training candidates and evaluate it on held-out ones.

    `stored` adds the store's decided suggestions (`stored_outcomes(..., with_features=True)`),
    with the feature values the model saw; where a pair is in both, the stored one wins.

    With `early_stopping` (the default), grouped cross-validation on the training candidates
    chooses the leaves per tree and the rounds (at most `num_rounds`; `params` given here win over
    its choice), the booster is fitted on four fifths of the training candidates and the fifth
    left calibrates P(hired); without, all training candidates fit exactly `num_rounds` rounds.

    `linear_base=True` boosts from a linear ranker fitted within groups, `False` never, `None` (the
    default) as the grouped cross-validation decides (kept unless the trees alone are better by
    more than the folds' noise); `monotone=False` drops the features' monotone constraints;
    `position_correction=False` ignores shown ranks (by default, when the outcomes carry them, the
    ranker is fitted net of the rank's estimated effect, per-rank offsets: on position-biased
    synthetic logs this ranked all eligible workplaces slightly better on average, see
    `bench/bench_quality.py --position-bias`); `plain_baseline=False` leaves the tuned plain
    lambdarank out of the evaluation (it is refitted with its own cross-validation, the costliest
    baseline). The defaults are what ranked all eligible workplaces best on the synthetic truths
    (`bench/bench_quality.py`).

    Each part's wall seconds go to `stages` (a new `Stages` when None), kept as `TrainResult.stages`.

    `group_by="workplace"` fits the lambdarank groups and the linear base's centring per workplace
    instead of per candidate (an employer-direction ranker, for comparison); the split into
    training, early-stopping and held-out candidates stays by candidate.

    Raises:
        DataContractError: when the dataset breaks the contract or has no outcomes.
        ValueError: when the split leaves no training or no held-out candidates with outcomes.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    stages = stages if stages is not None else Stages()
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, not {group_by!r}")
    if isinstance(data, Dataset):
        dataset = data
    else:
        say(f"loading and validating {data}")
        with stages.time(READING):
            dataset = load_dataset(data)
    say("computing features of the logged pairs")
    with stages.time(FEATURES):
        candidates = CandidateTable.build(dataset.candidates)
        pool = WorkplacePool(dataset.workplaces)
        pairs = labelled_pairs(dataset, candidates, pool, stored, say)
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
    assert fit_pairs.grade is not None and stop_pairs.grade is not None and train_pairs.grade is not None
    names = feature_names()
    constraints = monotone_constraints() if monotone else [0] * len(names)
    base_params: Params = {**DEFAULT_PARAMS, **(params or {})}
    objective = str(base_params["objective"])
    position: PositionEffect | None = None
    offsets = (np.zeros(len(fit_pairs)), np.zeros(len(stop_pairs)))
    ranks = shown_ranks(dataset.outcomes, pairs)
    if ranks is not None:
        train_ranks = ranks[~test]
        with stages.time(POSITION):
            position = position_effect(train_pairs.matrix, train_pairs.grade, train_ranks)
        if position is not None:
            say(f"estimated the shown rank's own effect on {sum(position.pairs)} logged training pairs")
            if position_correction and group_by == "candidate" and objective == "poisson":
                say("fitting the ranker net of the shown rank (per-rank offsets)")
                offsets = (rank_offsets(position, train_ranks[~stop]), rank_offsets(position, train_ranks[stop]))
    tuning: CvResult | None = None
    rounds = num_rounds
    if early_stopping:
        say(f"choosing leaves and rounds by grouped cross-validation on the {n_train} training candidates")
        cv_pairs = train_pairs if group_by == "candidate" else train_pairs.grouped("workplace")
        assert cv_pairs.grade is not None
        with stages.time(CV_GRID):
            tuning = grouped_cv(
                cv_pairs.matrix,
                cv_pairs.grade,
                cv_pairs.group_keys(group_by),
                {**base_params, "seed": seed},
                rounds=[r for r in (100, 200, 400, 600) if r <= num_rounds] or [num_rounds],
                constraints=constraints,
                seed=seed,
                linear_options=(False, True) if linear_base is None else (linear_base,),
            )
        base_params = {**base_params, **tuning.params, **(params or {})}
        rounds = tuning.rounds
        linear_base = tuning.linear_base
        say(f"chosen: {tuning.describe()}")
    linear_base = bool(linear_base)
    linear = None
    init: tuple[np.ndarray, np.ndarray] | None = None
    with stages.time(LINEAR_BASE):
        if linear_base:
            say(f"fitting the linear base within {group_by}s")
            fitted = fit_linear_base(
                fit_pairs.matrix, fit_pairs.grade, fit_pairs.group_keys(group_by), monotone_constraints()
            )
            linear = boost_start(fitted, fit_pairs.grade, objective)[0]
        if linear is not None or offsets[0].any():
            start = boost_start(None, fit_pairs.grade, objective)[1]
            init = (start + offsets[0], start + offsets[1])
            if linear is not None:
                init = (init[0] + linear.score(fit_pairs.matrix), init[1] + linear.score(stop_pairs.matrix))
    say(f"fitting LightGBM ({objective}) grouped by {group_by}")
    # with tuning, the early-stopping candidates are left out for calibrating P(hired) only
    with stages.time(FIT):
        booster = fit_ranker(
            (fit_pairs.matrix, fit_pairs.grade, fit_pairs.group_sizes(group_by)),
            None
            if tuning is not None or not len(stop_pairs)
            else (stop_pairs.matrix, stop_pairs.grade, stop_pairs.group_sizes(group_by)),
            params=base_params,
            seed=seed,
            progress=say,
            num_rounds=rounds,
            constraints=constraints,
            init=init if init is None or len(stop_pairs) else (init[0], None),
        )
    ranker = Ranker.from_booster(
        booster,
        meta={
            "group_by": group_by,
            "objective": objective,
            "monotone": monotone,
            "linear_base": linear_base,
            "position_correction": bool(position is not None and offsets[0].any()),
            **({"tuning": tuning.describe()} if tuning is not None else {}),
            **({"position_effect": position.metrics()} if position is not None else {}),
        },
        linear=linear,
    )
    say(f"fitted {booster.num_trees()} trees")
    with stages.time(CALIBRATION):
        ranker.meta["calibration"] = calibrate(ranker, fit_pairs, stop_pairs, say)
    say("fitting baselines and evaluating on held-out candidates")
    with stages.time(BASELINES):
        baselines = fit_baselines(ranker, train_pairs, seed, plain_baseline, say)
    with stages.time(EVALUATION):
        held_out = build_held_out(dataset, candidates, pool, test_pairs, exclude_unmet_required)
        evaluation = evaluate_all(ranker, baselines, held_out, seed)
    fairness = None
    if dataset.audit is not None and len(dataset.audit):
        with stages.time(FAIRNESS):
            eligible = held_out.eligible
            if eligible is None:
                eligible = held_out_eligible(candidates, pool, exclude_unmet_required)
            fairness = fairness_report(ranker, dataset.audit, candidates, test_pairs, eligible, progress=say)
    say("describing the eligible pairs of the training candidates (drift reference)")
    with stages.time(DRIFT_REFERENCE):
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
    merged: Params = {
        **base_params,
        "seed": seed,
        "rounds": rounds,
        "monotone": monotone,
        "linear_base": linear_base,
        "position_correction": bool(ranker.meta["position_correction"]),
    }
    with stages.time(EVALUATION):
        check = calibration_check(ranker, held_out, dataset.truth)
    return TrainResult(
        ranker,
        evaluation,
        held_out,
        dataset,
        merged,
        counts,
        time.perf_counter() - started,
        check,
        fairness,
        tuning,
        position,
        stages,
    )


def labelled_pairs(
    dataset: Dataset,
    candidates: CandidateTable,
    pool: WorkplacePool,
    stored: pd.DataFrame | None,
    say: Callable[[str], None],
) -> PairSet:
    """The logged pairs of the dataset and (where given) the store's decided suggestions, with
    their features and grades (and the truth's expected grades, where the dataset has them)."""
    has_outcomes = dataset.outcomes is not None and len(dataset.outcomes) > 0
    if stored is not None and len(stored):
        from_store = stored_pairs(stored, candidates, pool)
        say(f"{len(from_store)} labelled pairs from the store's decisions and outcomes")
        pairs = merge_pairs(logged_pairs(dataset, candidates, pool), from_store) if has_outcomes else from_store
    else:
        pairs = logged_pairs(dataset, candidates, pool)
    if dataset.truth is not None:
        attach_truth(pairs, dataset.truth)
    return pairs


def fit_baselines(
    ranker: Ranker, train_pairs: PairSet, seed: int, plain_baseline: bool, say: Callable[[str], None]
) -> dict[str, Scorer]:
    """The baselines the ranker is evaluated against: the rule, logistic regression and (with
    `plain_baseline`) a plain LightGBM lambdarank tuned by its own grouped cross-validation."""
    assert train_pairs.grade is not None
    baselines: dict[str, Scorer] = {
        "rule": RuleRanker(ranker.catalogue).score,
        "logistic": LogisticRanker(random_state=seed).fit(train_pairs.matrix, train_pairs.grade).score_pairs,
    }
    if plain_baseline:
        plain = PlainLambdaRank(random_state=seed).fit(train_pairs.matrix, train_pairs.grade, train_pairs.c_idx)
        say(f"plain LightGBM lambdarank baseline chosen by grouped cross-validation: {plain.cv_.describe()}")
        baselines["plain_lgbm"] = plain.score_pairs
    return baselines
