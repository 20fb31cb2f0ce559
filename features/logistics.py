"""Logistics and the employer: commute, hours, inclusion experience, capacity.

The employer's history (`past_placements`, `past_hires`) is read through `PairFrame.w`: in
training, as of each pair's date; in serving, up to now (see `features.history`).
"""

from __future__ import annotations

import numpy as np

from features.pairs import PairFrame

PRIOR_HIRE_RATE = 0.3
PRIOR_PLACEMENTS = 5.0
SLOTS_CAP = 10.0


def logistics_commute_ratio(p: PairFrame) -> np.ndarray:
    """Commute distance as a share of the longest commute the person accepts."""
    return p.distance_km() / p.c("max_commute_km")


def logistics_hours_fit(p: PairFrame) -> np.ndarray:
    """1 when the job's weekly hours equal the person's wish, falling to 0 at a 100% difference."""
    desired = p.c("desired_hours")
    return 1.0 - np.minimum(np.abs(p.w("hours_per_week") - desired) / desired, 1.0)


def logistics_weekly_hours(p: PairFrame) -> np.ndarray:
    """The job's weekly hours as a share of full time (40 h): short jobs see more quits."""
    return p.w("hours_per_week") / 40.0


def employer_supports_offered(p: PairFrame) -> np.ndarray:
    """Share of all support categories the workplace can give: a sign of inclusion readiness."""
    return p.w("offers").mean(axis=1)


def employer_hire_rate(p: PairFrame) -> np.ndarray:
    """The workplace's hires per trainee taken before the pair's date, smoothed towards 0.3 over 5
    pseudo-placements."""
    hires, placements = p.w("past_hires"), p.w("past_placements")
    return (hires + PRIOR_HIRE_RATE * PRIOR_PLACEMENTS) / (placements + PRIOR_PLACEMENTS)


def employer_experience(p: PairFrame) -> np.ndarray:
    """log(1 + trainees the workplace took before the pair's date): inclusion experience."""
    return np.log1p(p.w("past_placements"))


def capacity_slots_left(p: PairFrame) -> np.ndarray:
    """Trainee slots the workplace has free now (capped at 10)."""
    return np.minimum(p.w("slots"), SLOTS_CAP)
