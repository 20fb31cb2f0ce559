"""The outcomes the record implies, for training: one row per decided suggestion, in the contract's
`outcomes` form, graded by the furthest stage its placement reached (`matching.placements`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.placements import recorded_grade
from matching.store.models import Decision, InclusionPlan, Placement, PlacementEvent, Shortlist, ShortlistItem

OUTCOME_COLUMNS = ("candidate_id", "workplace_id", "suggested_on", "grade", "reason")


def stored_outcomes(session: Session, with_features: bool = False) -> pd.DataFrame:
    """The outcomes the record implies, in the contract's `outcomes` form: one row per decided suggestion.

    The grade is the furthest stage reached: 0 for a suggestion whose current decision is a
    rejection (reason: its reason code); for an accepted one, the furthest stage its placement's
    events reached (contacted 1, trial_started 2, trial_completed 3, hired 4; an end keeps the
    stage it ended from, with its reason), 1 when the placement has no stage event yet or there
    is no placement, and 0 when the placement ended before the employer was contacted.
    `suggested_on` is the shortlist's day (UTC). Should a pair be suggested twice on one day, the
    row with the higher grade (then the later suggestion) is kept, so the contract key stays unique.

    Args:
        session: the transaction to read in.
        with_features: add `shortlist_item_id` and one float column per feature stored with the
            suggestion (the values the model saw; NaN where an item lacks one).

    Returns:
        Columns candidate_id, workplace_id, suggested_on (datetime64), grade (int64), reason, then
        the extra columns if asked; sorted by candidate, workplace and day.
    """
    decisions: dict[int, tuple[str, str | None]] = {}
    for item_id, decision, reason_code in session.execute(
        select(Decision.shortlist_item_id, Decision.decision, Decision.reason_code).order_by(
            Decision.shortlist_item_id, Decision.decided_at, Decision.id
        )
    ):
        decisions[item_id] = (decision, reason_code)
    events: dict[int, list[tuple[str, str | None]]] = {}
    for item_id, kind, reason in session.execute(
        select(InclusionPlan.shortlist_item_id, PlacementEvent.kind, PlacementEvent.reason)
        .join(Placement, Placement.plan_id == InclusionPlan.id)
        .join(PlacementEvent, PlacementEvent.placement_id == Placement.id)
        .order_by(PlacementEvent.recorded_at, PlacementEvent.id)
    ):
        events.setdefault(item_id, []).append((kind, reason))
    items = session.execute(
        select(
            ShortlistItem.id,
            ShortlistItem.workplace_id,
            ShortlistItem.features,
            Shortlist.candidate_id,
            Shortlist.created_at,
        )
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(ShortlistItem.id.in_(select(Decision.shortlist_item_id)))
    ).all()
    best: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
    for item_id, workplace_id, features, candidate_id, created_at in items:
        decision, reason = decisions[item_id]
        grade = 0
        if decision == "accept":
            reached, ended = recorded_grade(events.get(item_id, []))
            grade = 1 if reached is None else reached
            reason = ended
        row = {
            "candidate_id": candidate_id,
            "workplace_id": workplace_id,
            "suggested_on": created_at.astimezone(dt.UTC).date(),
            "grade": grade,
            "reason": reason,
            "shortlist_item_id": item_id,
            "features": features,
        }
        key = (candidate_id, workplace_id, row["suggested_on"])
        kept = best.get(key)
        if kept is None or (grade, item_id) > (kept["grade"], kept["shortlist_item_id"]):
            best[key] = row
    rows = list(best.values())
    frame = pd.DataFrame(
        {
            "candidate_id": pd.Series([r["candidate_id"] for r in rows], dtype=object),
            "workplace_id": pd.Series([r["workplace_id"] for r in rows], dtype=object),
            "suggested_on": pd.to_datetime(pd.Series([r["suggested_on"] for r in rows], dtype=object)).astype(
                "datetime64[ns]"
            ),
            "grade": pd.Series([r["grade"] for r in rows], dtype="int64"),
            "reason": pd.Series([r["reason"] for r in rows], dtype=object),
        },
        columns=list(OUTCOME_COLUMNS),
    )
    if with_features:
        frame["shortlist_item_id"] = pd.Series([r["shortlist_item_id"] for r in rows], dtype="int64")
        names: dict[str, None] = {}
        for r in rows:
            names.update(dict.fromkeys(r["features"]))
        for name in names:
            values = [r["features"].get(name) for r in rows]
            frame[name] = pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    return frame.sort_values(["candidate_id", "workplace_id", "suggested_on"], kind="stable").reset_index(drop=True)
