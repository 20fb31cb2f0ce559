"""The adviser's decisions on suggestions (accept, or reject with a reason code) and the person's
own answers to them. Both are append-only: a correction is a new row, the latest row of an item
(by time, then by the order it was recorded) is the current one, and the earlier rows are its
history, with who and when. `interested_in` says whether a person's latest answer on any
suggestion of one workplace is "interested" (what lets the employer see them, with a
presentation: `matching.store.presentations`). Every function works inside the caller's transaction; it flushes but
never commits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.orm import Session

from matching.review import DECISIONS, PERSON_ANSWERS, REASON_CODES
from matching.store.base import table_of
from matching.store.errors import StoreError
from matching.store.models import Decision, PersonAnswer, Shortlist, ShortlistItem
from matching.store.shortlists import require_item
from matching.store.values import aware, required_text

MAX_WORDS = 1000
"""The longest answer in the person's own words the store keeps."""

# written and read with every review request: built once (SQLAlchemy keys its compiled form by
# the object); one insert statement each, no unit-of-work flush
# (Core, on the tables: rows, not ORM objects)
_DECISIONS, _ANSWERS = table_of(Decision), table_of(PersonAnswer)
_INSERT_DECISION = insert(_DECISIONS).returning(_DECISIONS.c.id)
_INSERT_ANSWER = insert(_ANSWERS).returning(_ANSWERS.c.id)
_DECISIONS_OF_ITEMS = (
    select(_DECISIONS)
    .where(_DECISIONS.c.shortlist_item_id.in_(bindparam("item_ids", expanding=True)))
    .order_by(_DECISIONS.c.shortlist_item_id, _DECISIONS.c.decided_at, _DECISIONS.c.id)
)
_ANSWERS_OF_ITEMS = (
    select(_ANSWERS)
    .where(_ANSWERS.c.shortlist_item_id.in_(bindparam("item_ids", expanding=True)))
    .order_by(_ANSWERS.c.shortlist_item_id, _ANSWERS.c.recorded_at, _ANSWERS.c.id)
)


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
    words: str | None = None  # the person's own words


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
    decided_by = required_text(decided_by, "decided_by")
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
    require_item(session, item_id)
    values: dict[str, Any] = {
        "shortlist_item_id": item_id,
        "decision": decision,
        "reason_code": reason_code,
        "reason_text": text,
        "decided_by": decided_by,
        "decided_at": aware(decided_at, "decided_at"),
    }
    return DecisionRecord(id=session.execute(_INSERT_DECISION, values).scalar_one(), **values)


def _decision_record(row: Row[Any]) -> DecisionRecord:
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
    require_item(session, item_id)
    return decision_histories(session, [item_id])[item_id]


def decision_histories(session: Session, item_ids: Collection[int]) -> dict[int, list[DecisionRecord]]:
    """`decision_history` of many stored items in one query (a shortlist's read is one query, not
    one per item); an item without decisions maps to an empty list."""
    out: dict[int, list[DecisionRecord]] = {item_id: [] for item_id in item_ids}
    rows = session.execute(_DECISIONS_OF_ITEMS, {"item_ids": list(out)})
    for row in rows:
        out[row.shortlist_item_id].append(_decision_record(row))
    return out


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
    words: str | None = None,
) -> PersonAnswerRecord:
    """Record the person's own answer to a suggestion (interested, not_interested or unsure),
    with what they said in their own words (`words`, up to `MAX_WORDS` characters; blank is none).

    Raises:
        NotFoundError: for an unknown item.
        StoreError: naming the field, for an unknown answer or an empty `recorded_by`.
    """
    if answer not in PERSON_ANSWERS:
        raise StoreError(f"must be one of {', '.join(PERSON_ANSWERS)}, not {answer!r}", field="answer")
    recorded_by = required_text(recorded_by, "recorded_by")
    said = words.strip() if isinstance(words, str) and words.strip() else None
    if said is not None and len(said) > MAX_WORDS:
        raise StoreError(f"at most {MAX_WORDS} characters", field="words")
    require_item(session, item_id)
    values: dict[str, Any] = {
        "shortlist_item_id": item_id,
        "answer": answer,
        "words": said,
        "recorded_by": recorded_by,
        "recorded_at": aware(recorded_at, "recorded_at"),
    }
    return PersonAnswerRecord(id=session.execute(_INSERT_ANSWER, values).scalar_one(), **values)


def _answer_record(row: Row[Any]) -> PersonAnswerRecord:
    return PersonAnswerRecord(
        id=row.id,
        shortlist_item_id=row.shortlist_item_id,
        answer=row.answer,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        words=row.words,
    )


def person_answer_history(session: Session, item_id: int) -> list[PersonAnswerRecord]:
    """Every answer recorded for an item, oldest first; the last is the current one.

    Raises:
        NotFoundError: for an unknown item.
    """
    require_item(session, item_id)
    return person_answer_histories(session, [item_id])[item_id]


def person_answer_histories(session: Session, item_ids: Collection[int]) -> dict[int, list[PersonAnswerRecord]]:
    """`person_answer_history` of many stored items in one query; an item without answers maps to
    an empty list."""
    out: dict[int, list[PersonAnswerRecord]] = defaultdict(list)
    rows = session.execute(_ANSWERS_OF_ITEMS, {"item_ids": list(item_ids)})
    for row in rows:
        out[row.shortlist_item_id].append(_answer_record(row))
    return {item_id: out.get(item_id, []) for item_id in item_ids}


def interested_in(session: Session, candidate_id: str, workplace_id: str) -> bool:
    """Whether the person's latest recorded answer on a suggestion of the workplace (on any of
    their shortlists; the latest by time, then by the order recorded) is "interested".

    False when the person has no answer on any suggestion of it (or no such suggestion at all).
    """
    latest = session.scalar(
        select(PersonAnswer.answer)
        .join(ShortlistItem, ShortlistItem.id == PersonAnswer.shortlist_item_id)
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(Shortlist.candidate_id == candidate_id, ShortlistItem.workplace_id == workplace_id)
        .order_by(PersonAnswer.recorded_at.desc(), PersonAnswer.id.desc())
        .limit(1)
    )
    return latest == "interested"
