"""Repository functions over a Session, for the API: shortlists as served, the adviser's
decisions and the person's answers. Each function works inside the caller's transaction
(`session_scope`); it flushes but never commits.

Decisions and answers are append-only: a correction is a new row, the latest row of an item
(by time, then by the order it was recorded) is the current one, and the earlier rows are its
history, with who and when.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matching.store.errors import NotFoundError, StoreError
from matching.store.models import (
    DECISIONS,
    PERSON_ANSWERS,
    REASON_CODES,
    Candidate,
    Decision,
    PersonAnswer,
    Shortlist,
    ShortlistItem,
    Workplace,
    utc_now,
)

# Keys of a served item with a column of their own; any other key is kept in `details`.
ITEM_COLUMNS = ("rank", "workplace_id", "score", "explanation", "features")


@dataclass(frozen=True)
class StoredShortlist:
    """A shortlist as it was stored; `items[i]` is the served item whose row id is `item_ids[i]`."""

    id: int
    candidate_id: str
    requested_by: str
    created_at: dt.datetime
    model_name: str
    model_version: str
    top_k: int
    items: list[dict[str, Any]]
    item_ids: list[int]

    def item_id(self, rank: int) -> int:
        """The row id of the item at `rank` (1-based).

        Raises:
            NotFoundError: when the shortlist has no item at that rank.
        """
        for item, item_id in zip(self.items, self.item_ids, strict=True):
            if item["rank"] == rank:
                return item_id
        raise NotFoundError(f"shortlist {self.id} has no item at rank {rank}", field="rank")


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded decision (a row of the history)."""

    id: int
    shortlist_item_id: int
    decision: str
    reason_code: str | None
    reason_text: str | None
    decided_by: str
    decided_at: dt.datetime


@dataclass(frozen=True)
class PersonAnswerRecord:
    """One recorded answer of the person to a suggestion."""

    id: int
    shortlist_item_id: int
    answer: str
    recorded_by: str
    recorded_at: dt.datetime


