"""Fit the LightGBM lambdarank ranker and evaluate it against baselines on held-out candidates.

Evaluation is done two ways:
- on the logged held-out pairs (gains: the recorded grade); logged pairs are the ones advisers
  chose to suggest, so this flatters a model trained on the same biased logs;
- over every eligible workplace of each held-out candidate (the shortlist an adviser really gets),
  with the true expected grade as gain. Only synthetic data has that truth.

Both are also measured grouped by workplace (`*_by_workplace`: each workplace's held-out
candidates ranked, as an employer's shortlist would be), over the same held-out candidates' pairs.
The candidate direction stays the one that decides promotion.

With an `audit` table, the run also reports fairness by age band and gender over the held-out
candidates (`training.fairness`; the audit table is never a feature). The ranker keeps a drift
reference (`meta["feature_reference"]`, see `matching.drift`): the feature distribution of the
training candidates' eligible pairs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from features.registry import feature_names, monotone_constraints
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset, load_dataset
from matching.drift import EligiblePairs, feature_reference
from matching.model import LinearBase, Ranker
from training.baselines import LogisticRanker, RandomRanker, RuleRanker
from training.evaluate import ndcg_at_k
from training.fairness import FairnessReport, fairness_report
from training.trainset import (
    GROUP_BY,
    HIRED_GRADE,
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

K_VALUES = (1, 5, 10)
RANDOM_REPEATS = 5

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    # linear gains, as the evaluation: a hire is worth 4 trial-less contacts, not 15
    "label_gain": [0, 1, 2, 3, 4],
    "learning_rate": 0.05,
    "num_leaves": 7,
    "max_depth": 6,
    "min_data_in_leaf": 50,
    # randomised split points: smoother functions, less fitting of noisy grades
    "extra_trees": True,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "monotone_constraints_method": "intermediate",
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
MAX_ROUNDS = 600
EARLY_STOPPING = 60
# the early-stopping candidates' pairs calibrate P(hired) when they hold at least this many pairs
# and hires (and non-hires); otherwise all training pairs do
MIN_CALIBRATION_PAIRS = 500
MIN_CALIBRATION_POSITIVES = 25
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


def center_within_groups(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """`values` minus the mean of their group (rows of a group need not be contiguous)."""
    _, inverse = np.unique(groups, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    if values.ndim == 1:
        return values - (np.bincount(inverse, weights=values) / counts)[inverse]
    means = np.stack([np.bincount(inverse, weights=values[:, j]) / counts for j in range(values.shape[1])], axis=1)
    return values - means[inverse]


def fit_linear_base(matrix: np.ndarray, grade: np.ndarray, groups: np.ndarray, directions: list[int]) -> LinearBase:
    """A linear ranker within groups: least squares of grade on standardised features, both
    centred per group (per candidate, so a person's overall prospects do not leak into workplace
    weights; or per workplace for a workplace-grouped ranker), each weight kept to its feature's
    declared direction; features without one get no weight.

    Noisy, selection-biased logs are where a linear ranker holds up best; the booster then adds
    what is not linear. With the base, more of any `+1` feature never lowers a score.
    """
    x = np.asarray(matrix, dtype=np.float64)
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    scale = x.std(axis=0) if len(x) else np.ones(x.shape[1])
    scale = np.where(scale > 1e-9, scale, 1.0)
    sign = np.asarray(directions, dtype=np.float64)
    used = sign != 0
    weight = np.zeros(x.shape[1])
    if len(x) > used.sum() and used.any():
        z = center_within_groups((x[:, used] - mean[used]) / scale[used] * sign[used], groups)
        y = center_within_groups(np.asarray(grade, dtype=np.float64), groups)
        if np.abs(y).sum() > 0:
            fit = LinearRegression(positive=True, fit_intercept=False).fit(z, y)
            weight[used] = fit.coef_ * sign[used]
    return LinearBase(tuple(mean.tolist()), tuple(scale.tolist()), tuple(weight.tolist()))


def fit_ranker(
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    num_rounds: int = MAX_ROUNDS,
    names: list[str] | None = None,
    constraints: list[int] | None = None,
    init: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> lgb.Booster:
    """Fit a lambdarank booster.

    Args:
        train: `(matrix, grade, group_sizes)` of the training candidates.
        valid: the same for early stopping, or None to run all rounds.
        params: LightGBM parameters over `DEFAULT_PARAMS`.
        seed: LightGBM's seed.
        progress: called every 50 rounds with the validation NDCG.
        num_rounds: most boosting rounds.
        names: feature names (default: the registry's).
        constraints: monotone constraints (default: each registered feature's direction).
        init: scores to boost from (train, valid), e.g. the linear base's.

    Returns:
        The fitted booster, cut at its best round when early stopping ran.
    """
    names = names if names is not None else feature_names()
    merged = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    if constraints is None and names == feature_names():
        constraints = monotone_constraints()
    if constraints is not None:
        merged["monotone_constraints"] = constraints
    matrix, grade, groups = train
    train_init, valid_init = init if init is not None else (None, None)
    data = lgb.Dataset(
        matrix, label=grade, group=groups, feature_name=names, init_score=train_init, free_raw_data=False
    )
    callbacks: list[Any] = []
    valid_sets = []
    if valid is not None and len(valid[0]):
        valid_sets = [lgb.Dataset(valid[0], label=valid[1], group=valid[2], init_score=valid_init, reference=data)]
        callbacks.append(lgb.early_stopping(EARLY_STOPPING, verbose=False))

    def report(env: lgb.callback.CallbackEnv) -> None:
        if progress and (env.iteration + 1) % 50 == 0:
            scores = ", ".join(f"{name} {value:.4f}" for _, name, value, _ in env.evaluation_result_list)
            progress(f"  round {env.iteration + 1}/{num_rounds} {scores}")

    callbacks.append(report)
    booster = lgb.train(merged, data, num_boost_round=num_rounds, valid_sets=valid_sets, callbacks=callbacks)
    if valid_sets and booster.best_iteration > 0:
        booster = booster.model_from_string(booster.model_to_string(num_iteration=booster.best_iteration))
    return booster


class CalibrationError(ValueError):
    """P(hired) cannot be calibrated on the model's scores (no hires, or higher scores do not mean
    more hires): training fails rather than register a model whose expected success would mislead."""


def fit_calibration(scores: np.ndarray, grade: np.ndarray, fitted_on: str) -> dict[str, Any]:
    """Platt calibration of P(hired | score): logistic regression of "grade reached hired" on the
    1-D score (practically unpenalised).

    Raises:
        CalibrationError: when the pairs hold no hire or no non-hire, or the slope is not positive.
    """
    hired = (np.asarray(grade) >= HIRED_GRADE).astype(np.int64)
    positives = int(hired.sum())
    if positives == 0 or positives == len(hired):
        raise CalibrationError(
            f"cannot calibrate P(hired) on {len(hired)} {fitted_on} pairs with {positives} hires: need both outcomes"
        )
    x = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(x, hired)
    return {
        "slope": float(fit.coef_[0, 0]),
        "intercept": float(fit.intercept_[0]),
        "target": "hired",
        "pairs": len(hired),
        "positives": positives,
        "fitted_on": fitted_on,
    }


def calibrate(ranker: Ranker, fit_pairs: PairSet, stop_pairs: PairSet, say: Callable[[str], None]) -> dict[str, Any]:
    """P(hired | score) on the early-stopping candidates' logged pairs (not fitted on) when there
    are enough of them, else on all training pairs (the fitting ones are in-sample for the trees).

    A non-positive slope on the early-stopping pairs falls back to all training pairs; if the
    slope is not positive there either, training fails (`CalibrationError`).
    """
    assert fit_pairs.grade is not None and stop_pairs.grade is not None
    attempts: list[tuple[str, np.ndarray, np.ndarray]] = []
    stop_hires = int((stop_pairs.grade >= HIRED_GRADE).sum())
    if (
        len(stop_pairs) >= MIN_CALIBRATION_PAIRS
        and MIN_CALIBRATION_POSITIVES <= stop_hires <= len(stop_pairs) - MIN_CALIBRATION_POSITIVES
    ):
        attempts.append(("validation", stop_pairs.matrix, stop_pairs.grade))
    else:
        say(
            f"only {len(stop_pairs)} early-stopping pairs with {stop_hires} hires: calibrating P(hired) on all"
            " training pairs"
        )
    matrix = np.concatenate([fit_pairs.matrix, stop_pairs.matrix])
    attempts.append(("training", matrix, np.concatenate([fit_pairs.grade, stop_pairs.grade])))
    calibration: dict[str, Any] = {}
    for fitted_on, matrix, grade in attempts:
        calibration = fit_calibration(ranker.score(matrix), grade, fitted_on)
        if calibration["slope"] > 0:
            say(
                f"calibrated P(hired) on {calibration['pairs']} {fitted_on} pairs ({calibration['positives']} hires):"
                f" slope {calibration['slope']:.4f}, intercept {calibration['intercept']:.4f}"
            )
            return calibration
        say(f"P(hired) calibration on {fitted_on} pairs has slope {calibration['slope']:.4f} <= 0")
    raise CalibrationError(
        f"higher scores do not mean more hires (calibration slope {calibration['slope']:.4f} on"
        f" {calibration['pairs']} {calibration['fitted_on']} pairs): the model must not be registered"
    )


def true_p_hired(pairs: PairSet, truth: pd.DataFrame | None) -> np.ndarray | None:
    """The synthetic truth's P(hired) of each pair (None without a truth file or its column)."""
    if truth is None or "p_hired" not in truth.columns:
        return None
    keys = pd.MultiIndex.from_arrays([pairs.candidate_ids, pairs.workplace_ids])
    values = truth.set_index(["candidate_id", "workplace_id"])["p_hired"].reindex(keys).to_numpy(dtype=np.float64)
    return None if np.isnan(values).all() else values


def calibration_check(ranker: Ranker, held_out: HeldOut, truth: pd.DataFrame | None) -> dict[str, float]:
    """Calibration-in-the-large on held-out candidates: mean predicted P(hired) against the observed
    hire rate of the logged pairs and, with a truth file, against the true P(hired) of the logged
    pairs and of every eligible pair (the calibration is fitted on logged pairs only, so the latter
    shows how far it carries beyond the pairs advisers chose)."""
    out: dict[str, float] = {}
    logged = held_out.logged
    if logged.grade is None or len(logged) == 0:
        return out
    predicted = ranker.expected_success(ranker.score(logged.matrix))
    out["held_out_logged.mean_p_hired"] = float(predicted.mean())
    out["held_out_logged.hire_rate"] = float((logged.grade >= HIRED_GRADE).mean())
    true = true_p_hired(logged, truth)
    if true is not None:
        out["held_out_logged.true_p_hired"] = float(np.nanmean(true))
    eligible = held_out.eligible
    if eligible is not None and len(eligible):
        true = true_p_hired(eligible, truth)
        if true is not None:
            out["held_out_eligible.mean_p_hired"] = float(ranker.expected_success(ranker.score(eligible.matrix)).mean())
            out["held_out_eligible.true_p_hired"] = float(np.nanmean(true))
    return out


@dataclass
class Evaluation:
    """NDCG@k per method and protocol on the held-out candidates."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, protocol: str, method: str, gains: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        row: dict[str, Any] = {"protocol": protocol, "method": method}
        for k in K_VALUES:
            row[f"ndcg@{k}"] = ndcg_at_k(gains, scores, groups, k)
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def value(self, protocol: str, method: str, k: int = 10) -> float:
        for row in self.rows:
            if row["protocol"] == protocol and row["method"] == method:
                return float(row[f"ndcg@{k}"])
        return float("nan")

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metric names, e.g. `all_eligible.model.ndcg_at_10`."""
        out = {}
        for row in self.rows:
            for k in K_VALUES:
                out[f"{row['protocol']}.{row['method']}.ndcg_at_{k}"] = float(row[f"ndcg@{k}"])
        return out

    def table(self) -> str:
        """The evaluation as a fixed-width text table, with the model's share of the oracle."""
        lines = []
        for protocol in dict.fromkeys(r["protocol"] for r in self.rows):
            oracle = self.value(protocol, "oracle")
            lines.append(f"{protocol}:")
            lines.append(f"  {'method':<10}{'NDCG@1':>9}{'NDCG@5':>9}{'NDCG@10':>9}{'of oracle@10':>14}")
            for row in (r for r in self.rows if r["protocol"] == protocol):
                share = row["ndcg@10"] / oracle if oracle == oracle and oracle > 0 else float("nan")
                shown = f"{share:>14.3f}" if share == share else f"{'-':>14}"
                lines.append(
                    f"  {row['method']:<10}{row['ndcg@1']:>9.4f}{row['ndcg@5']:>9.4f}{row['ndcg@10']:>9.4f}{shown}"
                )
        return "\n".join(lines)


LOGGED = "logged"
ALL_ELIGIBLE = "all_eligible"
LOGGED_BY_WORKPLACE = "logged_by_workplace"
ALL_ELIGIBLE_BY_WORKPLACE = "all_eligible_by_workplace"


@dataclass
class HeldOut:
    """The held-out candidates' pairs, in both protocols, for evaluating any scorer."""

    logged: PairSet
    eligible: PairSet | None

    def primary(self) -> tuple[str, PairSet, np.ndarray]:
        """The protocol that decides promotion: all eligible workplaces when a truth exists."""
        if self.eligible is not None and self.eligible.truth is not None and len(self.eligible):
            return ALL_ELIGIBLE, self.eligible, self.eligible.truth
        assert self.logged.grade is not None
        return LOGGED, self.logged, self.logged.grade.astype(np.float64)


@dataclass
class TrainResult:
    """What one training run produced."""

    ranker: Ranker
    evaluation: Evaluation
    held_out: HeldOut
    dataset: Dataset
    params: dict[str, Any]
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


def build_held_out(
    dataset: Dataset,
    candidates: CandidateTable,
    pool: WorkplacePool,
    logged: PairSet,
    exclude_unmet_required: bool,
) -> HeldOut:
    """Held-out pairs: logged ones, and (with a truth file) every eligible workplace of each."""
    eligible = None
    if dataset.truth is not None:
        eligible = held_out_eligible(candidates, pool, exclude_unmet_required)
        attach_truth(eligible, dataset.truth)
    return HeldOut(logged, eligible)


def held_out_eligible(candidates: CandidateTable, pool: WorkplacePool, exclude_unmet_required: bool) -> PairSet:
    """Every eligible pair of the held-out candidates who may be matched (consenting, active)."""
    ids = candidates.frame["candidate_id"].to_numpy()
    rows = eligible_candidates(candidates.frame)
    rows = rows[held_out_mask(ids[rows])] if len(rows) else rows
    c_idx, w_idx = pool.generate_pairs(candidates.arrays, rows, exclude_unmet_required)
    return pair_set(candidates, pool, c_idx, w_idx)


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
    params: dict[str, Any] | None = None,
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
    baselines: dict[str, Any] = {
        "rule": RuleRanker().fit(train_pairs.matrix, train_pairs.grade),
        "logistic": LogisticRanker(random_state=seed).fit(train_pairs.matrix, train_pairs.grade),
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
    merged = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
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


def by_workplace(pairs: PairSet, gains: np.ndarray) -> tuple[PairSet, np.ndarray]:
    """The pairs and gains regrouped by workplace, leaving out workplaces with a single pair.

    A single pair has no order to judge: NDCG would be 1 for every method (random included), and
    most workplaces have one logged held-out pair. As in `ndcg_at_k`, workplaces whose gains are
    all zero are left out and all-equal positive gains score 1 for any order.
    """
    order = np.lexsort((pairs.c_idx, pairs.w_idx))
    _, inverse, counts = np.unique(pairs.w_idx[order], return_inverse=True, return_counts=True)
    keep = order[counts[inverse] >= 2]
    return pairs.subset(keep), np.asarray(gains, dtype=np.float64)[keep]


def evaluate_all(ranker: Ranker, baselines: dict[str, Any], held_out: HeldOut, seed: int) -> Evaluation:
    """NDCG@k of the model, each baseline, random and (with a truth) the oracle: both protocols,
    grouped by candidate and (`*_by_workplace`) by workplace."""
    evaluation = Evaluation()
    protocols: list[tuple[str, PairSet, np.ndarray, GroupBy]] = []
    assert held_out.logged.grade is not None
    logged_gains = held_out.logged.grade.astype(np.float64)
    protocols.append((LOGGED, held_out.logged, logged_gains, "candidate"))
    if held_out.eligible is not None and held_out.eligible.truth is not None:
        protocols.append((ALL_ELIGIBLE, held_out.eligible, held_out.eligible.truth, "candidate"))
    protocols.append((LOGGED_BY_WORKPLACE, *by_workplace(held_out.logged, logged_gains), "workplace"))
    if held_out.eligible is not None and held_out.eligible.truth is not None:
        eligible, gains = by_workplace(held_out.eligible, held_out.eligible.truth)
        protocols.append((ALL_ELIGIBLE_BY_WORKPLACE, eligible, gains, "workplace"))
    for protocol, pairs, gains, group_by in protocols:
        if len(pairs) == 0:
            continue
        groups = pairs.group_keys(group_by)
        evaluation.add(protocol, "model", gains, ranker.score(pairs.matrix), groups)
        for name, baseline in baselines.items():
            evaluation.add(protocol, name, gains, baseline.score_pairs(pairs.matrix), groups)
        random_scores = [
            ndcg_vector(gains, RandomRanker(seed + r).score_pairs(pairs.matrix), groups) for r in range(RANDOM_REPEATS)
        ]
        row = {"protocol": protocol, "method": "random"}
        for i, k in enumerate(K_VALUES):
            row[f"ndcg@{k}"] = float(np.mean([s[i] for s in random_scores]))
        evaluation.rows.append(row)
        if pairs.truth is not None:
            evaluation.add(protocol, "oracle", gains, pairs.truth, groups)
    return evaluation


def ndcg_vector(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> list[float]:
    """NDCG at each of `K_VALUES`."""
    return [ndcg_at_k(gains, scores, groups, k) for k in K_VALUES]
