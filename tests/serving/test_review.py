"""The review loop through the API: identities and roles, recorded shortlists, the person's
answers, decisions with their history, and the audit trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app


@pytest.fixture(scope="module")
def app_client(trained):
    with TestClient(create_app(trained.settings())) as client:
        yield client


def own_candidate(trained, who: str = "adviser") -> str:
    frame = trained.dataset.candidates
    adviser_id = {"adviser": 0, "other_adviser": 1}[who]
    advisers = frame.loc[frame["consent"] & frame["active"], "adviser_id"].drop_duplicates()
    mine = frame[(frame["adviser_id"] == advisers.iloc[adviser_id]) & frame["consent"] & frame["active"]]
    return str(mine["candidate_id"].iloc[0])


def test_every_request_needs_a_known_key(app_client, trained):
    body = {"candidate_id": own_candidate(trained)}
    assert app_client.post("/shortlists", json=body).status_code == 401
    assert app_client.post("/shortlists", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert app_client.get("/model").status_code == 401
    assert app_client.get("/health").status_code == 200  # probes need no key


def test_roles_and_caseloads_are_enforced(app_client, trained):
    theirs = own_candidate(trained, "other_adviser")
    assert (
        app_client.post("/shortlists", json={"candidate_id": theirs}, headers=trained.key("adviser")).status_code == 403
    )
    assert (
        app_client.post("/shortlists", json={"candidate_id": theirs}, headers=trained.key("scientist")).status_code
        == 403
    )
    assert app_client.get("/audit", headers=trained.key("adviser")).status_code == 403
    shortlist = app_client.post(
        "/shortlists", json={"candidate_id": theirs}, headers=trained.key("other_adviser")
    ).json()
    # another adviser can neither read nor decide on it; a batch job may score but not decide
    assert app_client.get(f"/shortlists/{shortlist['shortlist_id']}", headers=trained.key("adviser")).status_code == 403
    decision = {"decisions": [{"rank": 1, "decision": "accept"}]}
    for who in ("adviser", "batch"):
        url = f"/shortlists/{shortlist['shortlist_id']}/decisions"
        assert app_client.post(url, json=decision, headers=trained.key(who)).status_code == 403


def test_a_shortlist_is_recorded_and_decided_with_history(app_client, trained):
    adviser = trained.key("adviser")
    served = app_client.post("/shortlists", json={"candidate_id": own_candidate(trained), "top_k": 3}, headers=adviser)
    assert served.status_code == 200, served.text
    served = served.json()
    url = f"/shortlists/{served['shortlist_id']}"
    stored = app_client.get(url, headers=adviser).json()
    assert [i["item"] for i in stored["items"]] == served["items"]
    assert stored["model_version"] == served["model"]["version"] and stored["requested_by"] == "test-adviser"

    answers = {"answers": [{"rank": 1, "answer": "interested"}, {"rank": 2, "answer": "unsure"}]}
    assert app_client.post(f"{url}/answers", json=answers, headers=adviser).status_code == 200

    no_reason = {"decisions": [{"rank": 2, "decision": "reject"}]}
    response = app_client.post(f"{url}/decisions", json=no_reason, headers=adviser)
    assert response.status_code == 422 and "reason_code" in str(response.json()["detail"])
    other_without_text = {"decisions": [{"rank": 2, "decision": "reject", "reason_code": "other"}]}
    assert app_client.post(f"{url}/decisions", json=other_without_text, headers=adviser).status_code == 422

    decisions = {
        "decisions": [
            {"rank": 1, "decision": "accept"},
            {"rank": 2, "decision": "reject", "reason_code": "too_far"},
        ]
    }
    record = app_client.post(f"{url}/decisions", json=decisions, headers=adviser).json()
    assert record["items"][0]["decision"]["decision"] == "accept"
    assert record["items"][1]["decision"]["reason_code"] == "too_far"
    assert record["items"][0]["person_answer"]["answer"] == "interested"

    correction = {"decisions": [{"rank": 2, "decision": "accept"}]}
    record = app_client.post(f"{url}/decisions", json=correction, headers=adviser).json()
    history = record["items"][1]["decision_history"]
    assert [h["decision"] for h in history] == ["reject", "accept"]
    assert all(h["decided_by"] == "test-adviser" for h in history)
    assert (
        app_client.post(
            f"{url}/decisions", json={"decisions": [{"rank": 9, "decision": "accept"}]}, headers=adviser
        ).status_code
        == 404
    )
    assert app_client.get("/shortlists/999999", headers=adviser).status_code == 404


def test_the_audit_trail_records_reads_and_decisions_without_personal_data(app_client, trained):
    candidate_id = own_candidate(trained)
    served = app_client.post(
        "/shortlists", json={"candidate_id": candidate_id, "top_k": 2}, headers=trained.key("adviser")
    ).json()
    app_client.post(
        f"/shortlists/{served['shortlist_id']}/decisions",
        json={"decisions": [{"rank": 1, "decision": "accept"}]},
        headers=trained.key("adviser"),
    )
    trail = app_client.get("/audit", params={"subject_id": candidate_id}, headers=trained.key("dpo"))
    assert trail.status_code == 200
    actions = {entry["action"] for entry in trail.json() if entry["actor"] == "test-adviser"}
    assert {"create_shortlist", "decide"} <= actions
    assert all(entry["subject_id"] == candidate_id for entry in trail.json())
    text = trail.text
    for word in ("needs_", "skill_", "tolerance_", "interest_", "preferred_occupations"):
        assert word not in text
