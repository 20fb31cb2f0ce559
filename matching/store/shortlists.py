"""Shortlists as they were served: store one with its items (feature values, explanation and the
served item's other keys), read it back unchanged, and the reads around it: a person's latest
shortlist, the recent shortlists of a caseload, the shortlist of an item, and which workplaces are
live suggestions for whom (for congestion). Every function works inside the caller's transaction
(`session_scope`); it flushes but never commits."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from matching.store.base import table_of
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Candidate, Decision, Shortlist, ShortlistItem, Workplace
from matching.store.values import aware, plain_json, required_text

# Keys of a served item with a column of their own; any other key is kept in `details`.
ITEM_COLUMNS = ("rank", "workplace_id", "score", "explanation", "features")
# the statements of recording a shortlist, built once (their parameters are given per call)
# (Core, on the tables: no ORM bookkeeping)
_CANDIDATES, _WORKPLACES = table_of(Candidate).c, table_of(Workplace).c
_SHORTLISTS, _ITEMS = table_of(Shortlist), table_of(ShortlistItem)
_CANDIDATE_KEY = select(_CANDIDATES.candidate_id).where(_CANDIDATES.candidate_id == bindparam("candidate_id"))
_KNOWN_WORKPLACES = select(_WORKPLACES.workplace_id).where(
    _WORKPLACES.workplace_id.in_(bindparam("wanted", expanding=True))
)
_INSERT_SHORTLIST = insert(_SHORTLISTS).returning(_SHORTLISTS.c.id)
_INSERT_ITEMS = insert(_ITEMS)  # executemany
_ITEM_KEY = select(_ITEMS.c.id).where(_ITEMS.c.id == bindparam("item_id"))
_LOCK_SHORTLIST = select(_SHORTLISTS.c.id).where(_SHORTLISTS.c.id == bindparam("shortlist_id")).with_for_update()
_HEAD_COLUMNS = ("id", "candidate_id", "requested_by", "created_at", "model_name", "model_version", "top_k", "filtered")
_SHORTLIST_HEAD = select(*(_SHORTLISTS.c[name] for name in _HEAD_COLUMNS)).where(
    _SHORTLISTS.c.id == bindparam("shortlist_id")
)
_SHORTLIST_ITEMS = (
    select(*(_ITEMS.c[name] for name in ("id", "rank", "workplace_id", "details", "score", "explanation", "features")))
    .where(_ITEMS.c.shortlist_id == bindparam("shortlist_id"))
    .order_by(_ITEMS.c.rank)
)


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
    filtered: dict[str, Any] | None = None

    def item_id(self, rank: int) -> int:
        """The row id of the item at `rank` (1-based).

        Raises:
            NotFoundError: when the shortlist has no item at that rank.
        """
        for item, item_id in zip(self.items, self.item_ids, strict=True):
            if item["rank"] == rank:
                return item_id
        raise NotFoundError(f"shortlist {self.id} has no item at rank {rank}", field="rank")


def save_shortlist(
    session: Session,
    candidate_id: str,
    requested_by: str,
    model_name: str,
    model_version: str,
    top_k: int,
    items: Sequence[Mapping[str, Any]],
    created_at: dt.datetime | None = None,
    filtered: Mapping[str, Any] | None = None,
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
        filtered: why the list is short (`matching.why_short`: the workplaces each rule removed,
            and how many more a longer commute would reach), kept as given.

    Returns:
        The shortlist's id.

    Raises:
        NotFoundError: for an unknown candidate or workplace.
        StoreError: for a malformed item, naming the field (e.g. `items[2].score`).
    """
    rows = shortlist_rows(candidate_id, requested_by, model_name, model_version, top_k, items, created_at, filtered)
    return insert_shortlist(session, rows)


@dataclass(frozen=True)
class ShortlistRows:
    """A shortlist's rows, checked and converted (`shortlist_rows`), ready to insert."""

    head: dict[str, Any]
    items: list[dict[str, Any]]


def shortlist_rows(
    candidate_id: str,
    requested_by: str,
    model_name: str,
    model_version: str,
    top_k: int,
    items: Sequence[Mapping[str, Any]],
    created_at: dt.datetime | None = None,
    filtered: Mapping[str, Any] | None = None,
) -> ShortlistRows:
    """`save_shortlist`'s checks and conversions that need no store, done before the writing
    transaction (which so holds the write lock only for its statements); raises as it does."""
    requested_by = required_text(requested_by, "requested_by")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise StoreError(f"must be a whole number >= 1, not {top_k!r}", field="top_k")
    rows = _item_rows(items)
    ranks = [row["rank"] for row in rows]
    if len(set(ranks)) != len(ranks):
        raise StoreError(f"ranks must be distinct, got {ranks}", field="items")
    head = {
        "candidate_id": candidate_id,
        "requested_by": requested_by,
        "created_at": aware(created_at, "created_at"),
        "model_name": required_text(model_name, "model_name"),
        "model_version": required_text(str(model_version), "model_version"),
        "top_k": top_k,
        "filtered": dict(filtered) if filtered is not None else None,
    }
    return ShortlistRows(head, rows)


