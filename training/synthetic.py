"""A seeded generator of SYNTHETIC contract-v1 datasets, with a known ground truth.

Nothing here describes real people or real workplaces. Every id starts with `SYN-`, and the
folder gets a `README.md` saying the data are synthetic. The records are drawn so that their
marginals look plausible for Norway (workplaces around real towns, occupations weighted by NAV's
2017 job-seeker counts, part-time wishes common among job seekers with severe mental illness);
the outcomes are drawn from a ground truth modelled on the research summarised in
`data/reference/FIGURES.md`.

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

Logged outcomes
---------------
For each consenting, active candidate, 2-10 suggestions are sampled without replacement among the
candidate's eligible workplaces with weight exp(-km / 8) x (4 for a preferred occupation, 2 for
one in the same 3-digit minor group) x exp(0.8 x interest similarity), as an adviser would; the
grade is drawn by walking the stage chain. The outcomes therefore carry the selection bias of real
logs. `truth.parquet` holds the expected grade and P(hired) for *every* eligible pair, for
evaluation only.

Calibration (data/reference/FIGURES.md section 5): P(hired) about 0.35-0.50 for well-matched, well-supported
pairs, about 0.10-0.30 or lower for weak ones, 0.10-0.20 over logged suggestions; good support vs
none RR about 1.6-2.3; the age gradient of hire rates roughly follows NAV's (only-employee 41-43%
at 20-39, 39% at 40-49, 28% at 50-59, 12% at 60+). `generate_dataset` measures these and writes
them to `SUMMARY.json` and `README.md`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.pairs import haversine_km
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import write_table
from matching.records import CONTRACT_VERSION, Catalogue, Vocabulary, load_catalogue

VARIANTS = ("standard", "alternative")
FORMATS = ("parquet", "csv")

# name, lat, lon, rough population (thousands) of the municipality
TOWNS: tuple[tuple[str, float, float, float], ...] = (
    ("Oslo", 59.9139, 10.7522, 700),
    ("Bergen", 60.3913, 5.3221, 290),
    ("Trondheim", 63.4305, 10.3951, 210),
    ("Stavanger", 58.9700, 5.7331, 145),
    ("Kristiansand", 58.1467, 7.9956, 115),
    ("Drammen", 59.7439, 10.2045, 103),
    ("Fredrikstad", 59.2181, 10.9298, 85),
    ("Sandnes", 58.8524, 5.7352, 82),
    ("Tromsø", 69.6492, 18.9553, 78),
    ("Ålesund", 62.4722, 6.1549, 67),
    ("Sarpsborg", 59.2839, 11.1097, 58),
    ("Tønsberg", 59.2675, 10.4076, 58),
    ("Skien", 59.2096, 9.6090, 56),
    ("Bodø", 67.2804, 14.4049, 53),
    ("Moss", 59.4340, 10.6577, 50),
    ("Larvik", 59.0533, 10.0352, 48),
    ("Arendal", 58.4615, 8.7724, 45),
    ("Haugesund", 59.4138, 5.2680, 38),
    ("Porsgrunn", 59.1405, 9.6561, 37),
    ("Hamar", 60.7945, 11.0680, 32),
    ("Molde", 62.7375, 7.1591, 32),
    ("Halden", 59.1243, 11.3875, 31),
    ("Gjøvik", 60.7957, 10.6916, 31),
    ("Lillehammer", 61.1153, 10.4662, 29),
    ("Kongsberg", 59.6689, 9.6502, 28),
    ("Harstad", 68.7984, 16.5417, 25),
    ("Kristiansund", 63.1105, 7.7279, 24),
    ("Narvik", 68.4385, 17.4272, 22),
)

HOURS = np.array([10.0, 15.0, 20.0, 25.0, 30.0, 37.5])
WORKPLACE_HOURS_P = np.array([0.05, 0.10, 0.20, 0.15, 0.15, 0.35])
DESIRED_HOURS_P = np.array([0.10, 0.20, 0.30, 0.15, 0.12, 0.13])
SLOTS_P = np.array([0.15, 0.35, 0.22, 0.13, 0.08, 0.07])  # 0..5 free trainee slots
RIASEC_DOMINANT_P = {
    "realistic": 0.28,
    "investigative": 0.10,
    "artistic": 0.12,
    "social": 0.20,
    "enterprising": 0.08,
    "conventional": 0.22,
}

# Per support: base probability a workplace offers it; (P needs 0, P needs 1) for a person.
SUPPORT_OFFER_P = {
    "flexible_hours": 0.45,
    "gradual_start": 0.60,
    "quiet_workspace": 0.30,
    "fixed_routines": 0.50,
    "mentor": 0.45,
    "written_instructions": 0.50,
    "breaks_as_needed": 0.60,
    "physical_adaptation": 0.25,
    "job_coach_on_site": 0.55,
}
SUPPORT_NEED_P = {
    "flexible_hours": (0.52, 0.32),
    "gradual_start": (0.48, 0.34),
    "quiet_workspace": (0.60, 0.28),
    "fixed_routines": (0.56, 0.30),
    "mentor": (0.56, 0.30),
    "written_instructions": (0.62, 0.28),
    "breaks_as_needed": (0.58, 0.30),
    "physical_adaptation": (0.80, 0.14),
    "job_coach_on_site": (0.60, 0.28),
}
DEFAULT_OFFER_P = 0.45
DEFAULT_NEED_P = (0.60, 0.28)

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60+")
AGE_BAND_P = np.array([0.26, 0.22, 0.21, 0.21, 0.10])
# Shift of latent readiness by age band, tuned so mean P(hired) by band follows NAV's gradient
# (only-employee 6 months after leaving 'nedsatt arbeidsevne': ~42%, 43%, 39%, 28%, 12%).
AGE_READINESS = np.array([0.0, 0.0, -0.06, -0.55, -1.8])
GENDERS = ("female", "male", "other")
GENDER_P = np.array([0.48, 0.50, 0.02])

SUGGESTION_KM = 8.0
PAIR_CHUNK = 400_000
DATE_START = np.datetime64("2023-01-01")
DATE_DAYS = 1095  # 2023-01-01 .. 2025-12-31


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.array([f"SYN-{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))


def _scatter(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points around the towns, towns weighted by population, scatter rising with town size."""
    pops = np.array([t[3] for t in TOWNS])
    town = rng.choice(len(TOWNS), size=n, p=pops / pops.sum())
    lat0 = np.array([t[1] for t in TOWNS])[town]
    lon0 = np.array([t[2] for t in TOWNS])[town]
    sd_km = 3.0 + 7.0 * np.sqrt(pops[town] / pops.max())
    dy, dx = rng.normal(size=(2, n)) * sd_km
    lat = lat0 + dy / 111.2
    lon = lon0 + dx / (111.2 * np.cos(np.radians(lat0)))
    return np.round(lat, 5), np.round(lon, 5)


