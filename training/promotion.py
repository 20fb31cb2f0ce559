"""The champion rule: a paired bootstrap over held-out persons, and the decision it supports.

Real records have no truth file, so a challenger and the champion can only be compared on the
held-out persons' logged pairs (pairs advisers suggested, with the recorded grade). NDCG@10 on
those pairs cannot tell good rankers apart (even the synthetic oracle scores below the logistic
baseline on it), and a strict `>` on two point values moves the champion on noise. Here both
models score the SAME held-out persons' logged pairs, and each person gives:

- `ndcg`: NDCG@10 over the person's logged pairs with the recorded grade as gain (linear gains,
  ties in score keep the input order, as `training.evaluate.ndcg_at_k`); none (nan) for a person
  whose grades are all zero;
- `concordant`, `comparable`: of the person's logged pairs of different grade (`comparable`), how
  many the scores put in the grades' order (`concordant`; a tie in score counts one half). The
  pairwise-order accuracy of a set of persons is sum(concordant) / sum(comparable): a per-person
  AUC over every graded comparison, pooled so that a person counts by their comparisons. With
  2-10 logged pairs per person it uses every pair of different grade, where NDCG@10 mostly hinges
  on where the best-graded pairs land and drops persons whose grades are all zero. On the
  synthetic runs measured for this rule the two separated models about equally well (difference
  over interval width within about 15% of each other); pairwise order is primary because it uses
  every person with two different grades and reads plainly ("orders 59% of the pairs right").

`bootstrap` resamples persons with replacement (seeded, `RESAMPLES` times) and recomputes each
scorer's two measures on each resample; every scorer sees the same resamples, so differences are
paired (a person's own difficulty cancels out). `compare` gives the point difference and the
percentile interval (95%) of (challenger - other).

The decision (`decide`), identical with and without a truth file so it holds on real records:

1. `pairwise` is the primary measure: the lower end of the interval of (challenger - champion)
   must be above zero (the challenger orders the persons' outcomes better, beyond resampling noise);
2. NDCG@10 is a guard: the challenger must not be significantly worse than the champion (the
   upper end of (challenger - champion) must not be below zero). Asking it to be better as well
   would ask for two significant results where one measure carries the same evidence, and lose
   power for nothing; a clear loss on the top of the list still stops a promotion;
3. baselines (rule and logistic; others evaluated with the model are reported, not decided on,
   see `training.champion.DECIDING_BASELINES`): no baseline may be
   significantly better than the challenger on the primary measure, i.e. the upper end of
   (challenger - baseline) must not be below zero (equivalently, the lower end of
   (baseline - challenger) must not be above zero). Non-inferiority with a margin would need a
   margin nobody can justify on real records and would block good models whenever the interval
   is wide; a baseline that is better beyond noise is a clear sign the model learnt something wrong;
4. fairness: the challenger must raise no new flag (attribute, group, metric under the
   four-fifths rule; `training.fairness`): a flag the champion does not also raise on the same
   persons counts when the group's ratio to the best group is lower than the champion's beyond
   noise (`ratio_interval`: the upper end of (challenger ratio - champion ratio) below zero).
   A ratio near the threshold crosses it on noise alone (small groups, a noisy best group), so a
   bare new flag is reported, not decided on. Where the champion's flags are unknown they count
   as none (and every new flag counts), and the reasons say so.

Without a champion the first model becomes champion. A data scientist can override the decision
with a recorded reason (`jobmatch train --force REASON`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
SEED = 20240601
K = 10
PAIRWISE = "pairwise"
NDCG = "ndcg@10"
MEASURES = (PAIRWISE, NDCG)
PRIMARY = PAIRWISE
CHAMPION = "champion"
CHALLENGER = "model"
# the largest block of the (resamples x persons) count matrix drawn at once
BLOCK_CELLS = 4_000_000
# the largest block of (persons x pairs of a group size) compared at once
PAIR_CELLS = 4_000_000


@dataclass(frozen=True)
class PersonMeasures:
    """One scorer's per-person values on the held-out logged pairs (one entry per person, in the
    order of the persons' groups)."""

    ndcg: np.ndarray
    concordant: np.ndarray
    comparable: np.ndarray

    def __len__(self) -> int:
        return len(self.ndcg)

    def pairwise(self) -> float:
        """Pairwise-order accuracy over all persons (nan when no person has pairs of different grade)."""
        total = float(self.comparable.sum())
        return float(self.concordant.sum()) / total if total > 0 else float("nan")

    def mean_ndcg(self) -> float:
        """Mean NDCG@10 over persons with a positive grade (nan when there is none)."""
        values = self.ndcg[~np.isnan(self.ndcg)]
        return float(values.mean()) if len(values) else float("nan")

    def value(self, measure: str) -> float:
        """The measure's value over all persons."""
        return self.pairwise() if measure == PAIRWISE else self.mean_ndcg()