def insert_shortlist(session: Session, rows: ShortlistRows) -> int:
    """Insert a shortlist's rows (`shortlist_rows`); the shortlist's id.

    Raises:
        NotFoundError: for an unknown candidate or workplace.
    """
    # existence checks read the keys alone (no row objects); the inserts are one statement each
    candidate_id = rows.head["candidate_id"]
    if session.scalar(_CANDIDATE_KEY, {"candidate_id": candidate_id}) is None:
        raise NotFoundError(f"unknown candidate {candidate_id!r}", field="candidate_id")
    wanted = {row["workplace_id"] for row in rows.items}
    known = set(session.scalars(_KNOWN_WORKPLACES, {"wanted": sorted(wanted)})) if wanted else set()
    if wanted - known:
        raise NotFoundError(f"unknown workplace(s) {sorted(wanted - known)}", field="items.workplace_id")
    shortlist_id = session.scalar(_INSERT_SHORTLIST, rows.head)
    assert shortlist_id is not None  # RETURNING gives the new row's id
    if rows.items:
        session.execute(_INSERT_ITEMS, [{**row, "shortlist_id": shortlist_id} for row in rows.items])
    return int(shortlist_id)


def _item_rows(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the served items, their JSON converted in one pass (`plain_json`); a malformed
    item is named by a second, item by item pass (the error it would raise alone)."""
    try:
        rows = [_item_row(i, item, convert=False) for i, item in enumerate(items)]
        plain = plain_json([[row["features"], row["explanation"], row["details"]] for row in rows], "items")
    except StoreError:  # raise what the item by item pass finds first
        return [_item_row(i, item) for i, item in enumerate(items)]
    for row, (features, explanation, details) in zip(rows, plain, strict=True):
        row["features"], row["explanation"], row["details"] = features, explanation, details
    return rows


def _item_row(index: int, item: Mapping[str, Any], convert: bool = True) -> dict[str, Any]:
    """One item's row; its JSON columns as plain JSON (`plain_json`) unless `convert` is off."""
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
    features, explanation = dict(item["features"]), dict(item["explanation"])
    return {
        "rank": int(rank),
        "workplace_id": required_text(item["workplace_id"], f"{where}.workplace_id"),
        "score": score,
        "features": plain_json(features, f"{where}.features") if convert else features,
        "explanation": plain_json(explanation, f"{where}.explanation") if convert else explanation,
        "details": plain_json(details, where) if convert else details,
    }


def get_shortlist(session: Session, shortlist_id: int) -> StoredShortlist:
    """A stored shortlist, with its items as they were served (in rank order).

    Raises:
        NotFoundError: for an unknown id.
    """
    # plain rows, not ORM objects, by statements built once: a shortlist is read on every review request
    shortlist = session.execute(_SHORTLIST_HEAD, {"shortlist_id": shortlist_id}).first()
    if shortlist is None:
        raise NotFoundError(f"unknown shortlist {shortlist_id!r}", field="shortlist_id")
    rows = session.execute(_SHORTLIST_ITEMS, {"shortlist_id": shortlist_id}).all()
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
        filtered=shortlist.filtered,
    )


def require_item(session: Session, item_id: int) -> None:
    """Raise NotFoundError for an unknown shortlist item (its key read alone, no row object)."""
    if session.scalar(_ITEM_KEY, {"item_id": item_id}) is None:
        raise NotFoundError(f"unknown shortlist item {item_id!r}", field="shortlist_item_id")


def live_suggestions(session: Session, since: dt.datetime) -> dict[str, set[str]]:
    """Who each workplace is a live suggestion for: the persons it was suggested to in shortlists
    recorded at or after `since`, leaving out suggestions whose current decision is a rejection.

    One grouped query (by workplace and candidate): a person counts once per workplace however
    often it was suggested to them, as long as one of those suggestions is not rejected.

    Returns:
        workplace_id -> the candidate ids it is live for.
    """
    since = aware(since, "since")
    rejected = _rejected()
    rows = session.execute(
        select(ShortlistItem.workplace_id, Shortlist.candidate_id)
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(Shortlist.created_at >= since, ~rejected)
        .group_by(ShortlistItem.workplace_id, Shortlist.candidate_id)
    )
    live: dict[str, set[str]] = {}
    for workplace_id, candidate_id in rows:
        live.setdefault(workplace_id, set()).add(candidate_id)
    return live


