"""Fairness of the live loop: what happened to each audit group's persons in the store, not how
the ranker scored held-out data (that is `training.fairness`).

Read here and only here, with `training.fairness`: the contract `audit` table (age band, gender).
It is never a feature, and nothing person-level leaves this module: `live_fairness` gives counts
and shares per group.

Who is counted (`person_rows`): every person in the store with an audit row who consents, and
is active or had a shortlist in the period. Left out, and counted only in total: persons without
an audit row, and persons who withdrew consent (no processing of them for this report, and they
can get no shortlist). Erased persons are gone from the store with their audit rows, shortlists,
decisions and placements; only the number of erasures in the register is shown. A person who is
no longer active but had a shortlist in the period is counted (a hire often ends the follow-up).

What is measured, per audit group:

- `shortlisted`: the share of the group's persons with at least one shortlist in the period;
- over the group's suggestions in the period (a suggestion is one workplace suggested to one
  person, counted once however many shortlists repeated it):
  `accepted` (the adviser's current decision on one of its items is an acceptance), `pursued`
  (its placement got an event beyond acceptance: the employer was contacted, or later),
  `trialled` (a trial started) and `hired`. Events are counted whenever they were recorded; the
  period picks the shortlists.

Each share's ratio is the group's share over the best share among the attribute's groups of at
least `min_group` persons (for the suggestion shares: persons with a shortlist), and a group of
that size is flagged when a ratio is under `THRESHOLD`: the four-fifths rule and the
`flag_groups` arithmetic of `training.fairness` (its `THRESHOLD`; `MIN_GROUP` is its
`SMALL_GROUP`), which the tests check this against. `training.fairness` itself is not imported:
it loads the training code, fairlearn and the ranker, which the service never does. Smaller
groups are shown with their counts and ratios, but neither flagged nor taken as the best group:
with a handful of persons one hire more or less moves a share by more than the rule's margin.
A flag is a prompt to look, not a verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from matching.fairness_rule import ATTRIBUTES, SMALL_GROUP, THRESHOLD
from matching.placements import GRADES, Stage
from matching.store.models import (
    Audit,
    Candidate,
    Decision,
    Erasure,
    InclusionPlan,
    Placement,
    PlacementEvent,
    Shortlist,
    ShortlistItem,
)

MIN_GROUP = SMALL_GROUP
"""Groups smaller than this are shown but not flagged (`matching.fairness_rule.SMALL_GROUP`)."""
MEASURES = ("shortlisted", "accepted", "pursued", "trialled", "hired")
SUGGESTION_MEASURES = MEASURES[1:]
# the placement events that show a suggestion got that far: the stages of `matching.placements`
# graded at least contacted (1), trial started (2) and hired (4)
PURSUED = frozenset(stage.value for stage, grade in GRADES.items() if grade >= GRADES[Stage.CONTACTED])
TRIALLED = frozenset(stage.value for stage, grade in GRADES.items() if grade >= GRADES[Stage.TRIAL_STARTED])
HIRED = frozenset({Stage.HIRED.value})


@dataclass(frozen=True)
class PersonRow:
    """One counted person's audit groups and counts (stays inside this module and its tests)."""

    age_band: str
    gender: str
    shortlisted: bool
    suggestions: int = 0
    accepted: int = 0
    pursued: int = 0
    trialled: int = 0
    hired: int = 0


@dataclass(frozen=True)
class LeftOut:
    """Persons the report does not count, in total only."""

    without_audit: int = 0
    withdrawn_consent: int = 0
    erased: int = 0


@dataclass(frozen=True)
class Measure:
    """One share of one group: `count` out of `out_of`, its ratio to the best group's share."""

    measure: str
    count: int
    out_of: int
    share: float | None
    ratio: float | None
    small: bool  # under the minimum size for this share: never flagged, never the best group
    flagged: bool


@dataclass(frozen=True)
class GroupRow:
    """One audit group's counts and shares."""

    attribute: str
    group: str
    persons: int
    persons_with_shortlist: int
    suggestions: int
    measures: tuple[Measure, ...]

    @property
    def flagged_on(self) -> tuple[str, ...]:
        return tuple(m.measure for m in self.measures if m.flagged)

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.measure == name)