def _workplaces(rng: np.random.Generator, n: int, catalogue: Catalogue) -> tuple[pd.DataFrame, np.ndarray]:
    """The workplaces table and each workplace's latent inclusion competence."""
    voc, occ = catalogue.vocabulary, catalogue.occupations
    weights = occ["jobseekers_2017"].to_numpy(dtype=float)
    o = rng.choice(len(occ), size=n, p=weights / weights.sum())
    lat, lon = _scatter(rng, n)
    # employers: chains own several workplaces; competence partly shared within an employer
    sizes = rng.geometric(0.6, size=n)
    owner = np.repeat(np.arange(n), sizes)[:n]
    owner = owner[rng.permutation(n)]
    _, owner = np.unique(owner, return_inverse=True)
    n_emp = int(owner.max()) + 1
    employer_effect = rng.normal(size=n_emp)
    competence = 0.6 * employer_effect[owner] + 0.8 * rng.normal(size=n)

    frame: dict[str, object] = {
        "workplace_id": _ids("W", n, _width(n, 6)),
        "employer_id": _ids("E", n_emp, _width(n_emp, 5))[owner],
        "occupation_code": occ["occupation_code"].to_numpy(dtype=object)[o],
        "lat": lat,
        "lon": lon,
        "hours_per_week": HOURS[rng.choice(len(HOURS), size=n, p=WORKPLACE_HOURS_P)],
        "slots": rng.choice(len(SLOTS_P), size=n, p=SLOTS_P).astype(np.int64),
    }
    for prefix in ("task", "demand"):
        names = voc.activities if prefix == "task" else voc.contexts
        levels = occ[[f"{prefix}_{a}" for a in names]].to_numpy(dtype=float)[o]
        levels = np.clip(levels + rng.normal(0.0, 0.1, size=levels.shape), 0.0, 1.0)
        for j, name in enumerate(names):
            frame[f"{prefix}_{name}"] = np.round(levels[:, j], 3)
    for s in voc.supports:
        p = _sigmoid(_logit(SUPPORT_OFFER_P.get(s, DEFAULT_OFFER_P)) + 0.7 * competence)
        frame[f"offers_{s}"] = rng.random(n) < p
    takes_trainees = rng.random(n) < _sigmoid(0.4 + 0.8 * competence)
    placements = np.where(takes_trainees, rng.poisson(np.exp(0.9 + 0.4 * competence)), 0)
    frame["past_placements"] = placements.astype(np.int64)
    frame["past_hires"] = rng.binomial(placements, _sigmoid(-1.0 + 1.0 * competence)).astype(np.int64)
    frame["active"] = rng.random(n) < 0.95
    return pd.DataFrame(frame), competence


