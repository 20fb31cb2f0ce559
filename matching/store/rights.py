"""The person's rights (GDPR articles 15 and 17): `person_record` gives everything the store holds
about one person, `erase_person` erases it (see its docstring for what is kept and why), and the
erasure register (`erased_among`) keeps an erased person out of later loads. An erased person's
id in the audit trail becomes a keyed pseudonym (`pseudonym`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from matching.settings import key_id
from matching.store.audit import record_audit
from matching.store.base import Base
from matching.store.changes import forget_record
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import (
    Audit,
    AuditEvent,
    Candidate,
    Decision,
    Erasure,
    Followup,
    InclusionPlan,
    Outcome,
    PersonAnswer,
    Placement,
    PlacementEvent,
    PlanApproval,
    PlanRevision,
    Presentation,
    Shortlist,
    ShortlistItem,
)
from matching.store.presentations import presentations_of
from matching.store.values import aware, required_text

PSEUDONYM_PREFIX = "erased:"
# what an audit entry about an erased person keeps of its detail: ids of records that no longer
# exist, counts and the model version; never what was decided, answered or changed for the person
ERASED_DETAIL_KEYS = frozenset({"shortlist_id", "plan_id", "placement_id", "items", "top_k", "model_version", "lang"})
MAX_REASON_LENGTH = 2000


def subject_hash(candidate_id: str, key: bytes) -> str:
    """The one-way, keyed hash of a person's id (HMAC-SHA256, hex): what the erasure register keeps.
    Without the key it cannot be recomputed from a list of ids, so it does not reveal who was here."""
    return hmac.new(key, str(candidate_id).encode(), hashlib.sha256).hexdigest()


def pseudonym(candidate_id: str, key: bytes) -> str:
    """The pseudonym that replaces an erased person's id in the audit trail: `erased:<subject_hash>`."""
    return PSEUDONYM_PREFIX + subject_hash(candidate_id, key)


