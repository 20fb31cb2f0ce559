"""Fitting the ranker: the LightGBM booster (by default a pointwise Poisson model of the expected
grade under the features' monotone constraints), its few hyperparameters chosen by grouped
cross-validation on the training candidates (`grouped_cv`), an optional linear base within groups
to boost from, and the Platt calibration of P(hired) on its scores. `training.train` runs them on
a dataset.

Why Poisson rather than lambdarank: the truth a shortlist should follow is the expected grade of
every eligible pair, while the logs hold 2-10 adviser-chosen pairs per person. A pointwise model
of E[grade | features] uses every logged pair's level, not only its order within a short list,
and with monotone constraints it carries over to the many eligible pairs unlike those advisers
picked. Measured on synthetic truths (`bench/bench_quality.py`), it ranks all eligible
workplaces better than lambdarank, with or without the linear base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GroupKFold

from features.registry import feature_names, monotone_constraints
from matching.model import LinearBase, Ranker
from training.evaluate import ndcg_at_k
from training.trainset import HIRED_GRADE, PairSet

# LightGBM parameters (names as LightGBM spells them)
Params = dict[str, str | int | float | bool | list[int]]

DEFAULT_PARAMS: Params = {
    # the expected grade, pointwise (see the module's docstring); lambdarank also works
    "objective": "poisson",
    "metric": "ndcg",
    "eval_at": [10],
    # linear gains, as the evaluation: a hire is worth 4 trial-less contacts, not 15 (lambdarank only)
    "label_gain": [0, 1, 2, 3, 4],
    "learning_rate": 0.05,
    "num_leaves": 7,
    "max_depth": 6,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "monotone_constraints_method": "intermediate",
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
MAX_ROUNDS = 600
# below this many rows one thread fits faster than two (thread start-up and waits dominate)
SMALL_FIT_ROWS = 100_000
EARLY_STOPPING = 60
# what grouped cross-validation chooses among for the ranker: leaves per tree and rounds
CV_FOLDS = 3
CV_GRID: tuple[Params, ...] = ({"num_leaves": 3}, {"num_leaves": 7}, {"num_leaves": 15})
CV_ROUNDS = (100, 200, 400, 600)
# the early-stopping candidates' pairs calibrate P(hired) when they hold at least this many pairs
# and hires (and non-hires); otherwise all training pairs do
MIN_CALIBRATION_PAIRS = 500
MIN_CALIBRATION_POSITIVES = 25


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


def poisson_deviance(grade: np.ndarray, raw: np.ndarray) -> float:
    """Mean Poisson deviance of grades against log-scale predictions (lower is better)."""
    mu = np.exp(np.clip(raw, -30.0, 30.0))
    y = np.asarray(grade, dtype=np.float64)
    ratio = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(2.0 * np.mean(ratio - (y - mu)))


@dataclass(frozen=True)
class CvResult:
    """What grouped cross-validation chose, and the mean NDCG@10 of every setting it tried."""

    params: Params
    rounds: int
    scores: tuple[tuple[str, int, float], ...]  # (setting, rounds, mean score over folds, higher better)
    linear_base: bool = False
    criterion: str = "NDCG@10"
    score: float = float("nan")  # the chosen setting's

    def describe(self) -> str:
        best = self.score
        chosen = ", ".join(f"{k}={v}" for k, v in self.params.items())
        base = ", boosted from the linear base" if self.linear_base else ""
        tried = len(self.scores)
        return f"{chosen}, {self.rounds} rounds{base} (grouped CV {self.criterion} {best:.4f} over {tried} settings)"


def boost_start(linear: LinearBase | None, grade: np.ndarray, objective: str) -> tuple[LinearBase | None, float]:
    """The linear base as the booster's starting score, and the constant to add to it at fitting:
    for a Poisson booster (log scale) the base divided by the mean grade (log(m + l) ~ log m + l/m)
    and log m; for lambdarank the base as it is and 0."""
    if objective != "poisson":
        return linear, 0.0
    m = max(float(np.mean(grade)) if len(grade) else 1.0, 1e-3)
    if linear is None:
        return None, float(np.log(m))
    return LinearBase(linear.mean, linear.scale, tuple(w / m for w in linear.weight)), float(np.log(m))


def grouped_cv(
    matrix: np.ndarray,
    grade: np.ndarray,
    groups: np.ndarray,
    params: Params,
    grid: Sequence[Params] = CV_GRID,
    rounds: Sequence[int] = CV_ROUNDS,
    folds: int = CV_FOLDS,
    constraints: list[int] | None = None,
    seed: int = 0,
    linear_options: Sequence[bool] = (False,),
) -> CvResult:
    """Choose among `grid` (each over `params`), `rounds` and (`linear_options`) boosting from a
    linear base or not, by grouped K-fold cross-validation: whole groups (candidates) in each fold.
    A Poisson booster is judged by the mean Poisson deviance of the held-out folds' grades (it
    models the expected grade; NDCG within the 2-10 logged pairs of a person is too coarse and
    noisy to choose its size: it favoured too few rounds for ranking all eligible workplaces), any
    other objective by NDCG@10 of the recorded grades within each held-out candidate's logged
    pairs. One fit per setting and fold serves every round count. Ties go to the smaller model (no
    linear base, earlier in `grid`, fewer rounds).

    Rows must be grouped (each group's rows contiguous), as `PairSet`s are.
    """
    matrix = np.asarray(matrix)
    grade = np.asarray(grade)
    settings = [(linear, setting) for linear in linear_options for setting in grid]
    n_folds = min(folds, len(np.unique(groups)))
    if n_folds < 2:
        return CvResult(dict(grid[0]), int(rounds[0]), (), bool(linear_options[0]))
    splits = list(GroupKFold(n_splits=n_folds).split(matrix, grade, groups))
    per_fold = np.zeros((len(settings), len(rounds), n_folds))
    objective = str(params.get("objective", DEFAULT_PARAMS["objective"]))
    # the linear base keeps to the features' declared directions, with or without tree constraints
    if matrix.shape[1] == len(feature_names()):
        directions = monotone_constraints()
    else:
        directions = constraints if constraints is not None else [0] * matrix.shape[1]
    for g, (use_linear, setting) in enumerate(settings):
        for fold, (fit_rows, test_rows) in enumerate(splits):
            fit_rows, test_rows = np.sort(fit_rows), np.sort(test_rows)
            base: LinearBase | None = None
            init = None
            start = 0.0
            if use_linear:
                fitted = fit_linear_base(matrix[fit_rows], grade[fit_rows], groups[fit_rows], directions)
                base, start = boost_start(fitted, grade[fit_rows], objective)
                assert base is not None
                init = (base.score(matrix[fit_rows]) + start, None)
            booster = fit_ranker(
                (matrix[fit_rows], grade[fit_rows], run_lengths(groups[fit_rows])),
                None,
                # small fits: one thread is several times faster than two on a busy machine
                params={**params, **setting, "num_threads": 1},
                seed=seed,
                num_rounds=max(rounds),
                names=[f"f{j}" for j in range(matrix.shape[1])],
                constraints=constraints,
                init=init,
            )
            offset = base.score(matrix[test_rows]) + start if base is not None else 0.0
            truth = grade[test_rows].astype(np.float64)
            for r, n_rounds in enumerate(rounds):
                scores = offset + np.asarray(booster.predict(matrix[test_rows], num_iteration=n_rounds, raw_score=True))
                if objective == "poisson":
                    per_fold[g, r, fold] = -poisson_deviance(truth, scores)
                else:
                    per_fold[g, r, fold] = ndcg_at_k(truth, scores, groups[test_rows], 10)
    means = per_fold.mean(axis=2)
    best = np.flatnonzero(means.ravel() >= means.max() - 1e-12)[0]
    g, r = divmod(int(best), len(rounds))
    with_base = [i for i, (use_linear, _) in enumerate(settings) if use_linear]
    if with_base and not settings[g][0]:
        # the linear base carries the declared directions beyond the logged pairs' range, which the
        # folds (logged pairs too) cannot show: kept unless the trees alone are better by more
        # than the folds' noise (one standard error of the paired difference)
        flat = means[with_base].ravel()
        pos = int(np.flatnonzero(flat >= flat.max() - 1e-12)[0])
        g_lin, r_lin = with_base[pos // len(rounds)], pos % len(rounds)
        difference = per_fold[g, r] - per_fold[g_lin, r_lin]
        if difference.mean() <= difference.std(ddof=1) / np.sqrt(n_folds):
            g, r = g_lin, r_lin

    def label(use_linear: bool, setting: Params) -> str:
        return ", ".join([f"{k}={v}" for k, v in setting.items()] + (["linear base"] if use_linear else []))

    table = tuple(
        (label(*settings[i]), int(n), float(means[i, j])) for i in range(len(settings)) for j, n in enumerate(rounds)
    )
    criterion = "-Poisson deviance" if objective == "poisson" else "NDCG@10"
    return CvResult(dict(settings[g][1]), int(rounds[r]), table, bool(settings[g][0]), criterion, float(means[g, r]))


def run_lengths(keys: np.ndarray) -> np.ndarray:
    """Rows per run of equal keys, in order (LightGBM's `group` of grouped rows)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.diff(np.r_[starts, len(keys)])


def fit_ranker(
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    params: Params | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    num_rounds: int = MAX_ROUNDS,
    names: list[str] | None = None,
    constraints: list[int] | None = None,
    init: tuple[np.ndarray, np.ndarray | None] | None = None,
    position: np.ndarray | None = None,
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
        position: the rank each training pair was shown at (LightGBM's position-bias correction;
            lambdarank only), or None.

    Returns:
        The fitted booster, cut at its best round when early stopping ran.
    """
    names = names if names is not None else feature_names()
    merged: Params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    merged.setdefault("num_threads", 1 if len(train[0]) < SMALL_FIT_ROWS else 2)
    if constraints is None and names == feature_names():
        constraints = monotone_constraints()
    if constraints is not None:
        merged["monotone_constraints"] = constraints
    matrix, grade, groups = train
    train_init, valid_init = init if init is not None else (None, None)
    data = lgb.Dataset(
        matrix,
        label=grade,
        group=groups,
        feature_name=names,
        init_score=train_init,
        position=position,
        free_raw_data=False,
    )
    callbacks: list[Callable[[lgb.callback.CallbackEnv], None]] = []
    valid_sets: list[lgb.Dataset] = []
    if valid is not None and len(valid[0]):
        valid_sets = [lgb.Dataset(valid[0], label=valid[1], group=valid[2], init_score=valid_init, reference=data)]
        callbacks.append(lgb.early_stopping(EARLY_STOPPING, verbose=False))

    def report(env: lgb.callback.CallbackEnv) -> None:
        if progress and (env.iteration + 1) % 50 == 0:
            # (dataset, metric, value, higher is better): a tuple before LightGBM 4.7, an EvalResult since
            scores = ", ".join(f"{result[1]} {result[2]:.4f}" for result in env.evaluation_result_list or [])
            progress(f"  round {env.iteration + 1}/{num_rounds} {scores}")

    callbacks.append(report)
    booster = lgb.train(merged, data, num_boost_round=num_rounds, valid_sets=valid_sets, callbacks=callbacks)
    if valid_sets and booster.best_iteration > 0:
        booster = booster.model_from_string(booster.model_to_string(num_iteration=booster.best_iteration))
    return booster


class Calibration(TypedDict):
    """A Platt calibration of P(hired | score), kept in `meta["calibration"]`."""

    slope: float
    intercept: float
    target: str
    pairs: int
    positives: int
    fitted_on: str


class CalibrationError(ValueError):
    """P(hired) cannot be calibrated on the model's scores (no hires, or higher scores do not mean
    more hires): training fails rather than register a model whose expected success would mislead."""


def fit_calibration(scores: np.ndarray, grade: np.ndarray, fitted_on: str) -> Calibration:
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


def calibrate(ranker: Ranker, fit_pairs: PairSet, stop_pairs: PairSet, say: Callable[[str], None]) -> Calibration:
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
    calibration: Calibration | None = None
    for fitted_on, matrix, grade in attempts:
        calibration = fit_calibration(ranker.score(matrix), grade, fitted_on)
        if calibration["slope"] > 0:
            say(
                f"calibrated P(hired) on {calibration['pairs']} {fitted_on} pairs ({calibration['positives']} hires):"
                f" slope {calibration['slope']:.4f}, intercept {calibration['intercept']:.4f}"
            )
            return calibration
        say(f"P(hired) calibration on {fitted_on} pairs has slope {calibration['slope']:.4f} <= 0")
    assert calibration is not None  # the training pairs are always tried
    raise CalibrationError(
        f"higher scores do not mean more hires (calibration slope {calibration['slope']:.4f} on"
        f" {calibration['pairs']} {calibration['fitted_on']} pairs): the model must not be registered"
    )
