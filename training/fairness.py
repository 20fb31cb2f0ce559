"""Fairness report: how the ranker serves each audit group (age band, gender) of held-out candidates.

Ranking people for jobs is high-risk under the EU AI Act, so every training run checks for bias.
The optional `audit` table (`candidate_id`, `age_band`, `gender`) is read here and only here: it is
never a feature. Over the held-out candidates who can get a shortlist (consenting, active) and
those with logged held-out pairs, each candidate gets three values:

- `ndcg_at_10`: NDCG@10 of the model over every eligible workplace with the true expected grade as
  gain (`all_eligible`, with a synthetic truth file), else over the candidate's logged pairs with
  the recorded grade (`logged`); candidates without a positive gain have none (left out of means);
- `full_shortlist`: 1 when the candidate has at least `TOP_K` eligible workplaces, else 0;
- `top10_expected_grade`: the mean true expected grade of the model's top-10 eligible workplaces
  (with a truth file), else the mean observed grade of the logged pairs that fall in the model's
  top 10 (`grade_source` says which); none when there is nothing to average.

Fairlearn's `MetricFrame` gives each group's mean (custom metrics that average the per-candidate
values, ignoring missing ones). Each metric's ratio is the group's value over the best group's;
a group under `THRESHOLD` (the four-fifths rule) on any metric is flagged. A flag is a prompt to
look, not a verdict: groups can differ in what is attainable for them at all (see the oracle
column with a truth file), and small groups are noisy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from matching.candidates import CandidateTable, eligible_candidates
from matching.fairness_rule import ATTRIBUTES as ATTRIBUTES
from matching.fairness_rule import SMALL_GROUP as SMALL_GROUP
from matching.fairness_rule import THRESHOLD as THRESHOLD
from matching.model import Ranker
from training.evaluate import group_starts
from training.trainset import PairSet, held_out_mask

TOP_K = 10
METRICS = ("ndcg_at_10", "full_shortlist_share", "top10_expected_grade")
MISSING_GROUP = "(missing)"
METRIC_TITLES = {
    "ndcg_at_10": "NDCG@10",
    "full_shortlist_share": "full list",
    "top10_expected_grade": "top-10 grade",
}


def nan_mean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of the per-candidate values (`y_true`), ignoring missing ones; nan when there are none."""
    values = np.asarray(y_true, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def count(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Number of candidates in the group."""
    return float(len(y_true))


@dataclass
class FairnessReport:
    """Per audit group: candidates, each metric's mean, its ratio to the best group, and flags."""

    frame: pd.DataFrame
    ndcg_protocol: str
    grade_source: str
    n_held_out: int
    n_with_audit: int
    threshold: float = THRESHOLD
    overall: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged groups' rows."""
        return self.frame[self.frame["flagged"]]

    def min_ratios(self) -> dict[str, float]:
        """Per attribute and metric, the smallest group ratio (e.g. `age_band.min_ratio.ndcg_at_10`)."""
        out: dict[str, float] = {}
        for attribute, rows in self.frame.groupby("attribute", sort=False):
            for metric in METRICS:
                ratios = rows[f"ratio_{metric}"].dropna()
                if len(ratios):
                    out[f"{attribute}.min_ratio.{metric}"] = float(ratios.min())
        return out

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metric names: `fairness.<attribute>.min_ratio.<metric>`, flagged counts."""
        out = {f"fairness.{name}": value for name, value in self.min_ratios().items()}
        for attribute, rows in self.frame.groupby("attribute", sort=False):
            out[f"fairness.{attribute}.flagged_groups"] = float(rows["flagged"].sum())
        out["fairness.candidates_with_audit"] = float(self.n_with_audit)
        return out

    def describe(self) -> list[str]:
        """What was measured, in words (for the printout and the model card)."""
        grade = (
            "true expected grade (truth file)"
            if self.grade_source == "truth"
            else "observed grade of the logged pairs in the top 10 (no truth file)"
        )
        return [
            f"held-out candidates: {self.n_held_out}, with an audit row: {self.n_with_audit}"
            " (audit data are never features)",
            f"NDCG@10 protocol: {self.ndcg_protocol}; full list: share with >= {TOP_K} eligible workplaces;"
            f" top-10 grade: mean {grade} of the model's top {TOP_K}",
            f"ratio = group value / best group's value; flagged (!) when a ratio is under {self.threshold:g}",
        ]

    def lines(self) -> list[str]:
        """The report as fixed-width text lines."""
        out = ["Fairness by audit group (held-out candidates):"]
        out += [f"  {line}" for line in self.describe()]
        oracle = "oracle_top10_expected_grade" in self.frame.columns
        header = f"  {'group':<16}{'n':>6}"
        for metric in METRICS:
            header += f"{METRIC_TITLES[metric]:>14}{'ratio':>7}"
        if oracle:
            header += f"{'oracle top-10':>15}{'of oracle':>11}"
        for attribute, rows in self.frame.groupby("attribute", sort=False):
            out.append(f"  {attribute}:")
            out.append(header)
            for row in rows.to_dict("records"):
                line = f"  {str(row['group']):<16}{int(row['n_candidates']):>6}"
                for metric in METRICS:
                    ratio = row[f"ratio_{metric}"]
                    mark = "!" if ratio == ratio and ratio < self.threshold else " "
                    line += f"{_num(row[metric]):>14}{_num(ratio, 2):>6}{mark}"
                if oracle:
                    line += f"{_num(row['oracle_top10_expected_grade']):>15}{_num(row['top10_of_oracle'], 3):>11}"
                if int(row["n_candidates"]) < SMALL_GROUP:
                    line += "  (few candidates: noisy)"
                out.append(line)
        flagged = self.flagged
        if len(flagged):
            out.append(
                "  flagged: "
                + "; ".join(f"{r['attribute']}={r['group']} ({r['flagged_on']})" for r in flagged.to_dict("records"))
            )
        else:
            out.append(f"  no group under {self.threshold:g} of the best group on any metric")
        if oracle:
            out.append(
                "  oracle top-10: the best attainable mean expected grade of a top 10 (truth file); of oracle: the"
                " model's share of it. A group flagged on top-10 grade whose share of the oracle is like the"
                " others' has fewer good matches available, not worse ranking."
            )
        return out

    def markdown(self) -> list[str]:
        """The group table as markdown lines (for the model card)."""
        oracle = "oracle_top10_expected_grade" in self.frame.columns
        head = "| attribute | group | n | " + " | ".join(f"{METRIC_TITLES[m]} | ratio" for m in METRICS)
        head += " | oracle top-10 | of oracle |" if oracle else " |"
        lines = [head + " flagged |", "| --- | --- | ---: |" + " ---: | ---: |" * len(METRICS)]
        lines[-1] += " ---: | ---: |" if oracle else ""
        lines[-1] += " --- |"
        for row in self.frame.to_dict("records"):
            cells = [str(row["attribute"]), str(row["group"]), str(int(row["n_candidates"]))]
            for metric in METRICS:
                cells += [_num(row[metric]), _num(row[f"ratio_{metric}"], 2)]
            if oracle:
                cells += [_num(row["oracle_top10_expected_grade"]), _num(row["top10_of_oracle"], 3)]
            cells.append(f"**yes**: {row['flagged_on']}" if row["flagged"] else "no")
            lines.append("| " + " | ".join(cells) + " |")
        return lines


def _num(value: float, digits: int = 4) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def flag_groups(frame: pd.DataFrame, metrics: tuple[str, ...] = METRICS, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Add `ratio_<metric>` (group value / the attribute's best group value), `flagged` (any ratio
    under `threshold`) and `flagged_on` (which metrics) to a frame with `attribute`, `group` and a
    column per metric (higher is better for each). A ratio is nan when the best value is not
    positive or the group has no value; nan is never flagged."""
    out = frame.copy()
    flags = pd.DataFrame(False, index=out.index, columns=list(metrics))
    for metric in metrics:
        best = out.groupby("attribute", sort=False)[metric].transform("max")
        ratio = out[metric] / best.where(best > 0)
        out[f"ratio_{metric}"] = ratio.astype(np.float64)
        flags[metric] = (ratio < threshold).fillna(False).astype(bool)
    out["flagged"] = flags.any(axis=1)
    out["flagged_on"] = [", ".join(m for m in metrics if flags.at[i, m]) for i in out.index]
    return out


def group_table(values: pd.DataFrame, audit: pd.DataFrame, attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
    """Per attribute and group: the number of candidates and each metric's mean, by fairlearn's
    `MetricFrame` (per-candidate values as `y_true`/`y_pred`, the group as sensitive feature).

    Args:
        values: one row per candidate: `candidate_id` and a column per metric (nan: no value).
        audit: the audit table (`candidate_id` and the attributes).

    Returns:
        Columns `attribute`, `group`, `n_candidates` and one per metric column of `values`.
    """
    metrics = [c for c in values.columns if c != "candidate_id"]
    joined = values.merge(audit, on="candidate_id", how="inner")
    rows: list[pd.DataFrame] = []
    for attribute in attributes:
        if attribute not in joined.columns or len(joined) == 0:
            continue
        groups = joined[attribute].astype(object).where(joined[attribute].notna(), MISSING_GROUP).astype(str)
        groups.name = attribute
        part: pd.DataFrame | None = None
        for metric in metrics:
            per_candidate = joined[metric].to_numpy(dtype=np.float64)
            frame = MetricFrame(
                metrics={"n_candidates": count, metric: nan_mean},
                y_true=per_candidate,
                y_pred=per_candidate,
                sensitive_features=groups,
            ).by_group
            part = frame if part is None else part.join(frame[[metric]])
        assert part is not None
        part = part.reset_index().rename(columns={attribute: "group"})
        part.insert(0, "attribute", attribute)
        rows.append(part.sort_values("group", kind="stable"))
    if not rows:
        return pd.DataFrame(columns=["attribute", "group", "n_candidates", *metrics])
    out = pd.concat(rows, ignore_index=True)
    out["n_candidates"] = out["n_candidates"].astype(np.int64)
    return out


def per_group_ndcg(gains: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NDCG@k of each group (rows grouped): `(group keys, values)`, nan for a group without a
    positive gain (as `ndcg_at_k` leaves those out)."""
    gains = np.asarray(gains, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if len(gains) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    starts = group_starts(groups)
    sizes = np.diff(np.r_[starts, len(groups)])
    gid = np.repeat(np.arange(len(starts)), sizes)
    rank_by_score = _rank_within(gid, scores, starts, sizes)
    rank_by_gain = _rank_within(gid, gains, starts, sizes)

    def discount(rank: np.ndarray) -> np.ndarray:
        return np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)

    dcg = np.bincount(gid, weights=gains * discount(rank_by_score), minlength=len(starts))
    ideal = np.bincount(gid, weights=gains * discount(rank_by_gain), minlength=len(starts))
    values = np.divide(dcg, ideal, out=np.full(len(starts), np.nan), where=ideal > 0)
    return np.asarray(groups)[starts], values


def _rank_within(gid: np.ndarray, values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each row's rank (0 = highest value) within its group; ties keep the input order."""
    position = np.arange(len(gid)) - np.repeat(starts, sizes)
    order = np.lexsort((position, -values, gid))
    rank = np.empty(len(gid), dtype=np.int64)
    rank[order] = np.arange(len(gid)) - np.repeat(starts, sizes)
    return rank


def top_k_mean(values: np.ndarray, scores: np.ndarray, c_idx: np.ndarray, n: int, k: int = TOP_K) -> np.ndarray:
    """Per candidate position (0..n-1): the mean of `values` (nan ignored) over the candidate's `k`
    highest-scored pairs; nan for a candidate without a value there. Pairs must be grouped."""
    out = np.full(n, np.nan)
    if len(c_idx) == 0:
        return out
    starts = group_starts(c_idx)
    sizes = np.diff(np.r_[starts, len(c_idx)])
    gid = np.repeat(np.arange(len(starts)), sizes)
    top = _rank_within(gid, np.asarray(scores, dtype=np.float64), starts, sizes) < k
    values = np.asarray(values, dtype=np.float64)
    take = top & ~np.isnan(values)
    sums = np.bincount(c_idx[take], weights=values[take], minlength=n)
    counts = np.bincount(c_idx[take], minlength=n)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def candidate_values(
    ranker: Ranker,
    candidates: CandidateTable,
    logged: PairSet,
    eligible: PairSet,
) -> tuple[pd.DataFrame, str, str, pd.Series | None]:
    """Each held-out candidate's values (see the module docstring).

    Args:
        ranker: the fitted ranker.
        candidates: the dataset's candidates (`c_idx` positions refer to them).
        logged: the held-out candidates' logged pairs (with grades).
        eligible: every eligible pair of the held-out candidates (with `truth` when known).

    Returns:
        `(values, ndcg_protocol, grade_source, oracle)`: one row per held-out candidate
        (`candidate_id` and a column per metric), the NDCG protocol (`all_eligible` or `logged`),
        the grade source (`truth` or `logged`), and with a truth file the oracle's top-10 expected
        grade per candidate (else None).
    """
    n = len(candidates.frame)
    ids = candidates.frame["candidate_id"].to_numpy()
    rows = eligible_candidates(candidates.frame)
    rows = rows[held_out_mask(ids[rows])] if len(rows) else rows
    universe = np.union1d(rows, np.unique(logged.c_idx)).astype(np.int64)

    ndcg = np.full(n, np.nan)
    pairs_per = np.bincount(eligible.c_idx, minlength=n)
    scores = ranker.score(eligible.matrix)
    oracle: pd.Series | None = None
    if eligible.truth is not None:
        protocol, source = "all_eligible", "truth"
        keys, values = per_group_ndcg(eligible.truth, scores, eligible.c_idx, TOP_K)
        ndcg[keys] = values
        grade = top_k_mean(eligible.truth, scores, eligible.c_idx, n)
        best = top_k_mean(eligible.truth, eligible.truth, eligible.c_idx, n)
        oracle = pd.Series(best[universe], index=ids[universe])
    else:
        protocol, source = "logged", "logged"
        assert logged.grade is not None
        keys, values = per_group_ndcg(logged.grade, ranker.score(logged.matrix), logged.c_idx, TOP_K)
        ndcg[keys] = values
        observed = pd.Series(logged.grade.astype(np.float64), index=_pair_keys(logged.c_idx, logged.w_idx))
        grade_of_pair = observed.reindex(_pair_keys(eligible.c_idx, eligible.w_idx)).to_numpy(dtype=np.float64)
        grade = top_k_mean(grade_of_pair, scores, eligible.c_idx, n)
    values_frame = pd.DataFrame(
        {
            "candidate_id": ids[universe],
            "ndcg_at_10": ndcg[universe],
            "full_shortlist_share": (pairs_per[universe] >= TOP_K).astype(np.float64),
            "top10_expected_grade": grade[universe],
        }
    )
    return values_frame, protocol, source, oracle


def _pair_keys(c_idx: np.ndarray, w_idx: np.ndarray) -> np.ndarray:
    return np.asarray(c_idx, dtype=np.int64) * (1 << 32) + np.asarray(w_idx, dtype=np.int64)


def fairness_report(
    ranker: Ranker,
    audit: pd.DataFrame | None,
    candidates: CandidateTable,
    logged: PairSet,
    eligible: PairSet,
    threshold: float = THRESHOLD,
    progress: Callable[[str], None] | None = None,
) -> FairnessReport | None:
    """The fairness report of a fitted ranker over held-out candidates (None without an audit table).

    Args:
        ranker: the fitted ranker.
        audit: the dataset's audit table (`candidate_id`, `age_band`, `gender`), or None.
        candidates: the dataset's candidates.
        logged: the held-out candidates' logged pairs.
        eligible: every eligible pair of the held-out candidates (with `truth` when known).
        threshold: the ratio to the best group under which a group is flagged.
    """
    if audit is None or len(audit) == 0:
        return None
    say = progress or (lambda message: None)
    say("fairness report by audit group (age band, gender)")
    values, protocol, source, oracle = candidate_values(ranker, candidates, logged, eligible)
    audit = audit[["candidate_id", *[a for a in ATTRIBUTES if a in audit.columns]]]
    attributes = tuple(a for a in ATTRIBUTES if a in audit.columns)
    table = group_table(values, audit, attributes)
    if oracle is not None:
        extra = pd.DataFrame({"candidate_id": oracle.index, "oracle_top10_expected_grade": oracle.to_numpy()})
        oracle_table = group_table(extra, audit, attributes)
        table = table.merge(
            oracle_table[["attribute", "group", "oracle_top10_expected_grade"]], on=["attribute", "group"], how="left"
        )
        best = table["oracle_top10_expected_grade"]
        table["top10_of_oracle"] = table["top10_expected_grade"] / best.where(best > 0)
    table = flag_groups(table, METRICS, threshold)
    audited = values["candidate_id"].isin(audit["candidate_id"])
    overall = {m: nan_mean(values.loc[audited, m].to_numpy(), values.loc[audited, m].to_numpy()) for m in METRICS}
    return FairnessReport(table, protocol, source, len(values), int(audited.sum()), threshold, overall)