def _plain_json(value: Any, field: str) -> Any:
    """`value` as plain JSON data (numpy numbers become Python numbers), exactly as it will read back.

    Raises:
        StoreError: naming `field`, for a value JSON cannot hold (NaN, infinity, other objects).
    """

    def convert(obj: Any) -> Any:
        if hasattr(obj, "tolist"):  # numpy scalars and arrays
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON data")

    try:
        return json.loads(json.dumps(value, default=convert, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StoreError(f"cannot be stored as JSON: {error}", field=field) from error


def _text(value: str | None, field: str) -> str:
    if value is None or not str(value).strip():
        raise StoreError("must not be empty", field=field)
    return str(value).strip()


def _aware(value: dt.datetime | None, field: str) -> dt.datetime:
    if value is None:
        return utc_now()
    if value.tzinfo is None:
        raise StoreError("must be timezone-aware (UTC)", field=field)
    return value.astimezone(dt.UTC)


def save_shortlist(
    session: Session,
    candidate_id: str,
    requested_by: str,
    model_name: str,
    model_version: str,
    top_k: int,
    items: Sequence[Mapping[str, Any]],
    created_at: dt.datetime | None = None,
) -> int:
    """Store a shortlist as it was served, with the feature values and explanation of each item.

    Args:
        session: the transaction to write in.
        candidate_id: the candidate the shortlist is for (must be in the store).
        requested_by: who asked for it (the adviser's or client's identity).
        model_name: the registered model that scored it.
        model_version: its version.
        top_k: how many items were asked for (the shortlist may hold fewer).
        items: the served items (`matching.shortlist.Shortlist.items`): each with `rank`,
            `workplace_id`, `score`, `explanation` and `features`; other keys are kept too.
        created_at: when it was served; now (UTC) by default.

    Returns:
        The shortlist's id.

    Raises:
        NotFoundError: for an unknown candidate or workplace.
        StoreError: for a malformed item, naming the field (e.g. `items[2].score`).
    """
    requested_by = _text(requested_by, "requested_by")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise StoreError(f"must be a whole number >= 1, not {top_k!r}", field="top_k")
    if session.get(Candidate, candidate_id) is None:
        raise NotFoundError(f"unknown candidate {candidate_id!r}", field="candidate_id")
    rows = [_item_row(i, item) for i, item in enumerate(items)]
    ranks = [row["rank"] for row in rows]
    if len(set(ranks)) != len(ranks):
        raise StoreError(f"ranks must be distinct, got {ranks}", field="items")
    wanted = {row["workplace_id"] for row in rows}
    known = set(session.scalars(select(Workplace.workplace_id).where(Workplace.workplace_id.in_(wanted))))
    if wanted - known:
        raise NotFoundError(f"unknown workplace(s) {sorted(wanted - known)}", field="items.workplace_id")
    shortlist = Shortlist(
        candidate_id=candidate_id,
        requested_by=requested_by,
        created_at=_aware(created_at, "created_at"),
        model_name=_text(model_name, "model_name"),
        model_version=_text(str(model_version), "model_version"),
        top_k=top_k,
    )
    session.add(shortlist)
    session.flush()
    if rows:
        session.execute(insert(ShortlistItem), [{**row, "shortlist_id": shortlist.id} for row in rows])
    return shortlist.id


def _item_row(index: int, item: Mapping[str, Any]) -> dict[str, Any]:
    where = f"items[{index}]"
    missing = [key for key in ITEM_COLUMNS if key not in item]
    if missing:
        raise StoreError(f"missing key(s) {', '.join(missing)}", field=where)
    rank = item["rank"]
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise StoreError(f"must be a whole number >= 1, not {rank!r}", field=f"{where}.rank")
    try:
        score = float(item["score"])
    except (TypeError, ValueError):
        score = math.nan
    if not math.isfinite(score):
        raise StoreError(f"must be a finite number, not {item['score']!r}", field=f"{where}.score")
    if not isinstance(item["features"], Mapping) or not isinstance(item["explanation"], Mapping):
        raise StoreError("features and explanation must be mappings", field=where)
    details = {key: value for key, value in item.items() if key not in ITEM_COLUMNS}
    return {
        "rank": int(rank),
        "workplace_id": _text(item["workplace_id"], f"{where}.workplace_id"),
        "score": score,
        "features": _plain_json(dict(item["features"]), f"{where}.features"),
        "explanation": _plain_json(dict(item["explanation"]), f"{where}.explanation"),
        "details": _plain_json(details, where),
    }


def get_shortlist(session: Session, shortlist_id: int) -> StoredShortlist:
    """A stored shortlist, with its items as they were served (in rank order).

    Raises:
        NotFoundError: for an unknown id.
    """
    shortlist = session.get(Shortlist, shortlist_id)
    if shortlist is None:
        raise NotFoundError(f"unknown shortlist {shortlist_id!r}", field="shortlist_id")
    rows = session.scalars(
        select(ShortlistItem).where(ShortlistItem.shortlist_id == shortlist_id).order_by(ShortlistItem.rank)
    ).all()
    items = [
        {
            "rank": row.rank,
            "workplace_id": row.workplace_id,
            **row.details,
            "score": row.score,
            "explanation": row.explanation,
            "features": row.features,
        }
        for row in rows
    ]
    return StoredShortlist(
        id=shortlist.id,
        candidate_id=shortlist.candidate_id,
        requested_by=shortlist.requested_by,
        created_at=shortlist.created_at,
        model_name=shortlist.model_name,
        model_version=shortlist.model_version,
        top_k=shortlist.top_k,
        items=items,
        item_ids=[row.id for row in rows],
    )


def _require_item(session: Session, item_id: int) -> ShortlistItem:
    item = session.get(ShortlistItem, item_id)
    if item is None:
        raise NotFoundError(f"unknown shortlist item {item_id!r}", field="shortlist_item_id")
    return item


def record_decision(
    session: Session,
    item_id: int,
    decision: str,
    decided_by: str,
    reason_code: str | None = None,
    reason_text: str | None = None,
    decided_at: dt.datetime | None = None,
) -> DecisionRecord:
    """Record the adviser's accept or reject of one suggestion (a correction is recorded the same way).

    Args:
        session: the transaction to write in.
        item_id: the shortlist item's id.
        decision: "accept" or "reject".
        decided_by: who decided.
        reason_code: required for a rejection, one of `REASON_CODES`; not given for an acceptance.
        reason_text: free text; required with reason code "other".
        decided_at: when; now (UTC) by default.

    Returns:
        The recorded decision.

    Raises:
        NotFoundError: for an unknown item.
        StoreError: naming the field, for an unknown decision or reason code, a rejection without
            a reason code, an acceptance with one, or "other" without text.
    """
    if decision not in DECISIONS:
        raise StoreError(f"must be one of {', '.join(DECISIONS)}, not {decision!r}", field="decision")
    decided_by = _text(decided_by, "decided_by")
    text = reason_text.strip() if reason_text and reason_text.strip() else None
    codes = ", ".join(REASON_CODES)
    if decision == "reject" and reason_code is None:
        raise StoreError(f"required when rejecting a suggestion: one of {codes}", field="reason_code")
    if decision == "accept" and reason_code is not None:
        raise StoreError("is only given when rejecting a suggestion", field="reason_code")
    if reason_code is not None and reason_code not in REASON_CODES:
        raise StoreError(f"must be one of {codes}, not {reason_code!r}", field="reason_code")
    if reason_code == "other" and text is None:
        raise StoreError("required with reason code 'other': say why in free text", field="reason_text")
    _require_item(session, item_id)
    row = Decision(
        shortlist_item_id=item_id,
        decision=decision,
        reason_code=reason_code,
        reason_text=text,
        decided_by=decided_by,
        decided_at=_aware(decided_at, "decided_at"),
    )
    session.add(row)
    session.flush()
    return _decision_record(row)


def _decision_record(row: Decision) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        shortlist_item_id=row.shortlist_item_id,
        decision=row.decision,
        reason_code=row.reason_code,
        reason_text=row.reason_text,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def decision_history(session: Session, item_id: int) -> list[DecisionRecord]:
    """Every decision recorded for an item, oldest first; the last is the current one.

    Raises:
        NotFoundError: for an unknown item.
    """
    _require_item(session, item_id)
    rows = session.scalars(
        select(Decision).where(Decision.shortlist_item_id == item_id).order_by(Decision.decided_at, Decision.id)
    )
    return [_decision_record(row) for row in rows]


def current_decision(session: Session, item_id: int) -> DecisionRecord | None:
    """The item's current decision (the latest recorded), or None when none was made.

    Raises:
        NotFoundError: for an unknown item.
    """
    history = decision_history(session, item_id)
    return history[-1] if history else None


def record_person_answer(
    session: Session,
    item_id: int,
    answer: str,
    recorded_by: str,
    recorded_at: dt.datetime | None = None,
) -> PersonAnswerRecord:
    """Record the person's own answer to a suggestion (interested, not_interested or unsure).

    Raises:
        NotFoundError: for an unknown item.
        StoreError: naming the field, for an unknown answer or an empty `recorded_by`.
    """
    if answer not in PERSON_ANSWERS:
        raise StoreError(f"must be one of {', '.join(PERSON_ANSWERS)}, not {answer!r}", field="answer")
    recorded_by = _text(recorded_by, "recorded_by")
    _require_item(session, item_id)
    row = PersonAnswer(
        shortlist_item_id=item_id,
        answer=answer,
        recorded_by=recorded_by,
        recorded_at=_aware(recorded_at, "recorded_at"),
    )
    session.add(row)
    session.flush()
    return _answer_record(row)


def _answer_record(row: PersonAnswer) -> PersonAnswerRecord:
    return PersonAnswerRecord(
        id=row.id,
        shortlist_item_id=row.shortlist_item_id,
        answer=row.answer,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def person_answer_history(session: Session, item_id: int) -> list[PersonAnswerRecord]:
    """Every answer recorded for an item, oldest first; the last is the current one.

    Raises:
        NotFoundError: for an unknown item.
    """
    _require_item(session, item_id)
    rows = session.scalars(
        select(PersonAnswer)
        .where(PersonAnswer.shortlist_item_id == item_id)
        .order_by(PersonAnswer.recorded_at, PersonAnswer.id)
    )
    return [_answer_record(row) for row in rows]