def _audit(rng: np.random.Generator, n: int, ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The audit table and each candidate's readiness shift by age band."""
    band = rng.choice(len(AGE_BANDS), size=n, p=AGE_BAND_P)
    gender = rng.choice(len(GENDERS), size=n, p=GENDER_P)
    frame = pd.DataFrame(
        {
            "candidate_id": ids,
            "age_band": np.array(AGE_BANDS, dtype=object)[band],
            "gender": np.array(GENDERS, dtype=object)[gender],
        }
    )
    return frame, AGE_READINESS[band]


def _candidates(
    rng: np.random.Generator, n: int, catalogue: Catalogue, ids: np.ndarray, age_shift: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """The candidates table and each candidate's latent readiness."""
    voc, occ = catalogue.vocabulary, catalogue.occupations
    lat, lon = _scatter(rng, n)
    readiness = age_shift + rng.normal(0.0, 0.8, size=n)

    # interests: 1-2 dominant RIASEC types
    k = len(voc.riasec)
    interest = rng.uniform(0.05, 0.4, size=(n, k))
    p_dom = np.array([RIASEC_DOMINANT_P.get(r, 1.0 / k) for r in voc.riasec])
    p_dom = p_dom / p_dom.sum()
    first = rng.choice(k, size=n, p=p_dom)
    second = rng.choice(k, size=n, p=p_dom)
    two = (rng.random(n) < 0.55) & (second != first)
    rows = np.arange(n)
    interest[rows, first] = rng.uniform(0.7, 0.95, size=n)
    interest[rows[two], second[two]] = rng.uniform(0.55, 0.85, size=int(two.sum()))

    # skills: a latent general level plus per-activity noise, around the typical task level
    task_mean = occ[[f"task_{a}" for a in voc.activities]].to_numpy(dtype=float).mean(axis=0)
    general = rng.normal(0.0, 0.12, size=(n, 1)) + 0.05 * np.clip(readiness, -2, 2)[:, None]
    skill = np.clip(task_mean + 0.04 + general + rng.normal(0.0, 0.12, size=(n, len(task_mean))), 0, 1)
    demand_mean = occ[[f"demand_{c}" for c in voc.contexts]].to_numpy(dtype=float).mean(axis=0)
    coping = rng.normal(0.0, 0.12, size=(n, 1))
    tolerance = np.clip(demand_mean - 0.12 + coping + rng.normal(0.0, 0.15, size=(n, len(demand_mean))), 0, 1)

    # support needs: correlated through a latent need intensity (Gaussian copula, logistic approx.)
    intensity = rng.normal(size=(n, 1))
    x = 0.5 * intensity + np.sqrt(0.75) * rng.normal(size=(n, len(voc.supports)))
    u = _sigmoid(1.702 * x)
    p0 = np.array([SUPPORT_NEED_P.get(s, DEFAULT_NEED_P)[0] for s in voc.supports])
    p1 = np.array([SUPPORT_NEED_P.get(s, DEFAULT_NEED_P)[1] for s in voc.supports])
    needs = (u >= p0).astype(np.int64) + (u >= p0 + p1).astype(np.int64)

    preferred = _preferences(rng, interest, occ, voc)
    max_commute = np.clip(np.exp(rng.normal(np.log(15.0), 0.5, size=n)), 3.0, 60.0)

    frame: dict[str, object] = {
        "candidate_id": ids,
        "adviser_id": _advisers(lat, lon, n),
        "lat": lat,
        "lon": lon,
        "max_commute_km": np.round(max_commute, 1),
        "desired_hours": HOURS[rng.choice(len(HOURS), size=n, p=DESIRED_HOURS_P)],
        "preferred_occupations": preferred,
    }
    for j, r in enumerate(voc.riasec):
        frame[f"interest_{r}"] = np.round(interest[:, j], 3)
    for j, a in enumerate(voc.activities):
        frame[f"skill_{a}"] = np.round(skill[:, j], 3)
    for j, c in enumerate(voc.contexts):
        frame[f"tolerance_{c}"] = np.round(tolerance[:, j], 3)
    for j, s in enumerate(voc.supports):
        frame[f"needs_{s}"] = needs[:, j]
    frame["consent"] = rng.random(n) < 0.95
    frame["active"] = rng.random(n) < 0.92
    return pd.DataFrame(frame), readiness


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of two equally shaped matrices (0 where undefined)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    dot = (a * b).sum(axis=1)
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 1e-12)


def _preferences(rng: np.random.Generator, interest: np.ndarray, occ: pd.DataFrame, voc: Vocabulary) -> list[list[str]]:
    """0-3 preferred occupations per person (about 20% none), likelier the closer the occupation's
    interest profile is to the person's, and somewhat for occupations many job seekers seek
    (Gumbel top-k: sampling without replacement)."""
    n = len(interest)
    profiles = occ[[f"interest_{r}" for r in voc.riasec]].to_numpy(dtype=float)
    a = interest - interest.mean(axis=1, keepdims=True)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = profiles - profiles.mean(axis=1, keepdims=True)
    b /= np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    similarity = a @ b.T  # (n, occupations)
    popularity = np.log(occ["jobseekers_2017"].to_numpy(dtype=float))
    keys = 5.0 * similarity + 0.5 * popularity + rng.gumbel(size=similarity.shape)
    top = np.argsort(-keys, axis=1, kind="stable")[:, :3]
    count = rng.choice(4, size=n, p=[0.20, 0.35, 0.30, 0.15])
    codes = occ["occupation_code"].to_numpy(dtype=object)
    return [[str(codes[j]) for j in top[i, : count[i]]] for i in range(n)]


def _advisers(lat: np.ndarray, lon: np.ndarray, n: int) -> np.ndarray:
    """About one fixed contact person per 25 candidates, advisers serving nearby candidates."""
    n_adv = max(1, int(np.ceil(n / 25)))
    order = np.lexsort((lon, np.round(lat, 1)))
    adviser = np.empty(n, dtype=np.int64)
    adviser[order] = np.minimum(np.arange(n) * n_adv // max(n, 1), n_adv - 1)
    return _ids("A", n_adv, _width(n_adv, 3))[adviser]


@dataclass
class _Latent:
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
    gap = np.where(task >= 0.5, short, 0.0).max(axis=1)
    demand_excess = np.maximum(works["demand"][w] - cands["tolerance"][c], 0.0).sum(axis=1)
    needs, offers = cands["needs"][c], works["offers"][w] >= 0.5
    total = needs.sum(axis=1)
    coverage = np.divide((needs * offers).sum(axis=1), total, out=np.ones_like(total), where=total > 0)
    unmet_required = ((needs >= 2) & ~offers).sum(axis=1).astype(float)
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


LOGITS = {"standard": _standard_logits, "alternative": _alternative_logits}


def _stage_probabilities(
    variant: str,
    cands: dict[str, np.ndarray],
    works: dict[str, np.ndarray],
    c_idx: np.ndarray,
    w_idx: np.ndarray,
    latent: _Latent,
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
        for k, logit in enumerate(logits):
            stages[sl, k] = _sigmoid(logit)
        for k in keep:
            kept[k].append(q[k].astype(np.float32) if q[k].dtype != bool else q[k])
    empty = np.zeros(0, dtype=np.float32)
    return stages, {k: (np.concatenate(v) if v else empty) for k, v in kept.items()}


def _suggest(
    rng: np.random.Generator, c_idx: np.ndarray, props: dict[str, np.ndarray], n_candidates: int
) -> np.ndarray:
    """Positions (into the eligible pairs) of the pairs advisers suggested, grouped by candidate."""
    if len(c_idx) == 0:
        return np.zeros(0, dtype=np.int64)
    wanted = rng.integers(2, 11, size=n_candidates)
    mult = np.where(props["pref"] >= 1.0, 4.0, np.where(props["pref"] >= 0.5, 2.0, 1.0))
    log_weight = -props["distance"].astype(float) / SUGGESTION_KM + np.log(mult) + 0.8 * props["sim"]
    key = log_weight + rng.gumbel(size=len(c_idx))
    order = np.lexsort((-key, c_idx))
    sorted_c = c_idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_c[1:] != sorted_c[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(sorted_c)]))
    rank = np.arange(len(sorted_c)) - group_start
    chosen = order[rank < wanted[sorted_c]]
    return np.sort(chosen)


def _rate(values: np.ndarray, mask: np.ndarray) -> float | None:
    return round(float(values[mask].mean()), 4) if mask.any() else None


def _calibration(
    stages: np.ndarray,
    props: dict[str, np.ndarray],
    grades: np.ndarray,
    chosen: np.ndarray,
    c_idx: np.ndarray,
    bands: np.ndarray,
) -> dict[str, object]:
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
    by_band = {}
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


def _readme(summary: dict[str, object]) -> str:
    cal = summary.get("calibration", {})
    lines = [
        "# SYNTHETIC dataset (contract v1)",
        "",
        "**These data are SYNTHETIC.** No row describes a real person, workplace or employer; every id",
        "starts with `SYN-`. Towns and occupation codes are real, everything else is drawn at random.",
        "",
        f"Generated by `training/synthetic.py` (`generate_dataset`) with seed {summary['seed']}, "
        f"variant `{summary['variant']}`, {summary['n_candidates']} candidates and "
        f"{summary['n_workplaces']} workplaces (format: {summary['format']}).",
        "",
        "## Tables",
        "- `workplaces`, `candidates`, `outcomes`, `audit`: contract v1 (see the jobmatch README).",
        "- `audit` (age band, gender) is for fairness reports only and is never a feature.",
        "- `truth.parquet`: the true expected grade and P(hired) of every eligible pair; for",
        "  evaluation only, never for fitting.",
        "- `SUMMARY.json`: counts and calibration figures.",
        "",
        "## Ground truth",
        "A suggested pair passes four stages, each a logistic probability given the previous one:",
        "the adviser accepts and contacts the employer (grade >= 1), a work trial starts (>= 2), the",
        "trial is completed (>= 3), the person is hired (4). Expected grade = sum of P(grade >= k).",
    ]
    if summary["variant"] == "standard":
        lines += [
            "Variant `standard`: acceptance follows interest, commute and hours fit; the employer's yes",
            "follows task fit (largest shortfall on a required task), its latent inclusion competence",
            "and support offered; completion follows task fit, work demands within tolerance, support",
            "met, a mentor, not a short job (<= 20 h/week), a short commute; hiring follows above all",
            "the person's preferred occupation and interest similarity, then competence and support.",
        ]
    else:
        lines += [
            "Variant `alternative`: interest similarity (squared) and hours fit dominate every stage;",
            "task gaps and work demands matter little; commute has a threshold effect (beyond 60% of",
            "the person's maximum); the employer's observed hire history matters more than its latent",
            "competence.",
        ]
    lines += [
        "Every stage carries the person's latent readiness, lower in older age bands (following",
        "NAV's age gradient), so historical outcomes differ by age band. Logged outcomes are 2-10",
        "suggestions per person, chosen mostly by nearness and stated preference, so they carry the",
        "selection bias of real logs.",
        "",
        "## Calibration (measured on this dataset)",
        "Targets (data/reference/FIGURES.md section 5): P(hired) about 0.35-0.50 for well-matched, well-supported",
        "pairs; about 0.10-0.30 or lower for weak ones; 0.10-0.20 over logged suggestions; good",
        "support vs none RR about 1.6-2.3; hire rates by age band roughly 42 : 43 : 39 : 28 : 12.",
        "",
    ]
    for key, value in cal.items():
        if key in ("definitions", "by_age_band", "logged_grade_shares"):
            continue
        lines.append(f"- {key}: {value}")
    bands = cal.get("by_age_band", {})
    if bands:
        lines.append(
            "- P(hired) by age band (truth / logged): "
            + "; ".join(f"{b} {v['truth_p_hired']} / {v['logged_hire_rate']}" for b, v in bands.items())
        )
    for key, text in cal.get("definitions", {}).items():
        lines.append(f"- *{key}*: {text}")
    lines.append("")
    return "\n".join(lines)


def generate_dataset(
    out: Path,
    n_candidates: int,
    n_workplaces: int,
    seed: int,
    variant: str = "standard",
    fmt: str = "parquet",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write a SYNTHETIC contract-v1 dataset with its ground truth to folder `out`.

    Args:
        out: the dataset folder (created if needed; existing tables are replaced).
        n_candidates: number of candidates (>= 1).
        n_workplaces: number of workplaces (>= 1).
        seed: the random seed; the same seed gives identical files. For one seed, both variants
            share the same workplaces, candidates, audit and suggested pairs.
        variant: the ground truth, one of `VARIANTS`.
        fmt: "parquet" or "csv" for the contract tables (`truth` is always parquet).
        progress: called with a short message at each step.

    Returns:
        A summary with counts and calibration figures (also written to `out/SUMMARY.json`).

    Raises:
        ValueError: for an unknown variant or format, or sizes below 1.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if n_candidates < 1 or n_workplaces < 1:
        raise ValueError("n_candidates and n_workplaces must be at least 1")
    say = progress or (lambda message: None)
    out = Path(out)
    catalogue = load_catalogue()
    voc = catalogue.vocabulary
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_w, rng_c, rng_a, rng_noise, rng_sel, rng_grade = streams

    say(f"drawing {n_workplaces} synthetic workplaces")
    workplaces, competence = _workplaces(rng_w, n_workplaces, catalogue)
    say(f"drawing {n_candidates} synthetic candidates")
    candidate_ids = _ids("C", n_candidates, _width(n_candidates, 6))
    audit, age_shift = _audit(rng_a, n_candidates, candidate_ids)
    bands = np.array([AGE_BANDS.index(b) for b in audit["age_band"]], dtype=np.int64)
    candidates, readiness = _candidates(rng_c, n_candidates, catalogue, candidate_ids, age_shift)

    say("generating eligible pairs (consent, active, commute, slots, required supports)")
    table = CandidateTable.build(candidates, catalogue)
    pool = WorkplacePool(workplaces, catalogue)
    rows = eligible_candidates(candidates)
    c_idx, w_idx = pool.generate_pairs(table.arrays, rows, exclude_unmet_required=True)

    say(f"computing the {variant} ground truth for {len(c_idx)} eligible pairs")
    eps = rng_noise.normal(0.0, 0.2, size=len(c_idx))
    latent = _Latent(competence, readiness)
    mentor_col = list(voc.supports).index("mentor") if "mentor" in voc.supports else 0
    stages, props = _stage_probabilities(variant, table.arrays, pool.arrays, c_idx, w_idx, latent, eps, mentor_col)
    reach = np.cumprod(stages, axis=1)

    say("sampling the suggestions advisers made and their outcomes")
    chosen = _suggest(rng_sel, c_idx, props, n_candidates)
    passed = rng_grade.random(size=(len(chosen), 4)) < stages[chosen]
    grades = np.cumprod(passed, axis=1).sum(axis=1).astype(np.int64)
    start_day = rng_sel.integers(0, DATE_DAYS - 60, size=n_candidates)
    day = start_day[c_idx[chosen]] + rng_sel.integers(0, 60, size=len(chosen))
    wids = workplaces["workplace_id"].to_numpy(dtype=object)
    outcomes = pd.DataFrame(
        {
            "candidate_id": candidate_ids[c_idx[chosen]],
            "workplace_id": wids[w_idx[chosen]],
            "suggested_on": pd.to_datetime(DATE_START + day.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "grade": grades,
            "reason": np.full(len(chosen), "", dtype=object),
        }
    )
    truth = pd.DataFrame(
        {
            "candidate_id": candidate_ids[c_idx],
            "workplace_id": wids[w_idx],
            "expected_grade": reach.sum(axis=1),
            "p_hired": reach[:, 3],
        }
    )

    say(f"writing tables to {out}")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("workplaces", "candidates", "outcomes", "audit", "truth"):
        for ext in FORMATS:
            stale = out / f"{name}.{ext}"
            if stale.exists():
                stale.unlink()
    write_table(workplaces, out, "workplaces", fmt)
    write_table(candidates, out, "candidates", fmt)
    write_table(outcomes, out, "outcomes", fmt)
    write_table(audit, out, "audit", fmt)
    write_table(truth, out, "truth", "parquet")

    summary: dict[str, object] = {
        "synthetic": True,
        "generator": "training.synthetic.generate_dataset",
        "contract_version": CONTRACT_VERSION,
        "seed": int(seed),
        "variant": variant,
        "format": fmt,
        "n_candidates": int(n_candidates),
        "n_workplaces": int(n_workplaces),
        "n_employers": int(workplaces["employer_id"].nunique()),
        "n_advisers": int(candidates["adviser_id"].nunique()),
        "eligible_candidates": int(len(rows)),
        "candidates_with_pairs": int(len(np.unique(c_idx))),
        "eligible_pairs": int(len(c_idx)),
        "outcomes": int(len(outcomes)),
        "calibration": _calibration(stages, props, grades, chosen, c_idx, bands),
    }
    (out / "SUMMARY.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(summary), encoding="utf-8")
    say(f"done: {len(outcomes)} logged outcomes, {len(truth)} truth rows")
    return summary
