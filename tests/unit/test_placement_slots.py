"""Which placement event takes a workplace's slot and which gives it back: a trial start takes one,
an end after the trial started (and before a hire) gives it back, and a hire keeps it."""

from __future__ import annotations

import pytest

from matching.placements import (
    HOLDS_SLOT,
    INITIAL_STATE,
    Event,
    EventKind,
    PlacementError,
    SlotChange,
    Stage,
    TransitionError,
    apply_event,
    slot_change,
)

AT = "2025-03-01T09:00:00Z"


@pytest.mark.parametrize(
    ("stage", "event", "change"),
    [
        ("none", "contacted", SlotChange.NONE),
        ("none", "ended", SlotChange.NONE),
        ("contacted", "trial_started", SlotChange.TAKE),
        ("contacted", "ended", SlotChange.NONE),
        ("trial_started", "trial_completed", SlotChange.NONE),
        ("trial_started", "ended", SlotChange.GIVE_BACK),
        ("trial_completed", "ended", SlotChange.GIVE_BACK),
        ("trial_completed", "hired", SlotChange.NONE),
        ("trial_completed", "assessment", SlotChange.NONE),
        ("ended", "assessment", SlotChange.NONE),
        ("hired", "assessment", SlotChange.NONE),
    ],
)
def test_each_event_takes_gives_back_or_leaves_the_slot(stage, event, change):
    assert slot_change(stage, event) is change
    assert slot_change(Stage(stage), EventKind(event)) is change


def test_a_whole_placement_takes_one_slot_and_gives_it_back_once():
    events = [("contacted", None), ("trial_started", None), ("trial_completed", None), ("ended", "person_quit")]
    state, held = INITIAL_STATE, 0
    for kind, reason in events:
        change = slot_change(state.stage, kind)
        held += {SlotChange.TAKE: 1, SlotChange.GIVE_BACK: -1, SlotChange.NONE: 0}[change]
        state = apply_event(state, Event(kind=kind, at=AT, by="adviser-7", reason=reason))
        assert held == (1 if state.stage in HOLDS_SLOT else 0)
    assert held == 0 and state.stage is Stage.ENDED


def test_an_event_the_stage_does_not_allow_or_an_unknown_name_is_refused():
    with pytest.raises(TransitionError) as refused:
        slot_change("contacted", "hired")
    assert refused.value.allowed_next == (EventKind.TRIAL_STARTED, EventKind.ENDED)
    with pytest.raises(TransitionError):
        slot_change("hired", "ended")
    with pytest.raises(PlacementError, match="stage"):
        slot_change("started", "ended")
    with pytest.raises(PlacementError, match="event"):
        slot_change("contacted", "began")
