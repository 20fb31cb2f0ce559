"""Inclusion plans: default purpose, hours, responsibilities, follow-up schedule, revisions and approvals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from matching.agreement import Plan, approve, open_plan, revise
from matching.drafting import draft_plan
from matching.inclusion import (
    Contact,
    FollowUpKind,
    Party,
    PlanDraft,
    PlanError,
    Purpose,
    StaleRevisionError,
)

START = date(2026, 3, 2)
T0 = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
CANDIDATE = {"candidate_id": "SYN-C1", "adviser_id": "A7", "desired_hours": 30.0, "needs_mentor": 1}


def item(**features: float) -> dict[str, Any]:
    """A shortlist item shaped like `Matcher.shortlist(...).items[i]`."""
    base = {
        "task_coverage": 0.95,
        "interest_similarity": 0.72,
        "interest_preferred_occupation": 0.0,
        "employer_hire_rate": 0.3,
        "support_required_unmet": 0.0,
    }
    return {
        "rank": 1,
        "workplace_id": "SYN-W1",
        "employer_id": "SYN-E1",
        "occupation_code": "5321",
        "occupation_title": "Health care assistants",
        "distance_km": 2.9,
        "score": 0.99,
        "explanation": {
            "speaks_for": [],
            "speaks_against": [],
            "support_needs_met": [
                {"support": "mentor", "need": "helps", "description": "a named colleague who trains the person"},
                {"support": "gradual_start", "need": "required", "description": "starts with few hours"},
            ],
            "support_needs_unmet": [
                {"support": "quiet_workspace", "need": "helps", "description": "a quiet place to work"},
            ],
            "tasks_needing_training": [
                {"task": "caring", "required_level": 0.966, "skill_level": 0.715},
                {"task": "telephone", "required_level": 0.6, "skill_level": 0.2},
            ],
        },
        "features": {**base, **features},
    }


def draft(**kwargs: Any) -> PlanDraft:
    args: dict[str, Any] = {"workplace_hours": 20.0, "adviser_id": "A7", "start_date": START}
    args.update(kwargs)
    source = args.pop("item", item())
    candidate = args.pop("candidate", CANDIDATE)
    return draft_plan(source, candidate, **args)


# -- purpose


def test_preferred_occupation_defaults_to_confirming_the_vocational_goal():
    plan = draft(item=item(interest_preferred_occupation=1.0))
    assert plan.purpose is Purpose.CONFIRM_VOCATIONAL_GOAL
    assert "asked for" in plan.purpose_reason


def test_high_hire_rate_and_good_fit_defaults_to_starting_recruitment():
    plan = draft(item=item(employer_hire_rate=0.6))
    assert plan.purpose is Purpose.START_RECRUITMENT
    assert "60%" in plan.purpose_reason


def test_high_hire_rate_without_a_good_fit_does_not_start_recruitment():
    assert draft(item=item(employer_hire_rate=0.6, task_coverage=0.5)).purpose is Purpose.TRY_OUT_OCCUPATION
    assert draft(item=item(employer_hire_rate=0.6, interest_similarity=0.2)).purpose is Purpose.TRY_OUT_OCCUPATION


def test_required_support_missing_blocks_recruitment():
    source = item(employer_hire_rate=0.6)
    source["explanation"]["support_needs_unmet"][0]["need"] = "required"
    plan = draft(item=source)
    assert plan.purpose is Purpose.TRY_OUT_OCCUPATION
    assert any("quiet_workspace" in point for point in plan.open_points)


def test_otherwise_the_trial_tries_out_the_occupation():
    assert draft().purpose is Purpose.TRY_OUT_OCCUPATION
    assert draft(item=item(interest_preferred_occupation=0.5)).purpose is Purpose.TRY_OUT_OCCUPATION


def test_purpose_is_editable_and_the_reason_follows():
    plan = open_plan(draft(), "A7", T0)
    revised = revise(plan, {"purpose": "start_recruitment"}, "A7", T0)
    assert revised.draft.purpose is Purpose.START_RECRUITMENT
    assert "A7" in revised.draft.purpose_reason


def test_missing_feature_is_named():
    source = item()
    del source["features"]["employer_hire_rate"]
    with pytest.raises(PlanError, match=r"item\.features\.employer_hire_rate: missing"):
        draft(item=source)


# -- tasks, hours, dates


def test_tasks_are_the_occupation_and_the_tasks_needing_training():
    plan = draft()
    assert plan.tasks.occupation_title == "Health care assistants"
    assert plan.tasks.needing_training == ("caring", "telephone")


@pytest.mark.parametrize(
    ("desired", "offered", "expected"),
    [(30.0, 20.0, 20.0), (15.0, 37.5, 15.0), (40.0, 40.0, 40.0), (45.0, 40.0, 40.0)],
)
def test_hours_are_the_lower_of_desired_and_offered_never_above_40(desired, offered, expected):
    plan = draft(candidate={**CANDIDATE, "desired_hours": desired}, workplace_hours=offered)
    assert plan.hours_per_week == expected


@pytest.mark.parametrize("hours", [0.5, 41, -3])
def test_hours_out_of_range_are_refused_naming_the_field(hours):
    with pytest.raises(PlanError) as caught:
        PlanDraft(**{**draft().stored(), "hours_per_week": hours})
    assert caught.value.field == "hours_per_week"


def test_trial_lasts_12_weeks_by_default_and_is_configurable():
    assert draft().end_date == START + timedelta(weeks=12)
    assert draft(trial_weeks=4).end_date == START + timedelta(weeks=4)


def test_end_before_start_is_refused():
    with pytest.raises(PlanError, match="end_date") as caught:
        PlanDraft(**{**draft().stored(), "end_date": START - timedelta(days=1)})
    assert caught.value.field == "end_date"


def test_unknown_purpose_is_refused_naming_the_field():
    with pytest.raises(PlanError) as caught:
        PlanDraft(**{**draft().stored(), "purpose": "make_coffee"})
    assert caught.value.field == "purpose"


def test_plan_is_frozen():
    plan = draft()
    with pytest.raises(ValueError):
        plan.hours_per_week = 10  # type: ignore[misc]


# -- responsibilities


def test_met_needs_go_to_the_workplace_and_unmet_needs_to_the_support_system():
    plan = draft(needs_outside_work={"housing": "apply for housing benefit", "transport": "a bus pass"})
    assert [a.support for a in plan.workplace.adaptations] == ["mentor", "gradual_start"]
    assert [t.task for t in plan.workplace.tasks_needing_training] == ["caring", "telephone"]
    assert "train" in plan.workplace.training
    assert [s.support for s in plan.support_system.unmet_support_needs] == ["quiet_workspace"]
    assert {n.area.value: n.description for n in plan.support_system.needs_outside_work} == {
        "housing": "apply for housing benefit",
        "transport": "a bus pass",
    }


def test_only_the_areas_given_appear():
    assert draft().support_system.needs_outside_work == ()


def test_unknown_area_is_refused():
    with pytest.raises(PlanError, match=r"needs_outside_work\.food: unknown area"):
        draft(needs_outside_work={"food": "meals"})


# -- contact person and tutor


def test_contact_person_is_the_candidates_adviser():
    assert draft().contact_person == "A7"
    with pytest.raises(PlanError) as caught:
        draft(adviser_id="A9")
    assert caught.value.field == "contact_person"


def test_missing_tutor_is_to_be_named_and_an_open_point():
    plan = draft()
    assert plan.tutor == "to be named"
    assert "the workplace tutor is to be named" in plan.open_points
    named = draft(tutor_name="Kari Nordmann")
    assert named.tutor == "Kari Nordmann"
    assert named.open_points == ()


# -- follow-up schedule


def test_schedule_first_contact_within_a_week_both_parties_until_the_end():
    plan = draft()
    schedule = plan.followups
    first = [f for f in schedule if f.kind is FollowUpKind.FIRST]
    assert {f.contact for f in first} == {Contact.PERSON, Contact.WORKPLACE}
    assert all(0 < (f.due - plan.start_date).days <= 7 for f in first)
    for contact in Contact:
        dates = [f.due for f in schedule if f.contact is contact]
        assert dates == sorted(dates)
        assert dates[-1] == plan.end_date
        gaps = {(b - a).days for a, b in zip(dates[:-1], dates[1:], strict=True)}
        assert max(gaps) <= 14
    assert all(f.by == "A7" for f in schedule)
    assert all(START < f.due <= plan.end_date for f in schedule)
    assert len({f.due for f in schedule}) * 2 == len(schedule)


def test_schedule_interval_is_configurable_and_follows_revisions():
    plan = draft(followup_interval_days=7, first_contact_days=3)
    person = [f.due for f in plan.followups if f.contact is Contact.PERSON]
    assert person[0] == START + timedelta(days=3)
    assert person[1] - person[0] == timedelta(days=7)
    revised = revise(open_plan(plan, "A7", T0), {"end_date": START + timedelta(weeks=4)}, "A7", T0)
    assert max(f.due for f in revised.draft.followups) == START + timedelta(weeks=4)


def test_first_contact_later_than_a_week_is_refused():
    with pytest.raises(PlanError) as caught:
        draft(first_contact_days=10)
    assert caught.value.field == "first_contact_days"


# -- revisions and approvals


def agreed(plan: Plan) -> Plan:
    for party in Party:
        plan = approve(plan, party, f"{party.value}-1", plan.current.at + timedelta(hours=1), plan.revision)
    return plan


def test_agreement_needs_all_three_on_the_latest_revision():
    plan = open_plan(draft(), "A7", T0)
    assert not plan.is_agreed
    plan = approve(plan, Party.PERSON, "SYN-C1", T0, 1)
    plan = approve(plan, "employer", "boss", T0, 1)
    assert not plan.is_agreed
    assert plan.pending == (Party.ADVISER,)
    plan = approve(plan, Party.ADVISER, "A7", T0, 1)
    assert plan.is_agreed


def test_a_revision_clears_approvals_and_keeps_history():
    plan = agreed(open_plan(draft(), "A7", T0))
    revised = revise(plan, {"tutor_name": "Kari", "hours_per_week": 15}, "A7", T0 + timedelta(days=1))
    assert plan.is_agreed  # the old object is untouched
    assert not revised.is_agreed
    assert revised.current_approvals == ()
    assert len(revised.approvals) == 3  # history kept, tied to revision 1
    assert [r.number for r in revised.revisions] == [1, 2]
    assert revised.revisions[0].draft.tutor_name is None
    assert revised.draft.hours_per_week == 15
    assert revised.current.by == "A7"
    assert agreed(revised).is_agreed


def test_approving_an_old_revision_fails_naming_the_current_one():
    plan = revise(open_plan(draft(), "A7", T0), {"tutor_name": "Kari"}, "A7", T0)
    with pytest.raises(StaleRevisionError, match="revision 2") as caught:
        approve(plan, Party.PERSON, "SYN-C1", T0, revision=1)
    assert caught.value.current_revision == 2
    assert isinstance(caught.value, PlanError)


def test_approving_twice_changes_nothing():
    plan = approve(open_plan(draft(), "A7", T0), Party.PERSON, "SYN-C1", T0, 1)
    assert approve(plan, Party.PERSON, "SYN-C1", T0 + timedelta(hours=2), 1) == plan


def test_unknown_party_is_refused():
    with pytest.raises(PlanError) as caught:
        approve(open_plan(draft(), "A7", T0), "landlord", "x", T0, 1)
    assert caught.value.field == "party"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_person": "A9"}, "contact_person"),
        ({"candidate_id": "C2"}, "candidate_id"),
        ({"followups": []}, "followups"),
        ({"colour": "blue"}, "colour"),
        ({"workplace.colour": "blue"}, "workplace.colour"),
        ({"hours_per_week": 60}, "hours_per_week"),
        ({"tutor_name": None}, "changes"),
        ({}, "changes"),
    ],
)
def test_bad_revisions_are_refused_naming_the_field(changes, field):
    plan = open_plan(draft(), "A7", T0)
    with pytest.raises(PlanError) as caught:
        revise(plan, changes, "A7", T0)
    assert caught.value.field == field


def test_nested_changes_must_keep_the_task_lists_consistent():
    plan = open_plan(draft(), "A7", T0)
    with pytest.raises(PlanError) as caught:
        revise(plan, {"tasks.needing_training": ["caring"]}, "A7", T0)
    assert caught.value.field == "workplace.tasks_needing_training"
    kept = [t.model_dump() for t in plan.draft.workplace.tasks_needing_training[:1]]
    revised = revise(plan, {"tasks.needing_training": ["caring"], "workplace.tasks_needing_training": kept}, "A7", T0)
    assert revised.draft.tasks.needing_training == ("caring",)


def test_times_must_be_aware_and_not_go_back():
    plan = open_plan(draft(), "A7", T0)
    with pytest.raises(PlanError) as caught:
        revise(plan, {"tutor_name": "Kari"}, "A7", datetime(2026, 3, 1))
    assert caught.value.field == "at"
    with pytest.raises(PlanError, match="before"):
        approve(plan, Party.PERSON, "SYN-C1", T0 - timedelta(days=1), 1)


def test_plan_serialises_with_its_schedule_and_round_trips():
    plan = draft()
    dumped = plan.model_dump(mode="json")
    assert dumped["tutor"] == "to be named" and dumped["followups"][0]["contact"] == "person"
    assert PlanDraft(**plan.stored()) == plan