@dataclass(frozen=True)
class LiveFairness:
    """The live loop's fairness report: per audit group, shares, ratios and flags."""

    groups: tuple[GroupRow, ...]
    persons: int
    left_out: LeftOut
    since: dt.date | None = None
    threshold: float = THRESHOLD
    min_group: int = MIN_GROUP
    rules: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> tuple[GroupRow, ...]:
        return tuple(g for g in self.groups if g.flagged_on)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (what `jobmatch fairness --json` prints and the API returns)."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "threshold": self.threshold,
            "min_group": self.min_group,
            "persons": self.persons,
            "left_out": asdict(self.left_out),
            "rules": list(self.rules),
            "groups": [
                {
                    "attribute": g.attribute,
                    "group": g.group,
                    "persons": g.persons,
                    "persons_with_shortlist": g.persons_with_shortlist,
                    "suggestions": g.suggestions,
                    "measures": [asdict(m) for m in g.measures],
                    "flagged_on": list(g.flagged_on),
                }
                for g in self.groups
            ],
        }

    def lines(self) -> list[str]:
        """The report as fixed-width text lines."""
        out = ["Fairness of the live loop by audit group (audit data are never features):"]
        out += [f"  {line}" for line in self.rules]
        header = f"  {'group':<14}{'persons':>8}{'suggestions':>12}"
        for name in MEASURES:
            header += f"{name:>13}{'share':>7}{'ratio':>7}"
        for attribute in ATTRIBUTES:
            rows = [g for g in self.groups if g.attribute == attribute]
            if not rows:
                continue
            out.append(f"  {attribute}:")
            out.append(header)
            for row in rows:
                line = f"  {row.group:<14}{row.persons:>8}{row.suggestions:>12}"
                for m in row.measures:
                    mark = "!" if m.flagged else ("*" if m.small else " ")
                    line += f"{m.count:>13}{_share(m.share):>7}{_ratio(m.ratio):>6}{mark}"
                out.append(line)
        if not self.groups:
            out.append("  no counted person has an audit row: nothing to compare")
        elif self.flagged:
            out.append(
                "  flagged: " + "; ".join(f"{g.attribute}={g.group} ({', '.join(g.flagged_on)})" for g in self.flagged)
            )
        else:
            out.append(f"  no group of at least {self.min_group} under {self.threshold:g} of the best group")
        return out


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def rules_text(since: dt.date | None, persons: int, left_out: LeftOut, threshold: float, min_group: int) -> list[str]:
    """What the report counted and how, in words."""
    period = f"shortlists made from {since.isoformat()} on" if since else "every shortlist in the store"
    return [
        f"period: {period}; events are counted whenever they were recorded",
        f"counted: {persons} persons with an audit row who consent and are active or had a shortlist in the period",
        f"left out: {left_out.without_audit} without an audit row, {left_out.withdrawn_consent} who withdrew consent;"
        f" erased: {left_out.erased} in the register, their data gone from the store (not counted)",
        "shortlisted: share of persons with a shortlist; accepted, pursued (employer contacted or later),"
        " trialled (trial started) and hired: share of suggestions (one workplace suggested to one person,"
        " counted once)",
        f"ratio = group share / best share among groups of at least {min_group}; flagged (!) under {threshold:g};"
        f" * = fewer than {min_group} persons (persons with a shortlist for the suggestion shares):"
        " shown, never flagged",
    ]


def _as_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def person_rows(session: Session, since: dt.date | None = None) -> tuple[list[PersonRow], LeftOut]:
    """Each counted person's audit groups and counts, and how many were left out (see the module docstring).

    Args:
        session: the transaction to read in.
        since: count shortlists made on or after this day (UTC); None for every shortlist.
    """
    in_period: ColumnElement[bool] = Shortlist.created_at >= _as_utc(since) if since is not None else true()

    # every suggestion in the period: (person, workplace) -> its item ids
    pairs: dict[tuple[str, str], list[int]] = {}
    rows = session.execute(
        select(Shortlist.candidate_id, ShortlistItem.workplace_id, ShortlistItem.id)
        .join(ShortlistItem, ShortlistItem.shortlist_id == Shortlist.id)
        .where(in_period)
    )
    for candidate_id, workplace_id, item_id in rows:
        pairs.setdefault((candidate_id, workplace_id), []).append(item_id)
    shortlisted = set(session.scalars(select(Shortlist.candidate_id).where(in_period).distinct()))
    # the current (latest) decision of each item in the period
    current: dict[int, str] = {}
    decisions = session.execute(
        select(Decision.shortlist_item_id, Decision.decision)
        .join(ShortlistItem, ShortlistItem.id == Decision.shortlist_item_id)
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(in_period)
        .order_by(Decision.shortlist_item_id, Decision.decided_at, Decision.id)
    )
    for item_id, decision in decisions:
        current[item_id] = decision
    # the placement event kinds recorded for each item in the period
    kinds: dict[int, set[str]] = {}
    events = session.execute(
        select(InclusionPlan.shortlist_item_id, PlacementEvent.kind)
        .join(Placement, Placement.plan_id == InclusionPlan.id)
        .join(PlacementEvent, PlacementEvent.placement_id == Placement.id)
        .join(ShortlistItem, ShortlistItem.id == InclusionPlan.shortlist_item_id)
        .join(Shortlist, Shortlist.id == ShortlistItem.shortlist_id)
        .where(in_period)
        .distinct()
    )
    for item_id, kind in events:
        kinds.setdefault(item_id, set()).add(kind)

    counts: dict[str, list[int]] = {}  # person -> suggestions, accepted, pursued, trialled, hired
    for (candidate_id, _), item_ids in pairs.items():
        seen = set().union(*(kinds.get(i, set()) for i in item_ids))
        tally = counts.setdefault(candidate_id, [0, 0, 0, 0, 0])
        tally[0] += 1
        tally[1] += any(current.get(i) == "accept" for i in item_ids)
        tally[2] += bool(seen & PURSUED)
        tally[3] += bool(seen & TRIALLED)
        tally[4] += bool(seen & HIRED)

    people = session.execute(
        select(Candidate.candidate_id, Candidate.consent, Candidate.active, Audit.age_band, Audit.gender).outerjoin(
            Audit, Audit.candidate_id == Candidate.candidate_id
        )
    )
    out: list[PersonRow] = []
    without_audit = withdrawn = 0
    for candidate_id, consent, active, age_band, gender in people:
        if not consent:
            withdrawn += 1
            continue
        if not (active or candidate_id in shortlisted):
            continue
        if age_band is None:
            without_audit += 1
            continue
        tally = counts.get(candidate_id, [0, 0, 0, 0, 0])
        out.append(PersonRow(age_band, gender, candidate_id in shortlisted, *tally))
    erased = session.scalar(select(func.count()).select_from(Erasure)) or 0
    return out, LeftOut(without_audit, withdrawn, int(erased))