def _rejected() -> Any:
    """Whether a shortlist item's current decision (its latest) is a rejection."""
    later = aliased(Decision)
    superseded = exists().where(
        later.shortlist_item_id == Decision.shortlist_item_id,
        or_(
            later.decided_at > Decision.decided_at,
            and_(later.decided_at == Decision.decided_at, later.id > Decision.id),
        ),
    )
    return exists().where(Decision.shortlist_item_id == ShortlistItem.id, Decision.decision == "reject", ~superseded)


@dataclass(frozen=True)
class Suggestion:
    """One suggestion as congestion counts it: the item's row id, for whom, where, and whether it
    is live (its shortlist recorded within the window and its current decision not a rejection)."""

    item_id: int
    workplace_id: str
    candidate_id: str
    live: bool


def latest_item(session: Session) -> int:
    """The newest shortlist item's row id (0 when none was recorded)."""
    return int(session.scalar(select(func.max(ShortlistItem.id))) or 0)


def suggestions_after(
    session: Session | Connection, after: int, since: dt.datetime, also: Collection[int] = ()
) -> list[Suggestion]:
    """The suggestions recorded after item `after` (row ids only grow), and those of the item ids
    `also`, each saying whether it is live (see `live_suggestions`). One read of the primary
    key's index when nothing was recorded since.

    Args:
        session: the transaction to read in (a session's or a plain connection's).
        after: the newest item id already taken into account.
        since: a suggestion recorded before this is not live.
        also: older item ids to look for again (on PostgreSQL a transaction can commit its items
            after a later one's were read).
    """
    since = aware(since, "since")
    if also:
        rows = session.execute(_SUGGESTIONS_AFTER_OR, {"after": after, "since": since, "also": sorted(also)})
    else:
        rows = session.execute(_SUGGESTIONS_AFTER, {"after": after, "since": since})
    return [
        Suggestion(int(item_id), str(workplace), str(candidate), bool(recent) and not rejected)
        for item_id, workplace, candidate, recent, rejected in rows
    ]


def _suggestions(wanted: Any) -> Any:
    """The query behind `suggestions_after`, built once (read at every shortlist)."""
    return (
        select(
            ShortlistItem.id,
            ShortlistItem.workplace_id,
            Shortlist.candidate_id,
            (Shortlist.created_at >= bindparam("since")).label("recent"),
            _rejected().label("rejected"),
        )
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(wanted)
        .order_by(ShortlistItem.id)
    )


_SUGGESTIONS_AFTER = _suggestions(ShortlistItem.id > bindparam("after"))
_SUGGESTIONS_AFTER_OR = _suggestions(
    or_(ShortlistItem.id > bindparam("after"), ShortlistItem.id.in_(bindparam("also", expanding=True)))
)


def latest_shortlist(session: Session, candidate_id: str) -> StoredShortlist | None:
    """The person's most recently recorded shortlist, or None when none was made."""
    shortlist_id = session.scalar(
        select(Shortlist.id)
        .where(Shortlist.candidate_id == candidate_id)
        .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())
        .limit(1)
    )
    return None if shortlist_id is None else get_shortlist(session, shortlist_id)


@dataclass(frozen=True)
class ShortlistHeading:
    """Which shortlist, for whom, and when it was served (a line of a list of shortlists)."""

    id: int
    candidate_id: str
    created_at: dt.datetime


def recent_shortlists(session: Session, candidate_ids: Iterable[str], limit: int) -> list[ShortlistHeading]:
    """The most recently recorded shortlists of any of `candidate_ids` (a caseload), newest first.

    Args:
        session: the transaction to read in.
        candidate_ids: the persons whose shortlists count.
        limit: at most this many shortlists.

    Returns:
        One heading per shortlist (id, candidate, time served), newest first; empty when
        `candidate_ids` is empty.
    """
    wanted = list(candidate_ids)
    if not wanted:
        return []
    rows = session.execute(
        select(Shortlist.id, Shortlist.candidate_id, Shortlist.created_at)
        .where(Shortlist.candidate_id.in_(wanted))
        .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())
        .limit(limit)
    ).all()
    return [ShortlistHeading(id=row.id, candidate_id=row.candidate_id, created_at=row.created_at) for row in rows]


def shortlist_of_item(session: Session, item_id: int) -> int | None:
    """The id of the shortlist a shortlist item belongs to, or None for an unknown item."""
    return session.scalar(select(ShortlistItem.shortlist_id).where(ShortlistItem.id == item_id))


def lock_shortlist(session: Session, shortlist_id: int) -> None:
    """Take the shortlist's row lock for the rest of the transaction (`SELECT ... FOR UPDATE` on
    PostgreSQL), so writers to one shortlist queue instead of deadlocking on its items; SQLite's
    writing transactions are serial already, so nothing is read there (under load each statement
    in the writing transaction cost its holder about a millisecond). An unknown id locks nothing."""
    if session.get_bind().dialect.name != "sqlite":
        session.scalar(_LOCK_SHORTLIST, {"shortlist_id": shortlist_id})
