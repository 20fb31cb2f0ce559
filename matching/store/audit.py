"""The audit trail: who did what to which record, and when. Record an entry (its detail holds
identifiers and counts, never personal fields; `AuditBatcher` commits the entries of many reads
together), query the trail, read the latest entry of given
actions, and purge old entries under the retention period (keeping the standing state of the
scoring switch)."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from matching.settings import MIN_AUDIT_RETENTION_DAYS
from matching.store.base import table_of
from matching.store.db import Landing, add_rider, session_scope
from matching.store.errors import StoreError
from matching.store.models import AuditEvent
from matching.store.values import aware, plain_json, required_text

PERSONAL_PREFIXES = ("needs_", "skill_", "tolerance_", "interest_")
PERSONAL_NAMES = frozenset({"lat", "lon", "preferred_occupations", "age_band", "gender"})


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit trail."""

    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] | None


# one statement each, built once: an entry goes with nearly every request
_ENTRIES = table_of(AuditEvent)
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)  # Core: no ORM bookkeeping
_INSERT_ENTRIES = insert(_ENTRIES)  # a batch: executemany


def _audit_record(row: AuditEvent) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        detail=copy.deepcopy(row.detail),
    )


def _personal_key(value: Any, path: str) -> str | None:
    """The path of the first key in `value` (at any depth) that names a personal field, or None."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            name = str(key)
            here = f"{path}.{name}"
            if name.lower().startswith(PERSONAL_PREFIXES) or name.lower() in PERSONAL_NAMES:
                return here
            found = _personal_key(inner, here)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            found = _personal_key(inner, f"{path}[{i}]")
            if found:
                return found
    return None


def record_audit(
    session: Session,
    actor: str,
    role: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Add an entry to the audit trail: who (`actor`, `role`) did what (`action`) to which record.

    `detail` is for identifiers and counts, never personal data: a key (at any depth) starting
    with needs_, skill_, tolerance_ or interest_, or named lat, lon, preferred_occupations,
    age_band or gender is refused.

    Returns:
        The entry's id.

    Raises:
        StoreError: naming the field, for an empty actor, role, action or subject, or a personal
            key in `detail` (the message names the key, never its value).
    """
    row = audit_row(actor, role, action, subject_type, subject_id, detail, at)
    return int(session.execute(_INSERT_ENTRY, row).scalar_one())


