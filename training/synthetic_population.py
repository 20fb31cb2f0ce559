"""SYNTHETIC people and workplaces: the contract-v1 `workplaces`, `candidates` and `audit` tables,
with each workplace's latent inclusion competence and each candidate's latent readiness.

Nothing here describes real people or real workplaces; every id starts with `SYN-`. The records
are drawn so that their marginals look plausible for Norway: workplaces around real towns,
occupations weighted by NAV's 2017 job-seeker counts, part-time wishes common among job seekers
with severe mental illness, readiness lower in older age bands (NAV's age gradient). The latent
values feed the ground truth (`training.synthetic_truth`); `training.synthetic` assembles and
writes the dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.records import Catalogue, Vocabulary

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


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def synthetic_ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    """`SYN-<prefix>0001`, ...: n ids, zero-padded to at least `min_width` digits."""
    width = max(min_width, len(str(n)))
    return np.array([f"SYN-{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


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


def draw_workplaces(rng: np.random.Generator, n: int, catalogue: Catalogue) -> tuple[pd.DataFrame, np.ndarray]:
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
        "workplace_id": synthetic_ids("W", n, 6),
        "employer_id": synthetic_ids("E", n_emp, 5)[owner],
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
        p = sigmoid(logit(SUPPORT_OFFER_P.get(s, DEFAULT_OFFER_P)) + 0.7 * competence)
        frame[f"offers_{s}"] = rng.random(n) < p
    takes_trainees = rng.random(n) < sigmoid(0.4 + 0.8 * competence)
    placements = np.where(takes_trainees, rng.poisson(np.exp(0.9 + 0.4 * competence)), 0)
    frame["past_placements"] = placements.astype(np.int64)
    frame["past_hires"] = rng.binomial(placements, sigmoid(-1.0 + 1.0 * competence)).astype(np.int64)
    frame["active"] = rng.random(n) < 0.95
    return pd.DataFrame(frame), competence


def draw_audit(rng: np.random.Generator, n: int, ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
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


def draw_candidates(
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
    u = sigmoid(1.702 * x)
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
    return synthetic_ids("A", n_adv, 3)[adviser]
