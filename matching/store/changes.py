"""The change log of served records: which person or workplace changed, by what and when, so every
API worker sees a live edit without a restart.

Whoever writes a `candidates` or `workplaces` row records it here in the same transaction (a load
and the API through `contract.upsert_table`, a slot taken or given back, a display name, an
erasure). A worker remembers the newest change id it has applied; on each request
`latest_change` (one indexed read) tells it whether anything changed, and `changes_since` which
records to read again (`contract.served_records`).

Change ids only grow, and are committed in their order: on PostgreSQL a writer takes the log's
lock until it commits, so no worker can see change 10 before change 9 and skip it (readers are not
blocked); SQLite's writers are serial anyway, and its ids are never reused. So record changes at
the end of a transaction, after the records' own row locks.

An erasure leaves no id behind: the person's earlier changes are deleted and the erasure is
logged under their pseudonym, which makes every worker read the whole `candidates` table again
(`ChangeSet.reload`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from matching.store.errors import StoreError
from matching.store.models import CHANGE_TABLES, RecordChange
from matching.store.values import aware, required_text

ERASURE_SOURCE = "erasure"


def _table(table: str) -> str:
    if table not in CHANGE_TABLES:
        raise StoreError(f"must be one of {', '.join(CHANGE_TABLES)}, not {table!r}", field="table")
    return table


def record_changes(session: Session, table: str, ids: Iterable[str], source: str, at: dt.datetime | None = None) -> int:
    """Log a change of each of `ids` (one row each, in the caller's transaction).

    Args:
        session: the transaction that changed the records.
        table: `candidates` or `workplaces`.
        ids: the changed records' ids (a person's or a workplace's id); none logs nothing.
        source: what changed them, e.g. `api`, `load`, `slot`, `erasure`.
        at: when; now (UTC) by default.

    Returns:
        The newest change id afterwards (`latest_change`).

    Raises:
        StoreError: naming the field, for another table or an empty source or id.
    """
    table = _table(table)
    source = required_text(source, "source")
    when = aware(at, "at")
    rows = [
        {"table_name": table, "record_id": required_text(str(i), "ids"), "source": source, "changed_at": when}
        for i in ids
    ]
    if rows:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE record_changes IN EXCLUSIVE MODE"))
        session.execute(insert(RecordChange), rows)
    return latest_change(session)


def latest_change(session: Session) -> int:
    """The newest change id, 0 when nothing was logged: one read of the primary key's index."""
    return int(session.scalar(select(func.max(RecordChange.id))) or 0)


@dataclass(frozen=True)
class ChangeSet:
    """The changes after a worker's last one.

    Attributes:
        latest: the newest change id (the worker's next `after_id`).
        changed: per table (`candidates`, `workplaces`), the ids of the records that changed:
            read them again with `contract.served_records`; an id it no longer returns is gone.
        reload: the tables to read whole again (an erasure, whose id is not logged, or a log
            older than the worker's copy: the database was replaced).
    """

    latest: int
    changed: dict[str, frozenset[str]] = field(default_factory=dict)
    reload: frozenset[str] = frozenset()

    def ids(self, table: str) -> frozenset[str]:
        """The changed ids of one table (empty when none changed)."""
        return self.changed.get(_table(table), frozenset())

    @property
    def empty(self) -> bool:
        """Whether nothing changed."""
        return not self.reload and not any(self.changed.values())


def changes_since(session: Session, after_id: int) -> ChangeSet:
    """What changed after change `after_id` (0 for everything logged).

    When the newest id is below `after_id` (the store was replaced by another one), every table
    is to be read again (`ChangeSet.reload`).
    """
    latest = latest_change(session)
    if latest < after_id:
        return ChangeSet(
            latest=latest, changed={t: frozenset() for t in CHANGE_TABLES}, reload=frozenset(CHANGE_TABLES)
        )
    changed: dict[str, set[str]] = {t: set() for t in CHANGE_TABLES}
    reload: set[str] = set()
    rows = session.execute(
        select(RecordChange.table_name, RecordChange.record_id, RecordChange.source)
        .where(RecordChange.id > after_id, RecordChange.id <= latest)
        .distinct()
    )
    for table, record_id, source in rows:
        if source == ERASURE_SOURCE:
            reload.add(table)
        else:
            changed[table].add(record_id)
    return ChangeSet(latest=latest, changed={t: frozenset(ids) for t, ids in changed.items()}, reload=frozenset(reload))


def forget_record(session: Session, table: str, record_id: str, alias: str, at: dt.datetime | None = None) -> int:
    """Delete every logged change of a record and log its erasure under `alias` (its pseudonym).

    Returns:
        How many earlier changes were deleted.
    """
    table = _table(table)
    result = session.execute(
        delete(RecordChange).where(RecordChange.table_name == table, RecordChange.record_id == record_id)
    )
    record_changes(session, table, [alias], ERASURE_SOURCE, at=at)
    return int(getattr(result, "rowcount", 0) or 0)