def audit_row(
    actor: str,
    role: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """An audit entry's column values, checked as `record_audit` checks them (raises the same)."""
    actor = required_text(actor, "actor")
    role = required_text(role, "role")
    action = required_text(action, "action")
    subject_type = required_text(subject_type, "subject_type")
    subject = required_text(str(subject_id) if subject_id is not None else None, "subject_id")
    data: dict[str, Any] | None = None
    if detail is not None:
        if not isinstance(detail, Mapping):
            raise StoreError(f"must be a mapping or None, not {type(detail).__name__}", field="detail")
        found = _personal_key(detail, "detail")
        if found:
            raise StoreError(f"{found} is a personal field; the audit trail must not hold it", field="detail")
        data = plain_json(dict(detail), "detail")
    return {
        "at": aware(at, "at"),
        "actor": actor,
        "role": role,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject,
        "detail": data,
    }


@dataclass
class _Pending:
    row: dict[str, Any]
    wake: threading.Event = field(default_factory=threading.Event)  # done, or appointed to commit
    done: bool = False  # its transaction is durable (error None) or failed (error set)
    appointed: bool = False
    error: BaseException | None = None


class AuditBatcher:
    """Group commit of audit entries that need nothing else written with them (a read's entry):
    each caller returns only once the transaction holding its entry is committed (durably:
    `session_scope`), or raises its error. Without a batcher each read would take a write
    transaction of its own, and on SQLite all writers take turns.

    On SQLite the entries ride along with the writers of this process (`add_rider`): the writer
    holding the write lock inserts the entries waiting at the end of its transaction, so under
    load a read's entry goes with the next commit, not a turn of its own. Otherwise, and when no
    writer comes first, a leader commits them: the first caller to find no leader waits for the
    write lock (ahead of other writers, `first`) and commits the entries waiting by then, then
    appoints the first caller still waiting, if any, to lead the next batch. No thread of its own."""

    def __init__(self, engine: Engine, max_batch: int = 500) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._led = False  # a caller leads (or is appointed to lead) the next batch
        add_rider(engine, self._ride)

    def record(
        self,
        actor: str,
        role: str,
        action: str,
        subject_type: str,
        subject_id: str | int,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Add an entry (checked now, like `record_audit`); returns once it is committed."""
        pending = _Pending(audit_row(actor, role, action, subject_type, subject_id, detail))
        with self._lock:
            self._queue.append(pending)
            lead, self._led = not self._led, True
        while True:
            if lead:
                self._lead()
            pending.wake.wait()
            with self._lock:
                if pending.done:
                    if pending.appointed:  # carried by a writer meanwhile: the lead goes on
                        pending.appointed = False
                        self._appoint()
                    break
                lead, pending.appointed = pending.appointed, False
                pending.wake.clear()
        if pending.error is not None:
            raise pending.error

    def _take(self) -> list[_Pending]:
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        return batch

    def _lead(self) -> None:
        """Commit the entries waiting once the write lock is this caller's (a writer may have
        taken them along meanwhile: then nothing is written), then hand the lead on."""
        batch: list[_Pending] = []
        error: BaseException | None = None
        try:
            with session_scope(self.engine, first=True) as session:  # reads wait on it: before other writers
                batch = self._take()
                if batch:
                    session.execute(_INSERT_ENTRIES, [p.row for p in batch])
        except BaseException as failure:  # every caller of the batch gets it
            error = failure
        self._land(batch, error)
        with self._lock:
            self._appoint()

    def _appoint(self) -> None:
        """(Holding `_lock`.) The first entry waiting leads the next batch; none: no one leads."""
        self._led = bool(self._queue)
        if self._queue:
            following = self._queue[0]
            following.appointed = True
            following.wake.set()

    def _ride(self, session: Session) -> Landing | None:
        """The rider (`add_rider`): the entries waiting, inserted in a writer's transaction."""
        batch = self._take()
        if not batch:
            return None
        try:
            session.execute(_INSERT_ENTRIES, [p.row for p in batch])
        except BaseException:  # back in line for a leader, who commits them or tells their callers why not
            with self._lock:
                self._queue[:0] = batch
                if not self._led:
                    self._appoint()
            raise
        return lambda error: self._land(batch, error)

    def _land(self, batch: list[_Pending], error: BaseException | None) -> None:
        with self._lock:
            for p in batch:
                p.error, p.done = error, True
                p.wake.set()


def query_audit(
    session: Session,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 1000,
) -> list[AuditRecord]:
    """Entries of the audit trail, oldest first, filtered by whichever arguments are given.

    Args:
        session: the transaction to read in.
        subject_type: e.g. "candidate", "shortlist", "plan", "placement".
        subject_id: the record's id.
        actor: who did it.
        since: entries at or after this time.
        until: entries before this time.
        limit: at most this many entries (the oldest); page on with `since`.

    Raises:
        StoreError: naming the field, for a naive time or a limit below 1.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise StoreError(f"must be a whole number >= 1, not {limit!r}", field="limit")
    statement = select(AuditEvent)
    if subject_type is not None:
        statement = statement.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        statement = statement.where(AuditEvent.subject_id == str(subject_id))
    if actor is not None:
        statement = statement.where(AuditEvent.actor == actor)
    if since is not None:
        statement = statement.where(AuditEvent.at >= aware(since, "since"))
    if until is not None:
        statement = statement.where(AuditEvent.at < aware(until, "until"))
    rows = session.scalars(statement.order_by(AuditEvent.at, AuditEvent.id).limit(limit))
    return [_audit_record(row) for row in rows]


def latest_audit_entry(
    session: Session,
    actions: Iterable[str],
    subject_type: str | None = None,
    subject_id: str | int | None = None,
) -> AuditRecord | None:
    """The latest entry (by time, then the order recorded) of any of `actions`, about the given
    subject when one is given; None when the trail holds no such entry.

    Args:
        session: the transaction to read in.
        actions: the actions that count (e.g. the scoring switch's two actions).
        subject_type: e.g. "service"; None for any.
        subject_id: the record's id; None for any.
    """
    statement = select(AuditEvent).where(AuditEvent.action.in_(tuple(actions)))
    if subject_type is not None:
        statement = statement.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        statement = statement.where(AuditEvent.subject_id == str(subject_id))
    row = session.scalars(statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
    return None if row is None else _audit_record(row)


def purge_audit(session: Session, older_than: dt.datetime) -> int:
    """Delete the audit entries from before `older_than` (retention).

    Returns:
        How many entries were deleted.

    Raises:
        StoreError: for a naive time (field `older_than`).
    """
    cutoff = aware(older_than, "older_than") if older_than is not None else None
    if cutoff is None:
        raise StoreError("a time is required", field="older_than")
    result = session.execute(
        delete(AuditEvent).where(_purgeable(session, cutoff)).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Subjects whose latest audit entry is standing state, not only history: the scoring switch (the
# model switched off by a person stays off until a person switches it on). Purges keep that entry.
STANDING_SUBJECTS: tuple[tuple[str, str], ...] = (("service", "scoring"),)


def _purgeable(session: Session, cutoff: dt.datetime) -> Any:
    """Entries from before `cutoff`, except the latest entry of each standing subject."""
    keep = []
    for subject_type, subject_id in STANDING_SUBJECTS:
        latest = session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
        )
        if latest is not None:
            keep.append(latest)
    condition = AuditEvent.at < cutoff
    return condition & AuditEvent.id.not_in(keep) if keep else condition


@dataclass(frozen=True)
class RetentionReport:
    """What an audit purge did (or, in a dry run, would do)."""

    cutoff: dt.datetime
    retention_days: int
    entries: int
    dry_run: bool


def count_audit_before(session: Session, older_than: dt.datetime) -> int:
    """How many audit entries are from before `older_than`."""
    cutoff = aware(older_than, "older_than")
    return int(session.scalar(select(func.count()).select_from(AuditEvent).where(_purgeable(session, cutoff))) or 0)


def apply_audit_retention(
    session: Session,
    retention_days: int,
    actor: str,
    role: str,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    allow_short: bool = False,
) -> RetentionReport:
    """Delete the audit entries older than `retention_days` and record one entry saying so.

    A dry run only counts them and records nothing.

    Args:
        session: the transaction to write in.
        retention_days: how long entries are kept; at least `MIN_AUDIT_RETENTION_DAYS` (six
            months) unless `allow_short`.
        actor: who purges (recorded in the purge's own entry).
        role: their role.
        now: the time the period is counted back from; now (UTC) by default.
        dry_run: count, delete nothing.
        allow_short: accept a period under six months.

    Raises:
        StoreError: naming the field, for a period under one day, or under six months without
            `allow_short`, an empty actor or role, or a naive time.
    """
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
        raise StoreError(f"must be a whole number of days >= 1, not {retention_days!r}", field="retention_days")
    if retention_days < MIN_AUDIT_RETENTION_DAYS and not allow_short:
        raise StoreError(
            f"{retention_days} days is shorter than the minimum of {MIN_AUDIT_RETENTION_DAYS} (six months)",
            field="retention_days",
        )
    actor = required_text(actor, "actor")
    role = required_text(role, "role")
    when = aware(now, "now")
    cutoff = when - dt.timedelta(days=retention_days)
    if dry_run:
        return RetentionReport(cutoff, retention_days, count_audit_before(session, cutoff), True)
    entries = purge_audit(session, cutoff)
    record_audit(
        session,
        actor,
        role,
        "purge_audit",
        "audit_trail",
        "all",
        {"deleted": entries, "cutoff": cutoff.isoformat(), "retention_days": retention_days},
        at=when,
    )
    return RetentionReport(cutoff, retention_days, entries, False)
