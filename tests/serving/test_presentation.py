"""The person's own choice comes first: an employer sees a person only after the person's recorded
answer on a suggestion of the workplace is "interested" AND an adviser or the workplace's job
specialist has presented them there. Before that the person's plan and placement answer 404 to the
employer, through the JSON API and on the page alike; afterwards they open, and the employer's
approval works. Presenting needs the person's interest (409) and a job specialist of another
workplace cannot present (403)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.store.audit import query_audit
from matching.store.db import make_engine, session_scope
from matching.store.local_fields import job_specialist_of, set_job_specialist
from matching.store.placements import open_placement
from matching.store.plans import approve_plan
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_web import browser, log_in

SPECIALIST, OTHER_SPECIALIST = "pres-specialist", "pres-other-specialist"


@dataclass
class Scene:
    """One person on the adviser's caseload with two accepted suggestions (each with its plan), the
    workplaces' employers, and job specialists for each workplace."""

    client: TestClient
    person: str
    shortlist_url: str
    workplaces: list[str]  # of ranks 1 and 2
    plans: list[int]
    keys: dict[str, str]

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def answer(self, rank: int, answer: str, adviser: dict[str, str]) -> None:
        body = {"answers": [{"rank": rank, "answer": answer}]}
        response = self.client.post(f"{self.shortlist_url}/answers", json=body, headers=adviser)
        assert response.status_code == 200, response.text


def person_of_caseload(trained: Any) -> str:
    """A consenting, active person of the `adviser` key's caseload that other modules leave alone."""
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = eligible["adviser_id"].drop_duplicates().iloc[0]
    return str(eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].iloc[7])


@pytest.fixture(scope="module")
def scene(trained: Any) -> Iterator[Scene]:
    with TestClient(create_app(trained.settings())) as client:
        adviser = trained.key("adviser")
        person = person_of_caseload(trained)
        served = client.post("/shortlists", json={"candidate_id": person, "top_k": 3}, headers=adviser).json()
        url = f"/shortlists/{served['shortlist_id']}"
        decisions = [{"rank": 1, "decision": "accept"}, {"rank": 2, "decision": "accept"}]
        items = client.post(f"{url}/decisions", json={"decisions": decisions}, headers=adviser).json()["items"]
        plans = [items[0]["plan_id"], items[1]["plan_id"]]
        workplaces = [served["items"][0]["workplace_id"], served["items"][1]["workplace_id"]]
        employers = [client.get(f"/plans/{p}", headers=adviser).json()["draft"]["employer_id"] for p in plans]
        path = trained.home / "api-keys.json"
        keys = {
            "employer": add_key(path, Identity(name="pres-employer", role="employer", employer_id=employers[0])),
            "employer_2": add_key(path, Identity(name="pres-employer-2", role="employer", employer_id=employers[1])),
            "specialist": add_key(path, Identity(name=SPECIALIST, role="job_specialist")),
            "other_specialist": add_key(path, Identity(name=OTHER_SPECIALIST, role="job_specialist")),
        }
        client.app.state.api_keys = load_keys(path)
        engine = make_engine(trained.settings().database_url)
        with session_scope(engine) as session:
            before = [job_specialist_of(session, w) for w in workplaces]
            set_job_specialist(session, workplaces[0], SPECIALIST)
            set_job_specialist(session, workplaces[1], OTHER_SPECIALIST)
        try:
            yield Scene(client, person, url, workplaces, plans, keys)
        finally:
            with session_scope(engine) as session:
                for workplace, specialist in zip(workplaces, before, strict=True):
                    set_job_specialist(session, workplace, specialist)
            engine.dispose()


def employer_statuses(scene: Scene, plan_id: int, placement_id: int | None, who: str = "employer") -> set[int]:
    """What the employer gets for the plan and the placement, through the JSON API and the page."""
    client, header = scene.client, scene.header(who)
    statuses = {
        client.get(f"/plans/{plan_id}", headers=header).status_code,
        client.post(
            f"/plans/{plan_id}/approvals", json={"party": "employer", "revision": 1}, headers=header
        ).status_code,
    }
    if placement_id is not None:
        statuses.add(client.get(f"/placements/{placement_id}", headers=header).status_code)
        body = {"kind": "contacted"}
        statuses.add(client.post(f"/placements/{placement_id}/events", json=body, headers=header).status_code)
    page = browser(client.app)
    csrf = log_in(page, scene.keys[who])
    statuses.add(page.get(f"/app/plans/{plan_id}").status_code)
    form = {"csrf_token": csrf, "revision": "1"}
    statuses.add(page.post(f"/app/plans/{plan_id}/approvals", data=form).status_code)
    return statuses


def present(scene: Scene, rank: int, who: dict[str, str]) -> Any:
    body = {"candidate_id": scene.person, "workplace_id": scene.workplaces[rank - 1]}
    return scene.client.post("/presentations", json=body, headers=who)


