"""An inclusion plan's life after the draft: every revision (a full draft, who changed it and when)
and the approvals of the three parties, each given to one revision. A new revision needs approval
again; the plan is agreed only when the person, the employer and the adviser all approved the
latest revision. `revise` and `approve` return new plans, so the history is never lost."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from matching.frozen import Frozen
from matching.inclusion import FIXED_FIELDS, Party, PlanDraft, PlanError, StaleRevisionError


class Revision(Frozen):
    """One version of a plan: the full draft, who made it and when (revision 1 is the opening draft)."""

    number: int = Field(ge=1)
    draft: PlanDraft
    by: str
    at: datetime
    note: str = ""


class Approval(Frozen):
    """One party's approval of one revision."""

    party: Party
    by: str
    at: datetime
    revision: int


class Plan(Frozen):
    """An inclusion plan with every revision and every approval ever given (oldest first)."""

    revisions: tuple[Revision, ...] = Field(min_length=1)
    approvals: tuple[Approval, ...] = ()

    @property
    def current(self) -> Revision:
        """The latest revision."""
        return self.revisions[-1]

    @property
    def draft(self) -> PlanDraft:
        """The latest revision's draft: what the plan says now."""
        return self.revisions[-1].draft

    @property
    def revision(self) -> int:
        """The latest revision's number."""
        return self.revisions[-1].number

    @property
    def current_approvals(self) -> tuple[Approval, ...]:
        """The approvals of the latest revision (older revisions' approvals no longer count)."""
        return tuple(a for a in self.approvals if a.revision == self.revision)

    @property
    def approved_by(self) -> frozenset[Party]:
        """The parties who approved the latest revision."""
        return frozenset(a.party for a in self.current_approvals)

    @property
    def pending(self) -> tuple[Party, ...]:
        """The parties whose approval of the latest revision is still missing."""
        return tuple(p for p in Party if p not in self.approved_by)

    @property
    def is_agreed(self) -> bool:
        """Whether the person, the employer and the adviser all approved the latest revision."""
        return not self.pending


def _check_actor(by: str, at: datetime, after: datetime | None) -> None:
    if not isinstance(by, str) or not by.strip():
        raise PlanError.of("by", "must name who acts")
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise PlanError.of("at", f"must be a timezone-aware datetime, got {at!r}")
    if after is not None and at < after:
        raise PlanError.of("at", f"{at.isoformat()} is before the plan's latest change ({after.isoformat()})")


def open_plan(draft: PlanDraft, by: str, at: datetime, note: str = "") -> Plan:
    """Open a plan with `draft` as revision 1, approved by nobody yet.

    Args:
        draft: the first draft (usually from `draft_plan`).
        by: who opened it.
        at: when (timezone-aware).
        note: an optional note on the revision.

    Returns:
        The plan.

    Raises:
        PlanError: `by` or `at` is invalid.
    """
    _check_actor(by, at, None)
    return Plan(revisions=(Revision(number=1, draft=draft, by=by, at=at, note=note),))


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            raise PlanError.of(path, f"unknown field {'.'.join(parts[: depth + 1])!r}")
        node = child
    if parts[-1] not in node:
        raise PlanError.of(path, "unknown field")
    node[parts[-1]] = value


def revise(plan: Plan, changes: Mapping[str, Any], by: str, at: datetime, note: str = "") -> Plan:
    """A new revision of the plan with `changes` applied; it needs everyone's approval again.

    Args:
        plan: the plan.
        changes: new values by field name; a dotted name changes one field of a part
            ("tutor_name", "hours_per_week", "workplace.adaptations", "support_system.needs_outside_work").
            The candidate, workplace, employer and contact person are fixed; the follow-up schedule
            follows from the dates, `first_contact_days` and `followup_interval_days`.
        by: who made the change.
        at: when (timezone-aware, not before the latest revision).
        note: an optional note on why.

    Returns:
        A new plan with the revision added; earlier revisions and approvals are kept.

    Raises:
        PlanError: an unknown or fixed field, an invalid value (naming the field), or no change at all.
    """
    _check_actor(by, at, plan.current.at)
    if not changes:
        raise PlanError.of("changes", "no change given")
    current = plan.draft
    data = current.stored()
    derived = set(PlanDraft.model_computed_fields)
    for field, value in changes.items():
        top = field.split(".")[0]
        if top in FIXED_FIELDS:
            raise PlanError.of(field, "fixed for the life of the plan; open a new plan instead")
        if top in derived:
            raise PlanError.of(field, "derived from the plan's other fields; change those instead")
        _set_path(data, field, value)
    if "purpose" in changes and "purpose_reason" not in changes and str(changes["purpose"]) != current.purpose.value:
        data["purpose_reason"] = f"set by {by} in revision {plan.revision + 1}"
    draft = PlanDraft(**data)
    if draft == current:
        raise PlanError.of("changes", "the revision changes nothing")
    revision = Revision(number=plan.revision + 1, draft=draft, by=by, at=at, note=note)
    return plan.model_copy(update={"revisions": (*plan.revisions, revision)})


def approve(plan: Plan, party: Party | str, by: str, at: datetime, revision: int) -> Plan:
    """Record one party's approval of the plan's latest revision.

    Approving again for the same party and revision changes nothing (the first approval stands).

    Args:
        plan: the plan.
        party: person, employer or adviser.
        by: who approves on the party's behalf.
        at: when (timezone-aware, not before the latest revision).
        revision: the revision approved; it must be the latest one.

    Returns:
        A new plan with the approval added.

    Raises:
        StaleRevisionError: `revision` is not the latest (the error names the current one).
        PlanError: an unknown party, or `by` or `at` is invalid.
    """
    try:
        chosen = Party(party)
    except ValueError:
        allowed = ", ".join(p.value for p in Party)
        raise PlanError.of("party", f"unknown party {party!r} (one of {allowed})") from None
    if revision != plan.revision:
        raise StaleRevisionError(revision, plan.revision)
    _check_actor(by, at, plan.current.at)
    if chosen in plan.approved_by:
        return plan
    approval = Approval(party=chosen, by=by, at=at, revision=revision)
    return plan.model_copy(update={"approvals": (*plan.approvals, approval)})
