"""The ground truth of the SYNTHETIC datasets and the outcomes drawn from it: the stage
probabilities of every eligible pair, the suggestions advisers made, and the calibration figures
measured against the research (`data/reference/FIGURES.md`). The people and workplaces come from
`training.synthetic_population`; `training.synthetic` assembles and writes the dataset.

Ground truth ("standard" variant)
---------------------------------
A suggested pair moves through four stages; each is a conditional probability given the previous
one (a logistic function of the pair's properties):

1. adviser accepts and contacts the employer (grade >= 1): the person is interested in the work
   (interest similarity, preferred occupation, weakly), the commute is a small share of the
   longest the person accepts, the weekly hours are close to the person's wish;
2. the employer says yes and a work trial starts (grade >= 2): the person masters the tasks (above
   all the largest shortfall of skill on a required task, level >= 0.5), the employer's latent
   inclusion competence, the workplace offers the support the person needs;
3. the trial is completed (grade >= 3): task fit, the work's demands (stress, contact, change...)
   within what the person copes with, support needs met, a named mentor, not a short job (<= 20
   h/week: more quits, Cook & Burke-Miller 2015), a short commute, inclusion competence;
4. the person is hired (grade 4): above all the person's own job preference (preferred
   occupation; jobs in preferred areas last about twice as long, Becker et al. 1996) and interest
   similarity, inclusion competence, support met, task fit, not a short job.

A required support (needs level 2) the workplace cannot give is very bad (-2.5 on the logit of
stages 2-4); such pairs are never eligible anyway. Every stage also carries the candidate's latent
readiness (unobservable; lower in older age bands, following NAV's age gradient) and stages 3-4 a
small pair-level noise. P(grade >= k) is the product of stages 1..k; the expected grade is
P(>=1) + P(>=2) + P(>=3) + P(>=4) and `p_hired` is P(>=4).

The employer's latent inclusion competence drives which supports it offers, how many trainees it
took before (`past_placements`) and how many of them it hired (`past_hires`), so its history is a
noisy but real signal of it. Its direct weight in the truth is moderate, so a model that sees only
the contract columns can come close to the oracle.

Ground truth ("alternative" variant)
------------------------------------
Same records (same seed gives the same workplaces, candidates and audit, and the same logged
suggestions), a clearly different truth, used to check that training learns from the data rather
than from knowing the generator: interest similarity (squared, positive part) and hours fit (a
Gaussian in the hour difference) dominate every stage; task gaps and work demands matter much
less; commute has a threshold effect (a step down beyond 60% of the person's maximum) instead of a
linear one; the employer's observed history (its smoothed hire rate and its experience) matters
much more than its latent competence; mentor and short-job effects are small.

Ground truths "interactions" and "thresholds"
---------------------------------------------
Two more truths on the same records, made so that no additive model can be right:
- `interactions`: effects that exist only together. Interest counts only within easy reach
  (interest x (1 - commute share)); a required-task gap hurts much less where a mentor is offered;
  work demands over tolerance hurt only where the person's support needs are not met; support
  coverage and a mentor count only for persons with needs; a preferred occupation counts for the
  hire only together with shared interests; the employer's hire rate counts only where the tasks fit.
- `thresholds`: steps instead of slopes. A commute beyond half the person's maximum, more than 8
  hours a week off the wished hours, a required-task gap above 0.2, demands more than 0.8 over
  tolerance each cost a fixed step; interest counts only above a similarity of 0.2; the hire
  follows a preferred (or related) occupation with interests above 0, and an employer whose
  smoothed hire rate is above 0.35.

Logged outcomes
---------------
For each consenting, active candidate, 2-10 suggestions are sampled without replacement among the
candidate's eligible workplaces with weight exp(-km / 8) x (4 for a preferred occupation, 2 for
one in the same 3-digit minor group) x exp(0.8 x interest similarity), as an adviser would; the
grade is drawn by walking the stage chain. The outcomes therefore carry the selection bias of real
logs. The suggestions are shown in that order (the rank is `shown_rank`, 1 first). With a
position bias (`generate_dataset(..., position_bias=eta)`), the adviser takes up the suggestion
at rank r at all only with probability r ** -eta (`seen_at_rank`); one not taken up ends at grade
0, whatever its truth: the rank itself then changes what advisers pursue, as in real lists.
`truth.parquet` holds the expected grade and P(hired) for *every* eligible pair, for
evaluation only.

Calibration (data/reference/FIGURES.md section 5): P(hired) about 0.35-0.50 for well-matched, well-supported
pairs, about 0.10-0.30 or lower for weak ones, 0.10-0.20 over logged suggestions; good support vs
none RR about 1.6-2.3; the age gradient of hire rates roughly follows NAV's (only-employee 41-43%
at 20-39, 39% at 40-49, 28% at 50-59, 12% at 60+). `calibration_figures` measures these;
`generate_dataset` writes them to `SUMMARY.json` and `README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from features.pairs import haversine_km
from features.support import OFFERED, REQUIRED_NEED
from features.task import REQUIRED_TASK_LEVEL
from training.synthetic_population import AGE_BANDS, sigmoid

SUGGESTION_KM = 8.0
PAIR_CHUNK = 400_000


class AgeBandFigures(TypedDict):
    """Hire figures of one age band."""

    truth_p_hired: float | None
    logged_hire_rate: float | None
    logged_suggestions: int


class CalibrationFigures(TypedDict, total=False):
    """The figures `calibration_figures` measures (none when there is no eligible pair)."""

    logged_hire_rate: float | None
    logged_mean_grade: float | None
    logged_truth_p_hired: float | None
    logged_grade_shares: dict[str, float]
    truth_mean_p_hired: float
    truth_mean_expected_grade: float
    p_hired_well_matched_supported: float | None
    pairs_well_matched_supported: int
    p_hired_weak_match: float | None
    pairs_weak_match: int
    p_hired_top_decile: float
    p_hired_bottom_decile: float
    support_rr_all_needs_met_vs_none: float | None
    preferred_vs_not_p_hired: list[float | None]
    short_job_vs_longer_p_hired: list[float | None]
    by_age_band: dict[str, AgeBandFigures]
    definitions: dict[str, str]


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of two equally shaped matrices (0 where undefined)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    dot = (a * b).sum(axis=1)
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 1e-12)


@dataclass
class Latent:
    """The unobservable part of the truth."""

    competence: np.ndarray  # per workplace
    readiness: np.ndarray  # per candidate


def _pair_quantities(
    cands: dict[str, np.ndarray],
    works: dict[str, np.ndarray],
    c: np.ndarray,
    w: np.ndarray,
    mentor_col: int,
) -> dict[str, np.ndarray]:
    """The properties of each pair that the ground truth is made of."""
    task, skill = works["task"][w], cands["skill"][c]
    short = np.maximum(task - skill, 0.0)
    gap = np.where(task >= REQUIRED_TASK_LEVEL, short, 0.0).max(axis=1)
    demand_excess = np.maximum(works["demand"][w] - cands["tolerance"][c], 0.0).sum(axis=1)
    needs, offers = cands["needs"][c], works["offers"][w] >= OFFERED
    total = needs.sum(axis=1)
    coverage = np.divide((needs * offers).sum(axis=1), total, out=np.ones_like(total), where=total > 0)
    unmet_required = ((needs >= REQUIRED_NEED) & ~offers).sum(axis=1).astype(float)
    distance = haversine_km(cands["lat"][c], cands["lon"][c], works["lat"][w], works["lon"][w])
    hours, desired = works["hours_per_week"][w], cands["desired_hours"][c]
    placements, hires = works["past_placements"][w], works["past_hires"][w]
    # preferred occupation: 1 exact, 0.5 same minor group (3 digits), else 0
    occupation = works["occupation"][w]
    rows, codes = cands["preferred_rows"], cands["preferred_codes"]
    exact = np.isin(c * 10_000 + occupation, rows * 10_000 + codes)
    minor = np.isin(c * 1_000 + occupation // 10, rows * 1_000 + codes // 10)
    return {
        "gap": gap,
        "shortfall": short.mean(axis=1),
        "sim": _correlation(cands["interest"][c], works["interest"][w]),
        "pref": np.where(exact, 1.0, np.where(minor, 0.5, 0.0)),
        "coverage": coverage,
        "has_needs": total > 0,
        "unmet_required": unmet_required,
        "excess": demand_excess,
        "distance": distance,
        "ratio": distance / cands["max_commute_km"][c],
        "hours_diff": np.minimum(np.abs(hours - desired) / desired, 1.0),
        "hours_abs": np.abs(hours - desired),
        "short_job": (hours <= 20.0).astype(float),
        "mentor": offers[:, mentor_col].astype(float),
        "hire_rate": (hires + 1.5) / (placements + 5.0),
        "experience": np.log1p(placements),
    }


def _standard_logits(
    q: dict[str, np.ndarray], comp: np.ndarray, ready: np.ndarray, eps: np.ndarray
) -> list[np.ndarray]:
    unmet = 2.5 * q["unmet_required"]
    gap = np.maximum(q["gap"] - 0.1, 0.0)  # small gaps are learnt on the job
    return [
        1.3 + 0.9 * q["sim"] + 0.3 * q["pref"] - 1.0 * q["ratio"] - 0.8 * q["hours_diff"] + 0.35 * ready,
        1.4 - 3.0 * gap - 1.5 * q["shortfall"] + 0.4 * comp + 0.15 * q["coverage"] - unmet + 0.3 * ready,
        1.4
        - 2.0 * gap
        - 0.6 * q["excess"]
        + 0.4 * q["coverage"]
        + 0.5 * q["mentor"]
        - 0.45 * q["short_job"]
        - 0.6 * q["ratio"]
        + 0.25 * comp
        - unmet
        + 0.45 * ready
        + eps,
        -0.3
        + 1.3 * q["pref"]
        + 1.0 * q["sim"]
        + 0.35 * comp
        + 0.3 * q["coverage"]
        - 0.35 * q["short_job"]
        - 0.5 * q["hours_diff"]
        - 1.2 * gap
        - unmet
        + 0.4 * ready
        + eps,
    ]


def _alternative_logits(
    q: dict[str, np.ndarray], comp: np.ndarray, ready: np.ndarray, eps: np.ndarray
) -> list[np.ndarray]:
    interest = np.maximum(q["sim"], 0.0) ** 2
    hours_fit = np.exp(-((q["hours_abs"] / 7.5) ** 2))
    far = (q["ratio"] > 0.6).astype(float)
    history = 4.0 * (q["hire_rate"] - 0.3) + 0.4 * q["experience"]
    unmet = 1.5 * q["unmet_required"]
    return [
        -0.4 + 2.6 * interest + 0.7 * q["pref"] + 1.6 * hours_fit - 1.3 * far + 0.35 * ready,
        0.2 - 0.8 * q["gap"] + history + 0.15 * comp + 0.3 * q["coverage"] - unmet + 0.3 * ready,
        -0.2
        - 0.5 * q["gap"]
        - 0.2 * q["excess"]
        + 0.4 * q["coverage"]
        + 0.15 * q["mentor"]
        + 2.0 * hours_fit
        - 0.9 * far
        + 0.5 * history
        - unmet
        + 0.45 * ready
        + eps,
        -1.9
        + 3.0 * interest
        + 0.5 * q["pref"]
        + 1.4 * hours_fit
        + 0.8 * history
        - 0.1 * q["short_job"]
        - unmet
        + 0.4 * ready
        + eps,
    ]


def _interactions_logits(
    q: dict[str, np.ndarray], comp: np.ndarray, ready: np.ndarray, eps: np.ndarray
) -> list[np.ndarray]:
    """Effects that exist only together: interest counts only within easy reach, a task gap hurts
    less with a mentor, work demands hurt only where support is missing, support counts only for
    persons with needs, preference counts only with shared interests."""
    interest = np.maximum(q["sim"], 0.0)
    near = np.clip(1.0 - q["ratio"], 0.0, 1.0)
    needy = q["has_needs"].astype(float)
    uncovered = 1.0 - q["coverage"]
    unmet = 2.5 * q["unmet_required"]
    return [
        0.6 + 2.4 * interest * near + 0.4 * q["pref"] - 0.7 * q["hours_diff"] + 0.35 * ready,
        1.5
        - 4.0 * q["gap"] * (1.0 - 0.7 * q["mentor"])
        + 0.8 * needy * q["coverage"]
        - unmet
        + 0.3 * comp
        + 0.3 * ready,
        1.3
        - 1.6 * q["excess"] * (0.2 + uncovered)
        + 0.9 * needy * q["mentor"]
        - 0.9 * q["short_job"] * q["hours_diff"]
        - unmet
        + 0.2 * comp
        + 0.45 * ready
        + eps,
        -1.1
        + 2.2 * q["pref"] * interest
        + 0.6 * interest
        + 1.0 * needy * q["coverage"]
        + 2.0 * (q["hire_rate"] - 0.3) * (1.0 - q["gap"])
        - unmet
        + 0.4 * ready
        + eps,
    ]


def _thresholds_logits(
    q: dict[str, np.ndarray], comp: np.ndarray, ready: np.ndarray, eps: np.ndarray
) -> list[np.ndarray]:
    """Steps instead of slopes: a commute beyond half the person's maximum, more than 8 hours off
    the wished hours, a required-task gap above 0.2, demands more than 0.8 over tolerance, an
    employer whose smoothed hire rate is above 0.35; interest counts only above 0.2, and a
    preferred occupation only together with interest above 0."""
    unmet = 2.5 * q["unmet_required"]
    interested = (q["sim"] > 0.2).astype(float)
    return [
        0.2
        + 1.6 * interested
        + 0.5 * (q["pref"] >= 1.0)
        - 1.5 * (q["ratio"] > 0.5)
        - 1.0 * (q["hours_abs"] > 8.0)
        + 0.35 * ready,
        1.6
        - 2.6 * (q["gap"] > 0.2)
        + 0.7 * (q["has_needs"] & (q["coverage"] >= 0.999))
        - unmet
        + 0.3 * comp
        + 0.3 * ready,
        1.2
        - 1.6 * (q["excess"] > 0.8)
        + 0.8 * q["mentor"] * (q["gap"] > 0.05)
        - 0.7 * q["short_job"]
        - unmet
        + 0.2 * comp
        + 0.45 * ready
        + eps,
        -0.4
        + 1.6 * ((q["pref"] >= 0.5) & (q["sim"] > 0.0))
        + 1.1 * (q["hire_rate"] > 0.35)
        + 0.6 * interested
        - unmet
        + 0.4 * ready
        + eps,
    ]


LOGITS = {
    "standard": _standard_logits,
    "alternative": _alternative_logits,
    "interactions": _interactions_logits,
    "thresholds": _thresholds_logits,
}


def stage_probabilities(
    variant: str,
    cands: dict[str, np.ndarray],
    works: dict[str, np.ndarray],
    c_idx: np.ndarray,
    w_idx: np.ndarray,
    latent: Latent,
    eps: np.ndarray,
    mentor_col: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Conditional stage probabilities (pairs x 4) and the few pair properties the summary needs."""
    n = len(c_idx)
    stages = np.empty((n, 4), dtype=np.float64)
    keep = (
        "gap",
        "sim",
        "pref",
        "coverage",
        "has_needs",
        "excess",
        "ratio",
        "hours_diff",
        "short_job",
        "distance",
    )
    kept: dict[str, list[np.ndarray]] = {k: [] for k in keep}
    for start in range(0, n, PAIR_CHUNK):
        sl = slice(start, min(start + PAIR_CHUNK, n))
        c, w = c_idx[sl], w_idx[sl]
        q = _pair_quantities(cands, works, c, w, mentor_col)
        logits = LOGITS[variant](q, latent.competence[w], latent.readiness[c], eps[sl])
        for stage, logit in enumerate(logits):
            stages[sl, stage] = sigmoid(logit)
        for name in keep:
            kept[name].append(q[name].astype(np.float32) if q[name].dtype != bool else q[name])
    empty = np.zeros(0, dtype=np.float32)
    return stages, {name: (np.concatenate(v) if v else empty) for name, v in kept.items()}


