"""Accepted suggestion -> inclusion plan -> the person's interest -> presented to the workplace ->
three approvals -> placement events -> follow-ups, through the API, and the grade the store derives
from them for retraining. The employer sees the plan only after the person's interest and the
presentation (404 before)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from matching.store.db import make_engine, session_scope
from matching.store.outcomes import stored_outcomes
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_review import own_candidate


@pytest.fixture(scope="module")
def settings(trained, tmp_path_factory):
    """A store of this module's own: a person's earlier answers (other modules record some for
    the same person and workplace) would let the presentation through before the interest."""
    return trained.settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('plans') / 'store.db'}")


@pytest.fixture(scope="module")
def app_client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


def test_from_acceptance_to_hire_with_follow_up(app_client, trained, settings):
    adviser = trained.key("adviser")
    served = app_client.post("/shortlists", json={"candidate_id": own_candidate(trained), "top_k": 2}, headers=adviser)
    shortlist = served.json()
    url = f"/shortlists/{shortlist['shortlist_id']}"
    record = app_client.post(
        f"{url}/decisions", json={"decisions": [{"rank": 1, "decision": "accept"}]}, headers=adviser
    )
    plan_id = record.json()["items"][0]["plan_id"]
    assert plan_id is not None and record.json()["items"][1]["plan_id"] is None

    plan = app_client.get(f"/plans/{plan_id}", headers=adviser).json()
    draft = plan["draft"]
    adviser_id = trained.dataset.candidates.set_index("candidate_id").loc[shortlist["candidate_id"], "adviser_id"]
    assert draft["contact_person"] == adviser_id  # the fixed contact person is the person's own adviser
    assert draft["purpose"] in {"try_out_occupation", "confirm_vocational_goal", "start_recruitment"}
    follow = draft["followups"]
    start = dt.date.fromisoformat(draft["start_date"])
    assert {f["contact"] for f in follow} == {"person", "workplace"}
    assert min(dt.date.fromisoformat(f["due"]) for f in follow) <= start + dt.timedelta(days=7)
    assert plan["awaiting"] == ["person", "employer", "adviser"] and not plan["agreed"]

    revised = app_client.post(
        f"/plans/{plan_id}/revisions", json={"changes": {"tutor_name": "Kari Nordmann"}}, headers=adviser
    ).json()
    assert revised["revision"] == 2 and revised["draft"]["tutor"] == "Kari Nordmann"
    bad = app_client.post(f"/plans/{plan_id}/revisions", json={"changes": {"hours_per_week": 80}}, headers=adviser)
    assert bad.status_code == 422 and "hours_per_week" in bad.text
    stale = app_client.post(f"/plans/{plan_id}/approvals", json={"party": "person", "revision": 1}, headers=adviser)
    assert stale.status_code == 409 and "2" in stale.json()["detail"]
    assert (
        app_client.post(
            f"/plans/{plan_id}/approvals", json={"party": "employer", "revision": 2}, headers=adviser
        ).status_code
        == 403
    )

    employer_id = app_client.get(f"/plans/{plan_id}", headers=adviser).json()["draft"]["employer_id"]
    keys = trained.home / "api-keys.json"
    employer_key = add_key(keys, Identity(name="test-employer", role="employer", employer_id=employer_id))
    app_client.app.state.api_keys = load_keys(keys)
    employer = {"Authorization": f"Bearer {employer_key}"}
    to_employer = {"party": "employer", "revision": 2}
    # the person has not said they are interested: the plan does not exist for the employer
    assert app_client.get(f"/plans/{plan_id}", headers=employer).status_code == 404
    assert app_client.post(f"/plans/{plan_id}/approvals", json=to_employer, headers=employer).status_code == 404
    presenting = {"candidate_id": shortlist["candidate_id"], "workplace_id": shortlist["items"][0]["workplace_id"]}
    assert app_client.post("/presentations", json=presenting, headers=adviser).status_code == 409
    app_client.post(f"{url}/answers", json={"answers": [{"rank": 1, "answer": "interested"}]}, headers=adviser)
    assert app_client.get(f"/plans/{plan_id}", headers=employer).status_code == 404  # interested, not presented
    assert app_client.post("/presentations", json=presenting, headers=adviser).status_code == 200
    as_adviser = app_client.get(f"/plans/{plan_id}", headers=adviser).json()["draft"]
    as_employer = app_client.get(f"/plans/{plan_id}", headers=employer).json()["draft"]
    assert '"skill_level"' in json.dumps(as_adviser) and '"need"' in json.dumps(as_adviser)
    assert '"skill_level"' not in json.dumps(as_employer) and '"need"' not in json.dumps(as_employer)
    assert as_employer["workplace_id"] == as_adviser["workplace_id"], "the rest of the plan is the same"
    for party, who in (("person", adviser), ("adviser", adviser), ("employer", employer)):
        after = app_client.post(f"/plans/{plan_id}/approvals", json={"party": party, "revision": 2}, headers=who)
        assert after.status_code == 200, after.text
    agreed = after.json()
    assert agreed["agreed"] and agreed["placement_id"] is not None
    placement = f"/placements/{agreed['placement_id']}"

    # the person is unsure again: the employer is not contacted, and no longer sees them
    app_client.post(f"{url}/answers", json={"answers": [{"rank": 1, "answer": "unsure"}]}, headers=adviser)
    early = app_client.post(f"{placement}/events", json={"kind": "contacted"}, headers=adviser)
    assert early.status_code == 409 and "interest" in early.json()["detail"]
    assert app_client.get(placement, headers=employer).status_code == 404
    app_client.post(f"{url}/answers", json={"answers": [{"rank": 1, "answer": "interested"}]}, headers=adviser)
    assert app_client.get(placement, headers=employer).status_code == 200
    assert app_client.post(f"{placement}/events", json={"kind": "contacted"}, headers=adviser).status_code == 200
    jump = app_client.post(f"{placement}/events", json={"kind": "hired"}, headers=employer)
    assert jump.status_code == 409 and set(jump.json()["allowed_next"]) == {"trial_started", "ended"}
    for kind in ("trial_started", "trial_completed"):
        assert app_client.post(f"{placement}/events", json={"kind": kind}, headers=employer).status_code == 200
    assessment = {"source": "employer", "tasks_mastered": 4, "would_continue": "yes", "what_worked": "routines"}
    assert (
        app_client.post(
            f"{placement}/events", json={"kind": "assessment", "assessment": assessment}, headers=employer
        ).status_code
        == 200
    )
    hired = app_client.post(f"{placement}/events", json={"kind": "hired"}, headers=employer).json()
    assert hired["stage"] == "hired" and hired["grade"] == 4
    assert "trial_started" not in hired["allowed_next"] and "ended" not in hired["allowed_next"]
    ended = app_client.post(f"{placement}/events", json={"kind": "ended", "reason": "moved"}, headers=adviser)
    assert ended.status_code == 409

    later = start + dt.timedelta(days=30)
    due = app_client.get(
        f"/advisers/{adviser_id}/follow-ups", params={"today": later.isoformat()}, headers=adviser
    ).json()
    overdue = [f for f in due["overdue"] if f["placement_id"] == agreed["placement_id"]]
    assert {f["party"] for f in overdue} == {"person", "workplace"}
    first = min(overdue, key=lambda f: f["due_on"])
    done = app_client.post(
        f"{placement}/followups", json={"party": first["party"], "due_on": first["due_on"]}, headers=adviser
    )
    assert done.status_code == 200, done.text
    again = app_client.get(f"/advisers/{adviser_id}/follow-ups", params={"today": later.isoformat()}, headers=adviser)
    assert len([f for f in again.json()["overdue"] if f["placement_id"] == agreed["placement_id"]]) == len(overdue) - 1
    assert app_client.get(f"/advisers/{adviser_id}x/follow-ups", headers=adviser).status_code == 403

    engine = make_engine(settings.database_url)
    with session_scope(engine, readonly=True) as session:
        outcomes = stored_outcomes(session, with_features=True)
    engine.dispose()
    row = outcomes[
        (outcomes["candidate_id"] == shortlist["candidate_id"])
        & (outcomes["workplace_id"] == shortlist["items"][0]["workplace_id"])
    ]
    assert row["grade"].max() == 4
    assert row["task_coverage"].iloc[0] == pytest.approx(shortlist["items"][0]["features"]["task_coverage"])
