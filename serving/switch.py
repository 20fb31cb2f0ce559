"""The off switch: the people overseeing the model may switch it off (the transparent rule score
ranks instead) and on again. Each switch is an entry of the store's audit trail (who, when, why);
the latest one is the switch's state, which a restart, another process on the same store and the
batch job (`jobmatch score`) all read here. Loads no FastAPI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy.engine import Engine

from matching.store.audit import latest_audit_entry
from matching.store.db import session_scope

if TYPE_CHECKING:
    from serving.loading import LoadedModel

Mode = Literal["model", "rule"]
SWITCH_SUBJECT = ("service", "scoring")  # audit subject_type, subject_id of the scoring switch
SWITCH_ACTIONS = {"rule": "scoring_off", "model": "scoring_on"}


@dataclass(frozen=True)
class SwitchRecord:
    """The scoring switch as last set: to the model or to the rule, by whom, when and why."""

    mode: Mode
    by: str
    role: str
    at: dt.datetime
    reason: str


def read_switch(engine: Engine) -> SwitchRecord | None:
    """The latest scoring switch in the store's audit trail (None: never switched, the model scores)."""
    subject_type, subject_id = SWITCH_SUBJECT
    with session_scope(engine, readonly=True) as session:
        entry = latest_audit_entry(session, SWITCH_ACTIONS.values(), subject_type, subject_id)
    if entry is None:
        return None
    detail = entry.detail or {}
    mode: Mode = "rule" if entry.action == SWITCH_ACTIONS["rule"] else "model"
    return SwitchRecord(mode, entry.actor, entry.role, entry.at, str(detail.get("reason", "")))


def same_switch(a: SwitchRecord | None, b: SwitchRecord | None) -> bool:
    """The same switch (times compared to the millisecond: the store may round them)."""
    if a is None or b is None:
        return a is b
    return (a.mode, a.by, a.reason) == (b.mode, b.by, b.reason) and abs((a.at - b.at).total_seconds()) < 1e-3


def rule_note(switch: SwitchRecord | None, model: LoadedModel | None) -> str:
    """The sentence a rule-scored response carries."""
    what = f"the model {model.name} version {model.version}" if model is not None else "the model"
    when = f" on {switch.at.strftime('%Y-%m-%d %H:%M')} UTC by {switch.by}" if switch is not None else ""
    return (
        f"{what} is switched off{when}: ranked by the transparent rule score, a fixed weighted sum of the "
        "features (each reason's contribution is its weight times its value); no congestion penalty, as "
        "the rule score is not a probability; the adviser decides"
    )
