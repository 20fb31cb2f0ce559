"""Shortlists read back as served; decisions and the person's answers keep their whole history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from matching.review import REASON_CODES
from matching.store.db import session_scope
from matching.store.decisions import (
    current_decision,
    decision_history,
    person_answer_history,
    record_decision,
    record_person_answer,
)
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Decision, ShortlistItem
from matching.store.shortlists import get_shortlist, save_shortlist

CANDIDATE = "SYN-C000001"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def served_items(n=3):
    """Items shaped like `Matcher.shortlist(...).items`, with a numpy score as the ranker gives."""
    return [
        {
            "rank": rank,
            "workplace_id": f"SYN-W{rank:06d}",
            "employer_id": f"SYN-E{rank:05d}",
            "occupation_code": "5223",
            "occupation_title": "Shop sales assistants",
            "distance_km": 3.25 * rank,
            "score": np.float64(1.5 - rank / 10),
            "explanation": {
                "speaks_for": ["Interests match the occupation"],
                "speaks_against": [],
                "support_needs_met": ["Mentor"],
                "support_needs_unmet": [],
                "tasks_needing_training": ["Telephone"],
            },
            "features": {"task_coverage": 0.812345, "support_needs_covered": 1.0},
        }
        for rank in range(1, n + 1)
    ]


def save(engine, items=None, **overrides):
    arguments = dict(
        candidate_id=CANDIDATE,
        requested_by="adviser-7",
        model_name="jobmatch-ranker",
        model_version="3",
        top_k=3,
        items=served_items() if items is None else items,
        created_at=T0,
    )
    arguments.update(overrides)
    with session_scope(engine) as session:
        return save_shortlist(session, **arguments)


def first_item(engine):
    with session_scope(engine) as session:
        return get_shortlist(session, save(engine)).item_id(1)


def test_a_saved_shortlist_reads_back_as_it_was_served(loaded):
    shortlist_id = save(loaded)
    with session_scope(loaded) as session:
        stored = get_shortlist(session, shortlist_id)
    expected = served_items()
    for item in expected:
        item["score"] = float(item["score"])
    assert stored.items == expected
    assert (stored.candidate_id, stored.requested_by, stored.model_name, stored.model_version, stored.top_k) == (
        CANDIDATE,
        "adviser-7",
        "jobmatch-ranker",
        "3",
        3,
    )
    assert stored.created_at == T0 and stored.created_at.tzinfo is not None
    assert len(set(stored.item_ids)) == 3


def test_shortlist_errors_name_the_field(loaded):
    with pytest.raises(NotFoundError, match="candidate_id"):
        save(loaded, candidate_id="SYN-C404")
    with pytest.raises(NotFoundError, match="SYN-W999999"):
        save(loaded, items=[{**served_items(1)[0], "workplace_id": "SYN-W999999"}])
    with pytest.raises(StoreError, match=r"items\[0\].score"):
        save(loaded, items=[{**served_items(1)[0], "score": float("nan")}])
    with pytest.raises(StoreError, match=r"items\[0\].features"):
        save(loaded, items=[{**served_items(1)[0], "features": {"x": float("inf")}}])
    with pytest.raises(NotFoundError, match="shortlist_id"), session_scope(loaded) as session:
        get_shortlist(session, 404)
    with session_scope(loaded) as session:
        assert session.scalar(select(func.count()).select_from(ShortlistItem)) == 0


def test_decision_history_keeps_every_correction_in_order(loaded):
    item = first_item(loaded)
    with session_scope(loaded) as session:
        assert current_decision(session, item) is None
        record_decision(session, item, "accept", "adviser-7", decided_at=T0)
        record_decision(session, item, "reject", "adviser-7", "too_far", decided_at=T0 + dt.timedelta(hours=1))
    with session_scope(loaded) as session:
        record_decision(
            session,
            item,
            "reject",
            "team-lead-2",
            "other",
            "  The employer closed the department. ",
            decided_at=T0 + dt.timedelta(days=1),
        )
        record_decision(session, item, "accept", "adviser-7", decided_at=T0 + dt.timedelta(days=1))  # same time
    with session_scope(loaded) as session:
        history = decision_history(session, item)
        current = current_decision(session, item)
    assert [(d.decision, d.reason_code, d.decided_by) for d in history] == [
        ("accept", None, "adviser-7"),
        ("reject", "too_far", "adviser-7"),
        ("reject", "other", "team-lead-2"),
        ("accept", None, "adviser-7"),
    ]
    assert history[2].reason_text == "The employer closed the department."
    assert [d.decided_at for d in history] == sorted(d.decided_at for d in history)
    assert all(d.decided_at.tzinfo is not None for d in history)
    assert current == history[-1]


@pytest.mark.parametrize(
    ("decision", "code", "text", "field"),
    [
        ("reject", None, None, "reason_code"),
        ("reject", "bad_weather", None, "reason_code"),
        ("accept", "too_far", None, "reason_code"),
        ("reject", "other", None, "reason_text"),
        ("reject", "other", "   ", "reason_text"),
        ("maybe", None, None, "decision"),
    ],
)
def test_reason_codes_are_checked(loaded, decision, code, text, field):
    item = first_item(loaded)
    with pytest.raises(StoreError) as caught, session_scope(loaded) as session:
        record_decision(session, item, decision, "adviser-7", code, text)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")
    with session_scope(loaded) as session:
        assert decision_history(session, item) == []


def test_every_reason_code_is_accepted_on_a_rejection(loaded):
    item = first_item(loaded)
    with session_scope(loaded) as session:
        for code in REASON_CODES:
            record_decision(session, item, "reject", "adviser-7", code, "why" if code == "other" else None)
        assert [d.reason_code for d in decision_history(session, item)] == list(REASON_CODES)


def test_unknown_items_are_not_found(loaded):
    with pytest.raises(NotFoundError, match="shortlist_item_id"), session_scope(loaded) as session:
        record_decision(session, 404, "accept", "adviser-7")
    with pytest.raises(NotFoundError), session_scope(loaded) as session:
        record_person_answer(session, 404, "interested", "adviser-7")
    with pytest.raises(NotFoundError), session_scope(loaded) as session:
        decision_history(session, 404)


def test_the_database_refuses_a_rejection_without_reason_even_past_the_repository(loaded):
    item = first_item(loaded)
    row = {"shortlist_item_id": item, "decision": "reject", "decided_by": "x", "decided_at": T0}
    with pytest.raises(IntegrityError), session_scope(loaded) as session:
        session.execute(insert(Decision), [row])
    with pytest.raises(IntegrityError), session_scope(loaded) as session:
        session.execute(insert(Decision), [{**row, "shortlist_item_id": 10_000}])  # foreign key


def test_person_answers_are_recorded_with_their_history(loaded):
    item = first_item(loaded)
    with session_scope(loaded) as session:
        record_person_answer(session, item, "unsure", "adviser-7", recorded_at=T0)
        record_person_answer(session, item, "interested", "adviser-7", recorded_at=T0 + dt.timedelta(days=2))
    with session_scope(loaded) as session:
        history = person_answer_history(session, item)
    assert [a.answer for a in history] == ["unsure", "interested"]
    with pytest.raises(StoreError, match="^answer: "), session_scope(loaded) as session:
        record_person_answer(session, item, "yes please", "adviser-7")