def _measure(name: str, count: int, out_of: int, size: int, min_group: int) -> Measure:
    share = count / out_of if out_of else None
    return Measure(name, count, out_of, share, None, size < min_group, False)


def group_rows(
    persons: Iterable[PersonRow], min_group: int = MIN_GROUP, threshold: float = THRESHOLD
) -> tuple[GroupRow, ...]:
    """Per attribute and group (sorted by name): counts, shares, ratios to the best group and flags."""
    persons = list(persons)
    out: list[GroupRow] = []
    for attribute in ATTRIBUTES:
        groups: dict[str, list[PersonRow]] = {}
        for person in persons:
            groups.setdefault(str(getattr(person, attribute)), []).append(person)
        rows = []
        for group, members in sorted(groups.items()):
            with_list = sum(p.shortlisted for p in members)
            suggestions = sum(p.suggestions for p in members)
            measures = [_measure("shortlisted", with_list, len(members), len(members), min_group)]
            measures += [
                _measure(name, sum(getattr(p, name) for p in members), suggestions, with_list, min_group)
                for name in SUGGESTION_MEASURES
            ]
            rows.append(GroupRow(attribute, group, len(members), with_list, suggestions, tuple(measures)))
        out += flag_rows(rows, threshold)
    return tuple(out)


def flag_rows(rows: Sequence[GroupRow], threshold: float = THRESHOLD) -> list[GroupRow]:
    """The rows of one attribute with each share's ratio to the best share among the groups that are
    not small, and flags: `training.fairness.flag_groups` over those groups (a ratio is None when
    the best share is not positive or the group has no share; None is never flagged)."""
    out = list(rows)
    for index in range(len(MEASURES)):
        shares = [r.measures[index].share for r in out if not r.measures[index].small]
        best = max((s for s in shares if s is not None), default=None)
        for i, row in enumerate(out):
            m = row.measures[index]
            ratio = m.share / best if m.share is not None and best is not None and best > 0 else None
            flagged = not m.small and ratio is not None and ratio < threshold
            measures = list(row.measures)
            measures[index] = Measure(m.measure, m.count, m.out_of, m.share, ratio, m.small, flagged)
            out[i] = GroupRow(
                row.attribute, row.group, row.persons, row.persons_with_shortlist, row.suggestions, tuple(measures)
            )
    return out


def live_fairness(
    session: Session, since: dt.date | None = None, min_group: int = MIN_GROUP, threshold: float = THRESHOLD
) -> LiveFairness:
    """The live loop's fairness report over the store (see the module docstring).

    Args:
        session: the transaction to read in.
        since: count shortlists made on or after this day (UTC); None for every shortlist.
        min_group: groups with fewer persons are shown but not flagged.
        threshold: a ratio under this is flagged.
    """
    persons, left_out = person_rows(session, since)
    groups = group_rows(persons, min_group, threshold)
    rules = tuple(rules_text(since, len(persons), left_out, threshold, min_group))
    return LiveFairness(groups, len(persons), left_out, since, threshold, min_group, rules)
