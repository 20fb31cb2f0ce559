"""The outcomes the record implies, for training: one row per settled suggestion, in the contract's
`outcomes` form, labelled by `matching.labels` (the one place that says what a recorded history
means), and the count of the rows left out for now, by why."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.clock import utc_now
from matching.labels import History, Label, LeftOut, RecordedEvent, label
from matching.store.models import (
    Decision,
    InclusionPlan,
    PersonAnswer,
    Placement,
    PlacementEvent,
    Shortlist,
    ShortlistItem,
)

OUTCOME_COLUMNS = ("candidate_id", "workplace_id", "suggested_on", "grade", "reason")


@dataclass
class StoredLabels:
    """The labelled rows (`stored_outcomes`' frame) and how many suggestions were left out, by
    why (the keys of `matching.labels.LEFT_OUT`)."""

    frame: pd.DataFrame
    left_out: Counter[str] = field(default_factory=Counter)


def _histories(session: Session) -> dict[int, dict[str, Any]]:
    """The history of every suggestion with a decision, an answer or an event, by shortlist item id
    (times as the store reads them back: timezone-aware UTC)."""
    found: dict[int, dict[str, Any]] = {}
    for item_id, decision, reason_code, at in session.execute(
        select(Decision.shortlist_item_id, Decision.decision, Decision.reason_code, Decision.decided_at).order_by(
            Decision.shortlist_item_id, Decision.decided_at, Decision.id
        )
    ):  # the latest row is the current decision
        found.setdefault(item_id, {}).update(decision=decision, decision_reason=reason_code, decided_at=at)
    for item_id, answer, at in session.execute(
        select(PersonAnswer.shortlist_item_id, PersonAnswer.answer, PersonAnswer.recorded_at).order_by(
            PersonAnswer.shortlist_item_id, PersonAnswer.recorded_at, PersonAnswer.id
        )
    ):  # the latest row is the person's current answer
        found.setdefault(item_id, {}).update(answer=answer, answered_at=at)
    for item_id, kind, reason, payload, at in session.execute(
        select(
            InclusionPlan.shortlist_item_id,
            PlacementEvent.kind,
            PlacementEvent.reason,
            PlacementEvent.payload,
            PlacementEvent.recorded_at,
        )
        .join(Placement, Placement.plan_id == InclusionPlan.id)
        .join(PlacementEvent, PlacementEvent.placement_id == Placement.id)
        .order_by(PlacementEvent.recorded_at, PlacementEvent.id)
    ):
        events = found.setdefault(item_id, {}).setdefault("events", [])
        events.append(RecordedEvent(kind, at, reason, payload))
    return found


def stored_labels(
    session: Session,
    with_features: bool = False,
    *,
    now: dt.datetime | None = None,
    settle_days: float | None = None,
) -> StoredLabels:
    """The outcomes the record implies, in the contract's `outcomes` form: one row per settled
    suggestion, graded by `matching.labels.label`; and the suggestions left out for now, counted.

    `suggested_on` is the shortlist's day (UTC). Should a pair be suggested twice on one day, the
    row with the higher grade (then the later suggestion) is kept, so the contract key stays unique.

    Args:
        session: the transaction to read in.
        with_features: add `shortlist_item_id` and one float column per feature stored with the
            suggestion (the values the model saw; NaN where an item lacks one).
        now: the time to judge "settled" at; now (UTC) by default.
        settle_days: the waiting time in days; default the setting `outcome_settle_days`
            (`JOBMATCH_OUTCOME_SETTLE_DAYS`).

    Returns:
        The frame: columns candidate_id, workplace_id, suggested_on (datetime64), grade (int64),
        reason, then the extra columns if asked; sorted by candidate, workplace and day. The count
        of suggestions left out, by why.
    """
    if settle_days is None:
        from matching.settings import get_settings

        settle_days = get_settings().outcome_settle_days
    now = utc_now() if now is None else now
    histories = _histories(session)
    items = session.execute(
        select(
            ShortlistItem.id,
            ShortlistItem.workplace_id,
            ShortlistItem.features,
            Shortlist.candidate_id,
            Shortlist.created_at,
        )
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(ShortlistItem.id.in_(select(Decision.shortlist_item_id).union(select(PersonAnswer.shortlist_item_id))))
    ).all()
    left_out: Counter[str] = Counter()
    best: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
    for item_id, workplace_id, features, candidate_id, created_at in items:
        result = label(History(**histories[item_id]), now, settle_days)
        if isinstance(result, LeftOut):
            left_out[result.why] += 1
        if not isinstance(result, Label):
            continue
        row = {
            "candidate_id": candidate_id,
            "workplace_id": workplace_id,
            "suggested_on": created_at.astimezone(dt.UTC).date(),
            "grade": result.grade,
            "reason": result.reason,
            "shortlist_item_id": item_id,
            "features": features,
        }
        key = (candidate_id, workplace_id, row["suggested_on"])
        kept = best.get(key)
        if kept is None or (result.grade, item_id) > (kept["grade"], kept["shortlist_item_id"]):
            best[key] = row
    return StoredLabels(_frame(list(best.values()), with_features), left_out)


def _frame(rows: list[dict[str, Any]], with_features: bool) -> pd.DataFrame:
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


def stored_outcomes(
    session: Session,
    with_features: bool = False,
    *,
    now: dt.datetime | None = None,
    settle_days: float | None = None,
) -> pd.DataFrame:
    """The frame of `stored_labels`: the settled suggestions' outcomes (the same arguments)."""
    return stored_labels(session, with_features, now=now, settle_days=settle_days).frame