def test_the_employer_sees_the_person_only_after_interest_and_presentation(scene: Scene, trained: Any) -> None:
    adviser = trained.key("adviser")
    plan_id = scene.plans[0]
    # no answer yet: the plan does not exist for the employer, in the API and on the page
    assert employer_statuses(scene, plan_id, None) == {404}
    assert present(scene, 1, adviser).status_code == 409  # presenting needs the person's interest
    assert present(scene, 1, scene.header("specialist")).status_code == 409
    # interested, not presented: still 404
    scene.answer(1, "interested", adviser)
    assert employer_statuses(scene, plan_id, None) == {404}
    presented = scene.client.get(f"/workplaces/{scene.workplaces[0]}/presented", headers=scene.header("employer"))
    assert presented.status_code == 200 and presented.json()["persons"] == []

    # a job specialist of another workplace cannot present; another adviser's caseload cannot either
    assert present(scene, 1, scene.header("other_specialist")).status_code == 403
    assert present(scene, 1, trained.key("other_adviser")).status_code == 403
    assert present(scene, 1, scene.header("employer")).status_code == 403  # not the employer's to do
    first = present(scene, 1, scene.header("specialist"))
    assert first.status_code == 200, first.text
    again = present(scene, 1, adviser)  # idempotent: the first presentation stays
    assert again.status_code == 200 and again.json()["presentation_id"] == first.json()["presentation_id"]
    assert again.json()["presented_by"] == SPECIALIST

    # now the employer sees the person (ids and plan ids only) and the plan, and approves it
    listed = scene.client.get(f"/workplaces/{scene.workplaces[0]}/presented", headers=scene.header("employer"))
    assert listed.status_code == 200
    assert [(p["candidate_id"], p["plan_ids"]) for p in listed.json()["persons"]] == [(scene.person, [plan_id])]
    assert set(listed.json()["persons"][0]) == {"candidate_id", "presented_at", "plan_ids"}  # never a score
    other = scene.client.get(f"/workplaces/{scene.workplaces[0]}/presented", headers=scene.header("other_specialist"))
    assert other.status_code == 403
    assert scene.client.get(f"/plans/{plan_id}", headers=scene.header("employer")).status_code == 200
    page = browser(scene.client.app)
    csrf = log_in(page, scene.keys["employer"])
    shown = page.get(f"/app/employer?workplace_id={scene.workplaces[0]}")
    assert shown.status_code == 200 and scene.person in shown.text and f"/app/plans/{plan_id}" in shown.text
    assert "score" not in shown.text.lower()
    assert page.get(f"/app/plans/{plan_id}").status_code == 200
    approved = page.post(f"/app/plans/{plan_id}/approvals", data={"csrf_token": csrf, "revision": "1"})
    assert approved.status_code == 200, approved.text
    for party in ("person", "adviser"):
        body = {"party": party, "revision": 1}
        agreed = scene.client.post(f"/plans/{plan_id}/approvals", json=body, headers=adviser)
        assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed"] and agreed.json()["approvals"][1]["approved_by"] == "pres-employer"
    placement_id = agreed.json()["placement_id"]
    contacted = scene.client.post(f"/placements/{placement_id}/events", json={"kind": "contacted"}, headers=adviser)
    assert contacted.status_code == 200
    assert scene.client.get(f"/placements/{placement_id}", headers=scene.header("employer")).status_code == 200

    # the person changes their mind: from the employer's side the person is gone again
    scene.answer(1, "not_interested", adviser)
    assert employer_statuses(scene, plan_id, placement_id) == {404}
    assert scene.client.get(f"/placements/{placement_id}", headers=adviser).status_code == 200  # advisers unchanged
    gone = scene.client.get(f"/workplaces/{scene.workplaces[0]}/presented", headers=scene.header("employer"))
    assert gone.json()["persons"] == []

    engine = make_engine(trained.settings().database_url)
    with session_scope(engine, readonly=True) as session:
        entries = [e for e in query_audit(session, subject_id=scene.person) if e.action == "present"]
    engine.dispose()
    assert entries and all(set(e.detail or {}) == {"workplace_id", "presentation_id"} for e in entries)


def test_a_placement_of_a_person_interested_but_not_presented_is_404(scene: Scene, trained: Any) -> None:
    """A placement the store holds from before presentations were recorded: the employer sees it
    only once the person is presented."""
    plan_id = scene.plans[1]
    scene.answer(2, "interested", trained.key("adviser"))
    engine = make_engine(trained.settings().database_url)
    with session_scope(engine) as session:
        for party in ("person", "employer", "adviser"):
            approve_plan(session, plan_id, 1, party, "an earlier store")
        placement_id = open_placement(session, plan_id)
    engine.dispose()
    assert employer_statuses(scene, plan_id, placement_id, "employer_2") == {404}
    assert present(scene, 2, scene.header("specialist")).status_code == 403  # not the specialist's workplace
    assert present(scene, 2, scene.header("other_specialist")).status_code == 200
    assert scene.client.get(f"/plans/{plan_id}", headers=scene.header("employer_2")).status_code == 200
    assert scene.client.get(f"/placements/{placement_id}", headers=scene.header("employer_2")).status_code == 200


def test_an_old_key_file_with_employer_contact_still_loads(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keys.json"
    add_key(path, Identity(name="kari", role="employer", employer_id="E1"))
    path.write_text(path.read_text(encoding="utf-8").replace('"employer"', '"employer_contact"'), encoding="utf-8")
    with caplog.at_level("INFO", logger="jobmatch.serving"):
        keys = load_keys(path)
    assert [(i.name, i.role, i.employer_id) for i in keys.values()] == [("kari", "employer", "E1")]
    notice = [r.getMessage() for r in caplog.records if "employer_contact" in r.getMessage()]
    assert len(notice) == 1 and "kari" not in notice[0] and "E1" not in notice[0]


def test_an_employer_key_needs_its_employer(tmp_path: Any) -> None:
    from serving.auth import KeyFileError

    with pytest.raises(KeyFileError, match="--employer-id"):
        add_key(tmp_path / "keys.json", Identity(name="kari", role="employer"))