def group_bounds(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and size of each run of equal values in `groups` (rows of a group must be contiguous)."""
    groups = np.asarray(groups)
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return starts, np.diff(np.r_[starts, len(groups)])


def ndcg_per_person(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = K) -> np.ndarray:
    """NDCG@k of each group (linear gains, 1/log2(rank + 1) discounts, ties in score keep the input
    order); nan for a group without a positive gain."""
    gains = np.asarray(gains, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    starts, sizes = group_bounds(groups)
    if len(starts) == 0:
        return np.zeros(0)
    gid = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(gains)) - np.repeat(starts, sizes)
    discount = np.where(position < k, 1.0 / np.log2(position + 2.0), 0.0)
    by_score = np.lexsort((position, -scores, gid))
    by_gain = np.lexsort((position, -gains, gid))
    dcg = np.bincount(gid, weights=gains[by_score] * discount, minlength=len(starts))
    ideal = np.bincount(gid, weights=gains[by_gain] * discount, minlength=len(starts))
    return np.divide(dcg, ideal, out=np.full(len(starts), np.nan), where=ideal > 0)


def pairwise_per_person(grades: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group: `(concordant, comparable)`: pairs of rows of different grade, and how many of
    them the scores order as the grades do (a tie in score counts one half)."""
    grades = np.asarray(grades, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    starts, sizes = group_bounds(groups)
    concordant = np.zeros(len(starts))
    comparable = np.zeros(len(starts))
    for size in np.unique(sizes):
        if size < 2:
            continue
        first, second = np.triu_indices(int(size), 1)
        which = np.flatnonzero(sizes == size)
        step = max(1, PAIR_CELLS // len(first))
        for begin in range(0, len(which), step):
            part = which[begin : begin + step]
            rows = starts[part][:, None] + np.arange(size)[None, :]
            by_grade = np.sign(grades[rows][:, first] - grades[rows][:, second])
            by_score = np.sign(scores[rows][:, first] - scores[rows][:, second])
            differ = by_grade != 0
            comparable[part] = differ.sum(axis=1)
            concordant[part] = (differ & (by_grade == by_score)).sum(axis=1) + 0.5 * (differ & (by_score == 0)).sum(
                axis=1
            )
    return concordant, comparable


def person_measures(grades: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = K) -> PersonMeasures:
    """A scorer's per-person NDCG@k and pairwise counts on logged pairs (rows grouped by person).

    Args:
        grades: the recorded grade of each pair (the gain).
        scores: the scorer's score of each pair (higher first).
        groups: the person of each pair; a person's rows must be contiguous.
        k: the NDCG cut-off.
    """
    concordant, comparable = pairwise_per_person(grades, scores, groups)
    return PersonMeasures(ndcg_per_person(grades, scores, groups, k), concordant, comparable)


def resample_counts(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of bootstrap counts: row r says how often each of `n` persons is drawn (with
    replacement, `n` draws) in resample r. Seeded, so the same call gives the same resamples."""
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, BLOCK_CELLS // max(n, 1)))
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        draws = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)
        done += size


def bootstrap(
    measures: Mapping[str, PersonMeasures], resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, dict[str, np.ndarray]]:
    """Each scorer's measures on the same bootstrap resamples of persons.

    Args:
        measures: per scorer, its per-person values; every scorer must cover the same persons in
            the same order.
        resamples: number of resamples of persons.
        seed: the resampling seed.

    Returns:
        Per scorer and measure (`pairwise`, `ndcg@10`), the value on each resample (nan where a
        resample has nothing to measure).
    """
    sizes = {len(m) for m in measures.values()}
    if len(sizes) > 1:
        raise ValueError(f"the scorers cover different numbers of persons: {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    out: dict[str, dict[str, list[np.ndarray]]] = {name: {m: [] for m in MEASURES} for name in measures}
    if n == 0:
        return {name: {m: np.full(resamples, np.nan) for m in MEASURES} for name in measures}
    any_measures = next(iter(measures.values()))
    comparable = any_measures.comparable
    for counts in resample_counts(n, resamples, seed):
        pair_total = counts @ comparable
        for name, values in measures.items():
            if not np.array_equal(values.comparable, comparable):
                raise ValueError("the scorers were measured on different pairs")
            has_ndcg = ~np.isnan(values.ndcg)
            ndcg_total = counts @ has_ndcg.astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name][PAIRWISE].append((counts @ values.concordant) / pair_total)
                out[name][NDCG].append((counts @ np.where(has_ndcg, values.ndcg, 0.0)) / ndcg_total)
    return {name: {m: np.concatenate(parts) for m, parts in per.items()} for name, per in out.items()}


@dataclass(frozen=True)
class Comparison:
    """The challenger against one other scorer on one measure, over the same held-out persons."""

    other: str
    measure: str
    challenger: float
    other_value: float
    difference: float  # challenger - other
    low: float  # the interval of the difference
    high: float
    level: float = LEVEL

    @property
    def better(self) -> bool:
        """The challenger is better beyond resampling noise (the interval is above zero)."""
        return bool(self.low > 0)

    @property
    def worse(self) -> bool:
        """The challenger is worse beyond resampling noise (the interval is below zero)."""
        return bool(self.high < 0)

    def describe(self) -> str:
        """One line: the values, the difference and its interval."""
        return (
            f"{self.measure}: model {self.challenger:.4f} vs {self.other} {self.other_value:.4f}, difference"
            f" {self.difference:+.4f} ({self.level:.0%} interval {self.low:+.4f} to {self.high:+.4f})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "other": self.other,
            "measure": self.measure,
            "challenger": self.challenger,
            "other_value": self.other_value,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "level": self.level,
        }


def compare(
    measures: Mapping[str, PersonMeasures],
    challenger: str = CHALLENGER,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> list[Comparison]:
    """The challenger against every other scorer in `measures`, on both measures: point values,
    the difference (challenger - other) and its paired bootstrap percentile interval.

    Raises:
        ValueError: when `challenger` is not among the scorers, or when they cover different persons.
    """
    if challenger not in measures:
        raise ValueError(f"no scorer named {challenger!r}")
    draws = bootstrap(measures, resamples, seed)
    tail = (1.0 - level) / 2.0 * 100.0
    out = []
    for other in measures:
        if other == challenger:
            continue
        for measure in MEASURES:
            diff = draws[challenger][measure] - draws[other][measure]
            diff = diff[~np.isnan(diff)]
            low, high = (
                (float(np.percentile(diff, tail)), float(np.percentile(diff, 100.0 - tail)))
                if len(diff)
                else (float("nan"), float("nan"))
            )
            mine, theirs = measures[challenger].value(measure), measures[other].value(measure)
            out.append(Comparison(other, measure, mine, theirs, mine - theirs, low, high, level))
    return out


def ratio_interval(
    challenger: np.ndarray,
    champion: np.ndarray,
    groups: np.ndarray,
    group: Any,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> tuple[float, float, float]:
    """A group's ratio to the best group (as the fairness report flags it: the group's mean of a
    per-person value over the best group's mean), challenger minus champion, with the paired
    bootstrap interval over persons.

    Args:
        challenger: the challenger's value per person (nan: none).
        champion: the champion's value for the same persons.
        groups: each person's group (of one attribute).
        group: the group whose ratio is compared.

    Returns:
        `(difference, low, high)` of (challenger ratio - champion ratio); nan when not measurable.
    """
    labels, index = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    where = np.flatnonzero(labels == str(group))
    n = len(index)
    if n == 0 or len(where) == 0:
        return float("nan"), float("nan"), float("nan")
    member = np.zeros((n, len(labels)))
    member[np.arange(n), index] = 1.0

    def ratios(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        present = ~np.isnan(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (counts @ (member * np.where(present, values, 0.0)[:, None])) / (
                counts @ (member * present[:, None])
            )
            best = np.nanmax(np.where(np.isnan(means), -np.inf, means), axis=1)
            return np.asarray(means[:, where[0]] / np.where(best > 0, best, np.nan))

    whole = np.ones((1, n))
    point = float((ratios(challenger, whole) - ratios(champion, whole))[0])
    draws = np.concatenate([ratios(challenger, c) - ratios(champion, c) for c in resample_counts(n, resamples, seed)])
    draws = draws[~np.isnan(draws)]
    if len(draws) == 0:
        return point, float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    return point, float(np.percentile(draws, tail)), float(np.percentile(draws, 100.0 - tail))


@dataclass
class Decision:
    """Whether the challenger becomes champion, and why."""

    promote: bool
    reasons: list[str]
    comparisons: list[Comparison] = field(default_factory=list)
    new_flags: list[str] = field(default_factory=list)
    forced: str | None = None

    def find(self, other: str, measure: str) -> Comparison | None:
        """The comparison with `other` on `measure`, if made."""
        return next((c for c in self.comparisons if c.other == other and c.measure == measure), None)


def decide(
    comparisons: list[Comparison],
    challenger_flags: set[str],
    champion_flags: set[str] | None,
    champion: str = CHAMPION,
    flag_changes: Mapping[str, tuple[float, float, float]] | None = None,
) -> Decision:
    """Apply the champion rule (see the module docstring) to comparisons made by `compare`, with
    `champion` among the other scorers and the baselines the rest.

    Args:
        comparisons: the challenger against the champion and each baseline.
        challenger_flags: the challenger's fairness flags (`attribute=group:metric`).
        champion_flags: the champion's, or None when unknown (then taken as none).
        champion: the champion's name among the comparisons.
        flag_changes: per flag, `ratio_interval` of the flagged group's ratio (challenger -
            champion) on the same persons; a flag the champion lacks whose ratio is not lower
            beyond noise is reported but does not count. Without it every new flag counts.
    """
    reasons: list[str] = []
    ok = True
    primary = next((c for c in comparisons if c.other == champion and c.measure == PRIMARY), None)
    if primary is None or primary.low != primary.low:
        ok = False
        reasons.append(f"no {PRIMARY} comparison with the champion (no held-out person has pairs of different grade)")
    elif primary.better:
        reasons.append(f"better than the champion beyond noise on {primary.describe()}")
    else:
        ok = False
        reasons.append(f"not better than the champion beyond noise on {primary.describe()}")
    guard = next((c for c in comparisons if c.other == champion and c.measure == NDCG), None)
    if guard is not None and guard.worse:
        ok = False
        reasons.append(f"significantly worse than the champion on {guard.describe()}")
    for c in comparisons:
        if c.other == champion or c.measure != PRIMARY:
            continue
        if c.worse:
            ok = False
            reasons.append(f"baseline {c.other} is better beyond noise on {c.describe()}")
        else:
            reasons.append(f"not worse than baseline {c.other} beyond noise on {c.describe()}")
    known = champion_flags is not None
    new_flags, noise = [], []
    for flag in sorted(challenger_flags - (champion_flags or set())):
        change = (flag_changes or {}).get(flag)
        if change is not None and not change[2] < 0:
            noise.append(f"{flag} (ratio {change[0]:+.3f}, {LEVEL:.0%} interval {change[1]:+.3f} to {change[2]:+.3f})")
        else:
            detail = f" (ratio {change[0]:+.3f}, interval {change[1]:+.3f} to {change[2]:+.3f})" if change else ""
            new_flags.append(flag + detail)
    if new_flags:
        ok = False
        reasons.append("raises new fairness flags, lower than the champion's beyond noise: " + ", ".join(new_flags))
    else:
        reasons.append("raises no new fairness flag")
    if noise:
        reasons.append(
            "flags the champion lacks, but the group's ratio to the best group is not lower than the"
            " champion's beyond noise (reported, not decided on): " + ", ".join(noise)
        )
    if not known:
        reasons.append("the champion's fairness flags are unknown: taken as none")
    return Decision(ok, reasons, list(comparisons), new_flags)


def flag_keys(frame: Any) -> set[str]:
    """Fairness flags as `attribute=group:metric` strings, from a fairness table (`training.fairness`:
    columns `attribute`, `group`, `flagged`, `flagged_on`)."""
    out: set[str] = set()
    if frame is None or len(frame) == 0 or "flagged" not in frame.columns:
        return out
    for row in frame[frame["flagged"].astype(bool)].to_dict("records"):
        for metric in str(row.get("flagged_on", "")).split(","):
            if metric.strip():
                out.add(f"{row['attribute']}={row['group']}:{metric.strip()}")
    return out