def _jsonable(value: Any) -> Any:
    """Times and days as ISO 8601 text, everything else as it is (recursively)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _columns(row: Base) -> dict[str, Any]:
    """Every column of an ORM row, as JSON-ready values."""
    return {column.name: _jsonable(getattr(row, column.name)) for column in row.__table__.columns}


def _id_pattern(candidate_id: str) -> re.Pattern[str]:
    # the id as a whole word: "SYN-C00001" must not match inside "SYN-C000010"
    return re.compile(rf"(?<![\w-]){re.escape(candidate_id)}(?![\w-])")


def _mentions(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, Mapping):
        return any(_mentions(k, pattern) or _mentions(v, pattern) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_mentions(v, pattern) for v in value)
    return False


def _replace_id(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, Mapping):
        return {
            _replace_id(str(k), pattern, replacement): _replace_id(v, pattern, replacement) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_replace_id(v, pattern, replacement) for v in value]
    return value


def _audit_about(session: Session, candidate_id: str, lock: bool = False) -> list[AuditEvent]:
    """Audit entries whose subject is the person, or whose detail names them (oldest first)."""
    statement = (
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.subject_id == candidate_id,
                cast(AuditEvent.detail, Text).contains(candidate_id, autoescape=True),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    if lock:
        statement = statement.with_for_update()
    pattern = _id_pattern(candidate_id)
    return [
        row for row in session.scalars(statement) if row.subject_id == candidate_id or _mentions(row.detail, pattern)
    ]


def _owned_ids(session: Session, candidate_id: str) -> dict[str, list[int]]:
    """The ids of every review-loop record of the person: shortlists, items, plans, placements."""
    shortlists = list(session.scalars(select(Shortlist.id).where(Shortlist.candidate_id == candidate_id)))
    items = list(session.scalars(select(ShortlistItem.id).where(ShortlistItem.shortlist_id.in_(shortlists))))
    plans = list(
        session.scalars(
            select(InclusionPlan.id).where(
                or_(InclusionPlan.candidate_id == candidate_id, InclusionPlan.shortlist_item_id.in_(items))
            )
        )
    )
    placements = list(
        session.scalars(
            select(Placement.id).where(or_(Placement.candidate_id == candidate_id, Placement.plan_id.in_(plans)))
        )
    )
    return {"shortlists": shortlists, "items": items, "plans": plans, "placements": placements}


def person_record(session: Session, candidate_id: str) -> dict[str, Any]:
    """Everything the store holds about one person (the right of access), as JSON-ready data.

    Returns:
        `candidate_id`; `candidate` (the contract record, with the store-only display name);
        `presentations` (to which workplaces, by whom, when); `fairness_audit` (age band and gender,
        or None); `outcomes` (the contract outcomes); `shortlists` with their items (feature
        values, explanation, details), each item's `decisions` and `answers`; `plans` with every
        `revision` and `approval`; `placements` with their `events` and `followups`; `audit_trail`
        (every entry whose subject is the person or whose detail names them). Times are ISO 8601.

    Raises:
        NotFoundError: when the store has no such person (unknown, or erased).
    """
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFoundError(f"unknown candidate {candidate_id!r}", field="candidate_id")
    ids = _owned_ids(session, candidate_id)
    fairness = session.get(Audit, candidate_id)
    outcomes = session.scalars(
        select(Outcome).where(Outcome.candidate_id == candidate_id).order_by(Outcome.suggested_on, Outcome.id)
    )
    shortlists = []
    for shortlist in session.scalars(
        select(Shortlist).where(Shortlist.id.in_(ids["shortlists"])).order_by(Shortlist.created_at, Shortlist.id)
    ):
        items = []
        for item in session.scalars(
            select(ShortlistItem).where(ShortlistItem.shortlist_id == shortlist.id).order_by(ShortlistItem.rank)
        ):
            decisions = session.scalars(
                select(Decision).where(Decision.shortlist_item_id == item.id).order_by(Decision.decided_at, Decision.id)
            )
            answers = session.scalars(
                select(PersonAnswer)
                .where(PersonAnswer.shortlist_item_id == item.id)
                .order_by(PersonAnswer.recorded_at, PersonAnswer.id)
            )
            items.append(
                {
                    **_columns(item),
                    "decisions": [_columns(d) for d in decisions],
                    "answers": [_columns(a) for a in answers],
                }
            )
        shortlists.append({**_columns(shortlist), "items": items})
    plans = []
    for plan in session.scalars(
        select(InclusionPlan).where(InclusionPlan.id.in_(ids["plans"])).order_by(InclusionPlan.id)
    ):
        revisions = session.scalars(
            select(PlanRevision).where(PlanRevision.plan_id == plan.id).order_by(PlanRevision.number)
        )
        approvals = session.scalars(
            select(PlanApproval)
            .where(PlanApproval.plan_id == plan.id)
            .order_by(PlanApproval.revision, PlanApproval.approved_at, PlanApproval.id)
        )
        plans.append(
            {
                **_columns(plan),
                "revisions": [_columns(r) for r in revisions],
                "approvals": [_columns(a) for a in approvals],
            }
        )
    placements = []
    for placement in session.scalars(
        select(Placement).where(Placement.id.in_(ids["placements"])).order_by(Placement.id)
    ):
        events = session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == placement.id)
            .order_by(PlacementEvent.recorded_at, PlacementEvent.id)
        )
        followups = session.scalars(
            select(Followup).where(Followup.placement_id == placement.id).order_by(Followup.due_on, Followup.id)
        )
        placements.append(
            {
                **_columns(placement),
                "events": [_columns(e) for e in events],
                "followups": [_columns(f) for f in followups],
            }
        )
    return {
        "candidate_id": candidate_id,
        "candidate": _columns(candidate),
        "presentations": [_jsonable(asdict(p)) for p in presentations_of(session, candidate_id)],
        "fairness_audit": None if fairness is None else _columns(fairness),
        "outcomes": [_columns(o) for o in outcomes],
        "shortlists": shortlists,
        "plans": plans,
        "placements": placements,
        "audit_trail": [_columns(row) for row in _audit_about(session, candidate_id)],
    }


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did: the register entry, the pseudonym now in the audit trail, rows deleted
    per table, and how many audit entries were pseudonymised."""

    erasure_id: int
    pseudonym: str
    erased_at: dt.datetime
    deleted: dict[str, int]
    audit_pseudonymised: int

    @property
    def rows_deleted(self) -> int:
        return sum(self.deleted.values())


