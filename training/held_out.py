"""Evaluation on held-out candidates: NDCG@k of the model, the baselines, random and (with a
truth) the oracle, in every protocol, and the calibration check of P(hired).

The protocols:
- `logged`: the logged held-out pairs (gains: the recorded grade); logged pairs are the ones
  advisers chose to suggest, so this flatters a model trained on the same biased logs;
- `all_eligible`: every eligible workplace of each held-out candidate (the shortlist an adviser
  really gets), with the true expected grade as gain. Only synthetic data has that truth.
- `logged_by_workplace`, `all_eligible_by_workplace`: the same pairs grouped by workplace (each
  workplace's held-out candidates ranked, as an employer's shortlist would be).
Promotion is decided in the candidate direction on the `logged` pairs only, with or without a
truth file (per-person measures: `logged_person_measures`; the rule: `training.promotion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset
from matching.model import Ranker
from training.baselines import RandomRanker, Scorer
from training.evaluate import ndcg_at_ks
from training.promotion import PersonMeasures, person_measures
from training.trainset import HIRED_GRADE, GroupBy, PairSet, attach_truth, held_out_mask, pair_set

K_VALUES = (1, 5, 10)
RANDOM_REPEATS = 5


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
        """The most telling protocol for reports: all eligible workplaces when a truth exists, else
        the logged pairs (promotion always decides on the logged pairs; see `training.promotion`)."""
        if self.eligible is not None and self.eligible.truth is not None and len(self.eligible):
            return ALL_ELIGIBLE, self.eligible, self.eligible.truth
        assert self.logged.grade is not None
        return LOGGED, self.logged, self.logged.grade.astype(np.float64)


@dataclass(frozen=True)
class EvaluationRow:
    """One method's NDCG@k (each k of `K_VALUES`) in one protocol."""

    protocol: str
    method: str
    ndcg: dict[int, float]

    def as_dict(self) -> dict[str, str | float]:
        """`protocol`, `method`, `ndcg@1`, `ndcg@5`, `ndcg@10`: a row of `Evaluation.frame`."""
        return {"protocol": self.protocol, "method": self.method, **{f"ndcg@{k}": v for k, v in self.ndcg.items()}}


@dataclass
class Evaluation:
    """NDCG@k per method and protocol on the held-out candidates."""

    rows: list[EvaluationRow] = field(default_factory=list)
    # each method's scores of the held-out logged pairs (candidate direction, `HeldOut.logged` order):
    # the per-person comparisons of `training.promotion` use them
    logged_scores: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, protocol: str, method: str, gains: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        self.rows.append(EvaluationRow(protocol, method, ndcg_at_ks(gains, scores, groups, K_VALUES)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([row.as_dict() for row in self.rows])

    def value(self, protocol: str, method: str, k: int = 10) -> float:
        for row in self.rows:
            if row.protocol == protocol and row.method == method:
                return float(row.ndcg[k])
        return float("nan")

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metric names, e.g. `all_eligible.model.ndcg_at_10`."""
        out = {}
        for row in self.rows:
            for k in K_VALUES:
                out[f"{row.protocol}.{row.method}.ndcg_at_{k}"] = float(row.ndcg[k])
        return out

    def table(self) -> str:
        """The evaluation as a fixed-width text table, with the model's share of the oracle."""
        lines = []
        for protocol in dict.fromkeys(r.protocol for r in self.rows):
            oracle = self.value(protocol, "oracle")
            lines.append(f"{protocol}:")
            lines.append(f"  {'method':<10}{'NDCG@1':>9}{'NDCG@5':>9}{'NDCG@10':>9}{'of oracle@10':>14}")
            for row in (r for r in self.rows if r.protocol == protocol):
                share = row.ndcg[10] / oracle if oracle == oracle and oracle > 0 else float("nan")
                shown = f"{share:>14.3f}" if share == share else f"{'-':>14}"
                lines.append(f"  {row.method:<10}{row.ndcg[1]:>9.4f}{row.ndcg[5]:>9.4f}{row.ndcg[10]:>9.4f}{shown}")
        return "\n".join(lines)


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


def evaluate_all(ranker: Ranker, baselines: dict[str, Scorer], held_out: HeldOut, seed: int) -> Evaluation:
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
        scores = {
            "model": ranker.score(pairs.matrix),
            **{name: baseline(pairs.matrix) for name, baseline in baselines.items()},
        }
        for name, values in scores.items():
            evaluation.add(protocol, name, gains, values, groups)
        if protocol == LOGGED:
            evaluation.logged_scores = {name: np.asarray(values, dtype=np.float64) for name, values in scores.items()}
        random_scores = [
            ndcg_vector(gains, RandomRanker(seed + r).score_pairs(pairs.matrix), groups) for r in range(RANDOM_REPEATS)
        ]
        mean_random = {k: float(np.mean([s[i] for s in random_scores])) for i, k in enumerate(K_VALUES)}
        evaluation.rows.append(EvaluationRow(protocol, "random", mean_random))
        if pairs.truth is not None:
            evaluation.add(protocol, "oracle", gains, pairs.truth, groups)
    return evaluation


def ndcg_vector(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> list[float]:
    """NDCG at each of `K_VALUES`."""
    values = ndcg_at_ks(gains, scores, groups, K_VALUES)
    return [values[k] for k in K_VALUES]


def logged_person_measures(held_out: HeldOut, scores: dict[str, np.ndarray]) -> dict[str, PersonMeasures]:
    """Per scorer, its per-person NDCG@10 and pairwise-order counts on the held-out logged pairs
    (the protocol that exists on real records; see `training.promotion`)."""
    logged = held_out.logged
    assert logged.grade is not None
    return {name: person_measures(logged.grade, values, logged.c_idx) for name, values in scores.items()}


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
