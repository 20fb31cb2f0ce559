"""Whom an employer may see, on SQLite and PostgreSQL: the person's latest answer on any suggestion
of the workplace (across their shortlists) decides whether they are interested in it; an employer
may see them only when they are interested, presented there, and consent. Also the job specialist
of a workplace and a person's plans at one."""

from __future__ import annotations

import datetime as dt

from matching.store.db import session_scope
from matching.store.decisions import interested_in, record_decision, record_person_answer
from matching.store.local_fields import job_specialist_of, set_job_specialist
from matching.store.models import Candidate
from matching.store.plans import create_plan, plans_of_person_at
from matching.store.presentations import employer_may_see, present
from matching.store.shortlists import get_shortlist, save_shortlist

PERSON, OTHER = "SYN-C000001", "SYN-C000002"
PLACE, ELSEWHERE = "SYN-W000001", "SYN-W000002"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def suggestions(engine, candidate: str, at: dt.datetime) -> list[int]:
    """A shortlist of PLACE (rank 1) and ELSEWHERE (rank 2) for `candidate`; its items' ids."""
    items = [
        {
            "rank": rank,
            "workplace_id": workplace,
            "score": 1.0 - rank / 10,
            "explanation": {"speaks_for": [], "speaks_against": []},
            "features": {"task_coverage": 0.5},
        }
        for rank, workplace in ((1, PLACE), (2, ELSEWHERE))
    ]
    with session_scope(engine) as session:
        shortlist_id = save_shortlist(session, candidate, "adviser-7", "jobmatch-ranker", "3", 2, items, at)
        return get_shortlist(session, shortlist_id).item_ids


def answer(engine, item: int, what: str, at: dt.datetime) -> None:
    with session_scope(engine) as session:
        record_person_answer(session, item, what, "adviser-7", at)


def test_the_latest_answer_on_any_suggestion_of_the_workplace_decides(loaded):
    older = suggestions(loaded, PERSON, T0)
    newer = suggestions(loaded, PERSON, T0 + dt.timedelta(days=3))
    suggestions(loaded, OTHER, T0)
    with session_scope(loaded, readonly=True) as session:
        assert not interested_in(session, PERSON, PLACE)  # no answer yet
    answer(loaded, older[0], "interested", T0 + dt.timedelta(days=1))
    answer(loaded, older[1], "not_interested", T0 + dt.timedelta(days=1))
    with session_scope(loaded, readonly=True) as session:
        assert interested_in(session, PERSON, PLACE) and not interested_in(session, PERSON, ELSEWHERE)
        assert not interested_in(session, OTHER, PLACE)  # the answer is the person's own
        assert not interested_in(session, PERSON, "SYN-W999999")
    answer(loaded, newer[0], "unsure", T0 + dt.timedelta(days=4))  # on a later shortlist: now unsure
    answer(loaded, older[1], "interested", T0 + dt.timedelta(days=5))
    with session_scope(loaded, readonly=True) as session:
        assert not interested_in(session, PERSON, PLACE) and interested_in(session, PERSON, ELSEWHERE)
    answer(loaded, older[0], "interested", T0 + dt.timedelta(days=6))  # a correction on the first list
    with session_scope(loaded, readonly=True) as session:
        assert interested_in(session, PERSON, PLACE)


def test_an_employer_may_see_an_interested_presented_consenting_person_only(loaded):
    item = suggestions(loaded, PERSON, T0)[0]
    with session_scope(loaded) as session:
        session.get(Candidate, PERSON).consent = True  # type: ignore[union-attr]
    with session_scope(loaded) as session:
        assert not employer_may_see(session, PERSON, PLACE)
        present(session, PERSON, PLACE, "specialist-3", T0)
        assert not employer_may_see(session, PERSON, PLACE)  # presented, not interested
    answer(loaded, item, "interested", T0 + dt.timedelta(hours=1))
    with session_scope(loaded) as session:
        assert employer_may_see(session, PERSON, PLACE)
        assert not employer_may_see(session, PERSON, ELSEWHERE)  # not presented there
        assert not employer_may_see(session, "SYN-C999999", PLACE)
        session.get(Candidate, PERSON).consent = False  # type: ignore[union-attr]
        session.flush()
        assert not employer_may_see(session, PERSON, PLACE)  # consent withdrawn: hidden at once


def test_a_workplaces_job_specialist_and_a_persons_plans_there(loaded):
    first, second = suggestions(loaded, PERSON, T0)
    with session_scope(loaded) as session:
        assert job_specialist_of(session, PLACE) is None and job_specialist_of(session, "SYN-W999999") is None
        set_job_specialist(session, PLACE, "specialist-3")
        assert job_specialist_of(session, PLACE) == "specialist-3"
        assert plans_of_person_at(session, PERSON, PLACE) == []
        for item in (first, second):
            record_decision(session, item, "accept", "adviser-7", decided_at=T0)
        plan = create_plan(session, PERSON, PLACE, first, {"purpose": "try_occupation"}, "adviser-7", created_at=T0)
        create_plan(session, PERSON, ELSEWHERE, second, {"purpose": "try_occupation"}, "adviser-7", created_at=T0)
        assert plans_of_person_at(session, PERSON, PLACE) == [plan]
        assert plans_of_person_at(session, OTHER, PLACE) == []