def _register_key_check(session: Session, key: bytes | None) -> int:
    """How many erasures the register holds, after checking `key` is the one they were made with.

    Raises:
        StoreError: (field `pseudonym_key`) when the register holds erasures and no key is given,
            or they were made with another key: the erased persons could not be recognised.
    """
    kinds = {kid: int(n) for kid, n in session.execute(select(Erasure.key_id, func.count()).group_by(Erasure.key_id))}
    total = int(sum(kinds.values()))
    if not total:
        return 0
    restore = (
        "restore the key they were made with (JOBMATCH_PSEUDONYM_KEY or the key file, JOBMATCH_PSEUDONYM_KEY_FILE), "
        "or erased persons would come back"
    )
    if key is None:
        raise StoreError(
            f"the erasure register holds {total} erased person(s) but no pseudonym key is set: {restore}",
            field="pseudonym_key",
        )
    other = sorted(set(kinds) - {key_id(key)})
    if other:
        raise StoreError(
            f"the erasure register was written with pseudonym key {', '.join(other)}, but the key in use is "
            f"{key_id(key)}: {restore}",
            field="pseudonym_key",
        )
    return total


def has_erasures(session: Session) -> bool:
    """Whether the erasure register holds anyone (loads need the pseudonym key only then)."""
    return session.scalar(select(Erasure.id).limit(1)) is not None


def erased_among(session: Session, candidate_ids: Iterable[str], key: bytes | None) -> set[str]:
    """Which of `candidate_ids` belong to erased persons (their keyed hash is in the register).

    Raises:
        StoreError: (field `pseudonym_key`) when the register holds erasures made with another
            key, or no key is given: better to load nothing than to bring erased persons back.
    """
    if not _register_key_check(session, key):
        return set()
    assert key is not None  # checked above
    hashes = set(session.scalars(select(Erasure.subject_hash)))
    return {str(cid) for cid in candidate_ids if subject_hash(str(cid), key) in hashes}


def is_erased(session: Session, candidate_id: str, key: bytes | None) -> bool:
    """Whether the person was erased (see `erased_among`)."""
    return bool(erased_among(session, [candidate_id], key))


