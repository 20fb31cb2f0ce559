"""Capacity that is true, on SQLite and PostgreSQL: a trial that starts takes a slot, an end after
the start gives it back, a hire keeps it; no slot goes below zero, not even when two trials start
at the same workplace at once; every change of slots is logged for the workers."""

from __future__ import annotations

import threading
import time

import pytest

from matching.placements import PlacementError, TransitionError
from matching.store.capacity import follow_placement_event, give_back_slot, take_slot
from matching.store.changes import changes_since, latest_change
from matching.store.contract import served_records
from matching.store.db import session_scope
from matching.store.errors import NotFoundError, StoreError
from matching.store.models import Workplace

PLACE = "SYN-W000001"


def set_slots(engine, workplace_id, slots):
    with session_scope(engine) as session:
        session.get(Workplace, workplace_id).slots = slots


def slots_of(engine, workplace_id):
    with session_scope(engine, readonly=True) as session:
        return int(served_records(session, "workplaces", [workplace_id])["slots"].iloc[0])


def test_taking_and_giving_back_a_slot_counts_and_is_logged(loaded):
    set_slots(loaded, PLACE, 2)
    with session_scope(loaded) as session:
        start = latest_change(session)
        assert take_slot(session, PLACE) == 1
        assert take_slot(session, PLACE) == 0
    with session_scope(loaded, readonly=True) as session:
        seen = changes_since(session, start)
        assert seen.ids("workplaces") == {PLACE} and seen.latest > start
    assert slots_of(loaded, PLACE) == 0
    with session_scope(loaded) as session:
        assert give_back_slot(session, PLACE) == 1
    assert slots_of(loaded, PLACE) == 1


def test_no_free_slot_is_refused_naming_slots_and_changes_nothing(loaded):
    set_slots(loaded, PLACE, 0)
    with session_scope(loaded, readonly=True) as session:
        start = latest_change(session)
    with pytest.raises(StoreError, match="slots") as refused, session_scope(loaded) as session:
        take_slot(session, PLACE)
    assert refused.value.field == "slots"
    assert slots_of(loaded, PLACE) == 0
    with session_scope(loaded, readonly=True) as session:
        assert latest_change(session) == start
    with session_scope(loaded) as session:
        with pytest.raises(NotFoundError, match="workplace_id"):
            take_slot(session, "SYN-W-UNKNOWN")
        with pytest.raises(NotFoundError, match="workplace_id"):
            give_back_slot(session, "SYN-W-UNKNOWN")


def test_placement_events_take_and_give_back_as_the_state_machine_says(loaded):
    set_slots(loaded, PLACE, 1)
    with session_scope(loaded) as session:
        assert follow_placement_event(session, PLACE, "contacted", "none") is None
        assert follow_placement_event(session, PLACE, "trial_started", "contacted") == 0
        assert follow_placement_event(session, PLACE, "trial_completed", "trial_started") is None
        assert follow_placement_event(session, PLACE, "hired", "trial_completed") is None  # the person has it
    assert slots_of(loaded, PLACE) == 0
    with session_scope(loaded) as session:
        assert follow_placement_event(session, PLACE, "ended", "trial_completed") == 1
        assert follow_placement_event(session, PLACE, "ended", "contacted") is None  # no trial, no slot
    with pytest.raises(StoreError, match="slots"), session_scope(loaded) as session:
        follow_placement_event(session, PLACE, "trial_started", "contacted")
        follow_placement_event(session, PLACE, "trial_started", "contacted")  # the second finds none
    assert slots_of(loaded, PLACE) == 1  # the failed transaction left nothing half-done
    with session_scope(loaded) as session:
        with pytest.raises(TransitionError):
            follow_placement_event(session, PLACE, "hired", "contacted")
        with pytest.raises(PlacementError, match="stage"):
            follow_placement_event(session, PLACE, "trial_started", "started")


def test_two_trials_starting_at_once_cannot_both_take_the_last_slot(loaded):
    set_slots(loaded, PLACE, 1)
    first_took, outcome = threading.Event(), {}

    def second():
        first_took.wait(10)
        try:
            with session_scope(loaded) as session:
                outcome["second"] = take_slot(session, PLACE)
        except StoreError as error:
            outcome["second"] = error

    thread = threading.Thread(target=second)
    thread.start()
    with session_scope(loaded) as session:
        outcome["first"] = take_slot(session, PLACE)
        first_took.set()
        time.sleep(0.5)  # the second waits for this transaction's lock on the workplace
        assert "second" not in outcome
    thread.join(10)
    assert outcome["first"] == 0
    assert isinstance(outcome["second"], StoreError) and outcome["second"].field == "slots"
    assert slots_of(loaded, PLACE) == 0
