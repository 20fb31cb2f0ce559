"""Inclusion plans: open the plan of an accepted suggestion, store each revision of its draft
(revisions are append-only and kept whole), record each party's approval of the current revision,
and read a plan with its history. The rules of a plan (what a draft holds) belong to
`matching.inclusion`; the store keeps what it is given and checks only its own invariants. A
function that reads a row and then writes depending on it locks that row first."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from matching.review import PLAN_PARTIES
from matching.store.base import table_of
from matching.store.decisions import current_decision
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import InclusionPlan, PlanApproval, PlanRevision, Shortlist, ShortlistItem
from matching.store.values import aware, plain_json, required_text

# read or written with review requests: built once, on the tables (Core: no ORM bookkeeping,
# which made opening a plan inside the writing transaction cost 3 ms)
_PLANS_TABLE, _ITEMS, _SHORTLISTS = table_of(InclusionPlan), table_of(ShortlistItem), table_of(Shortlist)
_PLANS = _PLANS_TABLE.c
_PLANS_OF_ITEMS = select(_PLANS.shortlist_item_id, _PLANS.id).where(
    _PLANS.shortlist_item_id.in_(bindparam("item_ids", expanding=True))
)
_PLAN_OF_ITEM = select(_PLANS.id).where(_PLANS.shortlist_item_id == bindparam("item_id"))
_ITEM_TO_PLAN = (  # the suggestion's row locked (on PostgreSQL) with whom and what it suggested
    select(_ITEMS.c.id, _ITEMS.c.workplace_id, _SHORTLISTS.c.candidate_id)
    .join_from(_ITEMS, _SHORTLISTS, _SHORTLISTS.c.id == _ITEMS.c.shortlist_id)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .with_for_update(of=_ITEMS)
)
_INSERT_PLAN = insert(_PLANS_TABLE).returning(_PLANS.id)
_INSERT_REVISION = insert(table_of(PlanRevision))


def require_plan(session: Session, plan_id: int, lock: bool = False) -> InclusionPlan:
    plan = session.get(InclusionPlan, plan_id, with_for_update=True if lock else None)
    if plan is None:
        raise NotFoundError(f"unknown plan {plan_id!r}", field="plan_id")
    return plan


def _draft(body: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise StoreError(f"must be a mapping (the whole plan draft), not {type(body).__name__}", field="body")
    draft: dict[str, Any] = plain_json(dict(body), "body")
    return draft


def _latest_revision(session: Session, plan_id: int) -> int:
    latest = session.scalar(select(func.max(PlanRevision.number)).where(PlanRevision.plan_id == plan_id))
    return int(latest or 0)


def plan_for_item(session: Session, shortlist_item_id: int) -> int | None:
    """The id of the plan opened for a suggestion, or None when it has none."""
    return session.scalar(_PLAN_OF_ITEM, {"item_id": shortlist_item_id})


def plans_for_items(session: Session, shortlist_item_ids: Collection[int]) -> dict[int, int]:
    """`plan_for_item` of many suggestions in one query: item id -> plan id, for those with a plan."""
    rows = session.execute(_PLANS_OF_ITEMS, {"item_ids": list(shortlist_item_ids)})
    return {int(item_id): int(plan_id) for item_id, plan_id in rows}


def create_plan(
    session: Session,
    candidate_id: str,
    workplace_id: str,
    shortlist_item_id: int,
    body: Mapping[str, Any],
    by: str,
    created_at: dt.datetime | None = None,
) -> int:
    """Open the inclusion plan of an accepted suggestion, with `body` as its revision 1.

    Args:
        session: the transaction to write in.
        candidate_id: the candidate (must be the one the suggestion was made for).
        workplace_id: the workplace (must be the suggested one).
        shortlist_item_id: the accepted suggestion; a suggestion has at most one plan.
        body: the whole plan draft, stored as given (JSON).
        by: who drafted it.
        created_at: when; now (UTC) by default.

    Returns:
        The plan's id.

    Raises:
        NotFoundError: for an unknown shortlist item.
        StoreError: naming the field, when the item is for another candidate or workplace, its
            current decision is not an acceptance, it already has a plan, or the body is not JSON.
    """
    by = required_text(by, "by")
    draft = _draft(body)
    at = aware(created_at, "created_at")
    item = session.execute(_ITEM_TO_PLAN, {"item_id": shortlist_item_id}).first()
    if item is None:
        raise NotFoundError(f"unknown shortlist item {shortlist_item_id!r}", field="shortlist_item_id")
    suggested_to = item.candidate_id
    if suggested_to != candidate_id:
        raise StoreError(
            f"shortlist item {item.id} was suggested to {suggested_to!r}, not {candidate_id!r}", field="candidate_id"
        )
    if item.workplace_id != workplace_id:
        raise StoreError(
            f"shortlist item {item.id} suggests {item.workplace_id!r}, not {workplace_id!r}", field="workplace_id"
        )
    decision = current_decision(session, item.id)
    if decision is None or decision.decision != "accept":
        state = "undecided" if decision is None else "rejected"
        raise StoreError(f"a plan needs an accepted suggestion; item {item.id} is {state}", field="shortlist_item_id")
    existing = plan_for_item(session, item.id)
    if existing is not None:
        raise StoreError(f"shortlist item {item.id} already has plan {existing}", field="shortlist_item_id")
    plan_id = session.scalar(
        _INSERT_PLAN,
        {
            "candidate_id": candidate_id,
            "workplace_id": workplace_id,
            "shortlist_item_id": item.id,
            "created_at": at,
            "created_by": by,
        },
    )
    assert plan_id is not None  # RETURNING gives the new row's id
    session.execute(
        _INSERT_REVISION, {"plan_id": plan_id, "number": 1, "body": draft, "changed_by": by, "changed_at": at}
    )
    return int(plan_id)


def add_plan_revision(
    session: Session,
    plan_id: int,
    body: Mapping[str, Any],
    by: str,
    changed_at: dt.datetime | None = None,
) -> int:
    """Store a new revision of a plan (the whole draft); earlier revisions and their approvals are kept,
    and the new revision needs every party's approval again.

    Returns:
        The new revision's number (2, 3, ...).

    Raises:
        NotFoundError: for an unknown plan.
        StoreError: naming the field, for an empty `by` or a body that is not JSON.
    """
    by = required_text(by, "by")
    draft = _draft(body)
    at = aware(changed_at, "changed_at")
    require_plan(session, plan_id, lock=True)
    number = _latest_revision(session, plan_id) + 1
    session.add(PlanRevision(plan_id=plan_id, number=number, body=draft, changed_by=by, changed_at=at))
    session.flush()
    return number


def approve_plan(
    session: Session,
    plan_id: int,
    revision: int,
    party: str,
    by: str,
    approved_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record one party's approval of the plan's current revision.

    Approving again for the same party and revision changes nothing (the first approval stays).

    Args:
        session: the transaction to write in.
        plan_id: the plan.
        revision: the revision number approved: must be the current (latest) one.
        party: "person", "employer" or "adviser".
        by: who recorded the approval.
        approved_at: when; now (UTC) by default.

    Returns:
        The plan as `get_plan` gives it, after the approval.

    Raises:
        NotFoundError: for an unknown plan.
        StoreError: naming the field, for an unknown party, an empty `by`, or a revision that is
            not the current one (the message names the current revision).
    """
    if party not in PLAN_PARTIES:
        raise StoreError(f"must be one of {', '.join(PLAN_PARTIES)}, not {party!r}", field="party")
    by = required_text(by, "by")
    at = aware(approved_at, "approved_at")
    require_plan(session, plan_id, lock=True)
    current = _latest_revision(session, plan_id)
    if revision != current:
        raise StoreError(
            f"revision {revision!r} is not the current revision of plan {plan_id}; the current revision is {current}",
            field="revision",
        )
    done = session.scalar(
        select(PlanApproval.id).where(
            PlanApproval.plan_id == plan_id, PlanApproval.revision == current, PlanApproval.party == party
        )
    )
    if done is None:
        session.add(PlanApproval(plan_id=plan_id, revision=current, party=party, approved_by=by, approved_at=at))
        session.flush()
    return get_plan(session, plan_id)