def suggest(
    rng: np.random.Generator, c_idx: np.ndarray, props: dict[str, np.ndarray], n_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into the eligible pairs) of the pairs advisers suggested, grouped by candidate,
    and the rank (1 = first) each was shown at in the person's list (by the adviser's weight)."""
    if len(c_idx) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    wanted = rng.integers(2, 11, size=n_candidates)
    mult = np.where(props["pref"] >= 1.0, 4.0, np.where(props["pref"] >= 0.5, 2.0, 1.0))
    log_weight = -props["distance"].astype(float) / SUGGESTION_KM + np.log(mult) + 0.8 * props["sim"]
    key = log_weight + rng.gumbel(size=len(c_idx))
    order = np.lexsort((-key, c_idx))
    sorted_c = c_idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_c[1:] != sorted_c[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(sorted_c)]))
    rank = np.arange(len(sorted_c)) - group_start
    keep = rank < wanted[sorted_c]
    chosen, shown = order[keep], rank[keep] + 1
    by_pair = np.argsort(chosen)
    return chosen[by_pair], shown[by_pair]


def seen_at_rank(rng: np.random.Generator, ranks: np.ndarray, strength: float) -> np.ndarray:
    """Whether the adviser took up each suggestion at all, given the rank it was shown at: with
    probability rank ** -strength (1 at rank 1; strength 0: the rank changes nothing). A suggestion
    not taken up ends at grade 0 whatever the pair's truth (position bias in the logs)."""
    return rng.random(len(ranks)) < np.power(ranks.astype(np.float64), -strength)


