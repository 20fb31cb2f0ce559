"""Where the store stands, in one cheap read per request: the newest entry of the change log of
served records (`matching.store.changes`) and the newest control entry of the audit trail (the
scoring switch and model reloads, subject `service`/`scoring` and `service`/`model`). Each API
worker compares them with what it has applied, so what one worker changed is served by every
worker from its next request on."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select

from matching.store.db import read_only
from matching.store.models import AuditEvent, RecordChange

CONTROL_TYPE = "service"
CONTROL_SUBJECTS = ("scoring", "model")  # the scoring switch; model reloads (loaded or refused)
RELOAD_ACTIONS = ("model_reload", "model_reload_refused")


def _is_control() -> ColumnElement[bool]:
    # equalities, not IN: a literal IN list is expanded anew at every execution
    subjects = or_(*(AuditEvent.subject_id == subject for subject in CONTROL_SUBJECTS))
    return and_(AuditEvent.subject_type == CONTROL_TYPE, subjects)


ControlHead = tuple[int, int]  # (how many control entries, the newest one's id)

_HEADS = select(
    select(func.max(RecordChange.id)).scalar_subquery(),
    select(func.count()).select_from(AuditEvent).where(_is_control()).scalar_subquery(),
    select(func.max(AuditEvent.id)).where(_is_control()).scalar_subquery(),
)


def store_heads(engine: Engine) -> tuple[int, ControlHead]:
    """The newest change id (0 for none) and the control entries' head: one statement of index
    reads, no ORM session. The head counts the entries too: on PostgreSQL an entry can commit
    after one with a higher id was seen, which changes the count though not the newest id."""
    with read_only(engine).connect() as connection:
        change, count, newest = connection.execute(_HEADS).one()
    return int(change or 0), (int(count or 0), int(newest or 0))


def control_head(engine: Engine) -> ControlHead:
    """The control entries' head (see `store_heads`)."""
    return store_heads(engine)[1]