def get_plan(session: Session, plan_id: int) -> dict[str, Any]:
    """A plan with its current draft, its whole history and the approvals of its current revision.

    Returns:
        `id`, `candidate_id`, `workplace_id`, `shortlist_item_id`, `created_at`, `created_by`;
        `revision` (the current number) and `body` (its draft); `revisions` (every revision, oldest
        first: `number`, `body`, `changed_by`, `changed_at`); `approvals` of the current revision
        (`party`, `approved_by`, `approved_at`, in the order person, employer, adviser); `awaiting`
        (the parties yet to approve it); `agreed` (all three have approved it).

    Raises:
        NotFoundError: for an unknown plan.
    """
    plan = require_plan(session, plan_id)
    revisions = session.scalars(
        select(PlanRevision).where(PlanRevision.plan_id == plan_id).order_by(PlanRevision.number)
    ).all()
    current = revisions[-1].number if revisions else 0
    rows = session.scalars(
        select(PlanApproval).where(PlanApproval.plan_id == plan_id, PlanApproval.revision == current)
    ).all()
    by_party = {row.party: row for row in rows}
    approvals = [
        {"party": party, "approved_by": by_party[party].approved_by, "approved_at": by_party[party].approved_at}
        for party in PLAN_PARTIES
        if party in by_party
    ]
    awaiting = [party for party in PLAN_PARTIES if party not in by_party]
    return {
        "id": plan.id,
        "candidate_id": plan.candidate_id,
        "workplace_id": plan.workplace_id,
        "shortlist_item_id": plan.shortlist_item_id,
        "created_at": plan.created_at,
        "created_by": plan.created_by,
        "revision": current,
        "body": copy.deepcopy(revisions[-1].body) if revisions else {},
        "revisions": [
            {
                "number": row.number,
                "body": copy.deepcopy(row.body),
                "changed_by": row.changed_by,
                "changed_at": row.changed_at,
            }
            for row in revisions
        ],
        "approvals": approvals,
        "awaiting": awaiting,
        "agreed": bool(revisions) and not awaiting,
    }


def plans_of_workplace(session: Session, workplace_id: str) -> list[int]:
    """The ids of the plans opened for a workplace, oldest first (empty for none or an unknown one)."""
    return list(
        session.scalars(
            select(InclusionPlan.id).where(InclusionPlan.workplace_id == workplace_id).order_by(InclusionPlan.id)
        )
    )


def plans_of_person_at(session: Session, candidate_id: str, workplace_id: str) -> list[int]:
    """The ids of the person's plans at the workplace, oldest first."""
    return list(
        session.scalars(
            select(InclusionPlan.id)
            .where(InclusionPlan.candidate_id == candidate_id, InclusionPlan.workplace_id == workplace_id)
            .order_by(InclusionPlan.id)
        )
    )