def erase_person(
    session: Session,
    candidate_id: str,
    key: bytes,
    by: str,
    role: str,
    reason: str,
    at: dt.datetime | None = None,
) -> ErasureReport:
    """Erase a person's personal data (the right to erasure), in the caller's transaction.

    Deleted: the contract records (`candidates` with the display name, their `outcomes`, their
    `audit` row with age band and gender), their presentations to workplaces, every shortlist
    made for them with its items (feature values, explanations, details), the decisions and
    answers on those items, inclusion plans with every revision and approval, placements with
    their events and follow-ups (their free-text notes included).
    Nothing of these is kept in another form: see `serving.api.rights` for why.

    The change log keeps no trace of the id either: the person's earlier changes are deleted and
    the erasure is logged under the pseudonym (every worker then reads the persons again).

    Kept: audit entries (who did what, when), with the person's id replaced by `pseudonym` and
    the detail of entries about them cut down to `ERASED_DETAIL_KEYS`; entries about other
    subjects that name the person get the pseudonym in place of the id. Added: a register entry
    (keyed hash of the id, key fingerprint, who, when, why) and an audit entry for the erasure.

    Args:
        session: the transaction to write in.
        candidate_id: the person.
        key: the pseudonym key (`Settings.pseudonym_secret`).
        by: who erased (the data-protection officer's identity).
        role: their role.
        reason: why (e.g. "request from the person, 2026-12-01"): kept in the register, so it
            must not hold personal data itself.
        at: when; now (UTC) by default.

    Returns:
        What was done.

    Raises:
        NotFoundError: for a person the store does not hold.
        StoreError: naming the field, for an empty or over-long reason or `by`, a person already
            erased (field `candidate_id`), or a key other than the register's (`pseudonym_key`).
    """
    by = required_text(by, "by")
    role = required_text(role, "role")
    reason = required_text(reason, "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise StoreError(f"must be at most {MAX_REASON_LENGTH} characters", field="reason")
    when = aware(at, "at")
    _register_key_check(session, key)
    digest = subject_hash(candidate_id, key)
    earlier = session.scalar(select(Erasure).where(Erasure.subject_hash == digest))
    if earlier is not None:
        raise StoreError(
            f"this person was already erased on {earlier.erased_at.date().isoformat()}", field="candidate_id"
        )
    # the person's row first, locked: on PostgreSQL no new shortlist can reference them meanwhile
    if session.get(Candidate, candidate_id, with_for_update=True) is None:
        raise NotFoundError(f"unknown candidate {candidate_id!r}", field="candidate_id")
    ids = _owned_ids(session, candidate_id)
    deleted: dict[str, int] = {}

    def remove(model: type[Base], condition: Any) -> None:
        result = session.execute(delete(model).where(condition).execution_options(synchronize_session="fetch"))
        deleted[model.__tablename__] = deleted.get(model.__tablename__, 0) + int(getattr(result, "rowcount", 0) or 0)

    remove(Followup, Followup.placement_id.in_(ids["placements"]))
    remove(PlacementEvent, PlacementEvent.placement_id.in_(ids["placements"]))
    remove(Placement, Placement.id.in_(ids["placements"]))
    remove(PlanApproval, PlanApproval.plan_id.in_(ids["plans"]))
    remove(PlanRevision, PlanRevision.plan_id.in_(ids["plans"]))
    remove(InclusionPlan, InclusionPlan.id.in_(ids["plans"]))
    remove(Decision, Decision.shortlist_item_id.in_(ids["items"]))
    remove(PersonAnswer, PersonAnswer.shortlist_item_id.in_(ids["items"]))
    remove(ShortlistItem, ShortlistItem.id.in_(ids["items"]))
    remove(Shortlist, Shortlist.id.in_(ids["shortlists"]))
    remove(Presentation, Presentation.candidate_id == candidate_id)
    remove(Outcome, Outcome.candidate_id == candidate_id)
    remove(Audit, Audit.candidate_id == candidate_id)
    remove(Candidate, Candidate.candidate_id == candidate_id)

    alias = PSEUDONYM_PREFIX + digest
    pattern = _id_pattern(candidate_id)
    entries = _audit_about(session, candidate_id, lock=True)
    for entry in entries:
        if entry.subject_id == candidate_id:
            entry.subject_id = alias
            kept = {k: v for k, v in (entry.detail or {}).items() if k in ERASED_DETAIL_KEYS}
            entry.detail = _replace_id(kept, pattern, alias) if kept else None
        else:
            entry.detail = _replace_id(entry.detail, pattern, alias)
    forget_record(session, "candidates", candidate_id, alias, at=when)
    erasure = Erasure(subject_hash=digest, key_id=key_id(key), erased_at=when, erased_by=by, reason=reason)
    session.add(erasure)
    session.flush()
    deleted = {name: n for name, n in deleted.items() if n}
    record_audit(
        session,
        by,
        role,
        "erase_person",
        "candidate",
        alias,
        {"erasure_id": erasure.id, "rows_deleted": sum(deleted.values()), "audit_pseudonymised": len(entries)},
        at=when,
    )
    return ErasureReport(
        erasure_id=erasure.id,
        pseudonym=alias,
        erased_at=when,
        deleted=deleted,
        audit_pseudonymised=len(entries),
    )