def _rate(values: np.ndarray, mask: np.ndarray) -> float | None:
    return round(float(values[mask].mean()), 4) if mask.any() else None


def calibration_figures(
    stages: np.ndarray,
    props: dict[str, np.ndarray],
    grades: np.ndarray,
    chosen: np.ndarray,
    c_idx: np.ndarray,
    bands: np.ndarray,
) -> CalibrationFigures:
    """The figures data/reference/FIGURES.md section 5 asks us to calibrate against."""
    if len(stages) == 0:
        return {}
    reach = np.cumprod(stages, axis=1)
    p_hired, expected = reach[:, 3], reach.sum(axis=1)
    good = (
        (props["gap"] <= 0.15)
        & (props["sim"] >= 0.4)
        & (props["coverage"] >= 0.999)
        & (props["excess"] <= 0.6)
        & (props["ratio"] <= 0.6)
        & (props["hours_diff"] <= 0.34)
    )
    weak_signs = (
        (props["gap"] >= 0.3).astype(int) + (props["sim"] < 0.0) + (props["coverage"] < 0.5) + (props["excess"] >= 1.5)
    )
    weak = weak_signs >= 2
    needy = props["has_needs"]
    good_support = needy & (props["coverage"] >= 0.999)
    no_support = needy & (props["coverage"] <= 0.001)
    rr = None
    if good_support.any() and no_support.any():
        rr = round(float(p_hired[good_support].mean() / max(p_hired[no_support].mean(), 1e-12)), 3)
    order = np.argsort(expected, kind="stable")
    decile = max(1, len(order) // 10)
    hired = grades == 4
    band_of_logged = bands[c_idx[chosen]]
    # per candidate: mean P(hired) over the person's eligible workplaces (each person counts once)
    counts = np.bincount(c_idx, minlength=len(bands))
    person = np.bincount(c_idx, weights=p_hired, minlength=len(bands)) / np.maximum(counts, 1)
    by_band: dict[str, AgeBandFigures] = {}
    for b, name in enumerate(AGE_BANDS):
        by_band[name] = {
            "truth_p_hired": _rate(person, (bands == b) & (counts > 0)),
            "logged_hire_rate": _rate(hired.astype(float), band_of_logged == b),
            "logged_suggestions": int((band_of_logged == b).sum()),
        }
    logged = p_hired[chosen]
    return {
        "logged_hire_rate": _rate(hired.astype(float), np.ones(len(hired), bool)),
        "logged_mean_grade": _rate(grades.astype(float), np.ones(len(grades), bool)),
        "logged_truth_p_hired": _rate(logged, np.ones(len(logged), bool)),
        "logged_grade_shares": {str(g): round(float((grades == g).mean()), 4) for g in range(5)} if len(grades) else {},
        "truth_mean_p_hired": round(float(p_hired.mean()), 4),
        "truth_mean_expected_grade": round(float(expected.mean()), 4),
        "p_hired_well_matched_supported": _rate(p_hired, good),
        "pairs_well_matched_supported": int(good.sum()),
        "p_hired_weak_match": _rate(p_hired, weak),
        "pairs_weak_match": int(weak.sum()),
        "p_hired_top_decile": round(float(p_hired[order[-decile:]].mean()), 4),
        "p_hired_bottom_decile": round(float(p_hired[order[:decile]].mean()), 4),
        "support_rr_all_needs_met_vs_none": rr,
        "preferred_vs_not_p_hired": [
            _rate(p_hired, props["pref"] >= 1.0),
            _rate(p_hired, props["pref"] < 0.5),
        ],
        "short_job_vs_longer_p_hired": [
            _rate(p_hired, props["short_job"] > 0.5),
            _rate(p_hired, props["short_job"] < 0.5),
        ],
        "by_age_band": by_band,
        "definitions": {
            "well_matched_supported": "largest required-task gap <= 0.15, interest similarity >= 0.4, all "
            "support needs offered, demand excess <= 0.6, commute <= 60% of max, hours within 34% of wish",
            "weak_match": "at least two of: task gap >= 0.3, interest similarity < 0, under half of support "
            "needs offered, demand excess >= 1.5",
            "support_rr": "mean P(hired) over pairs of persons with needs where every need is offered, "
            "divided by the same where none is",
            "deciles": "eligible pairs sorted by true expected grade",
            "by_age_band": "truth_p_hired: mean over persons of their mean P(hired) over eligible "
            "workplaces; logged_hire_rate: share of logged suggestions ending in a hire",
        },
    }
