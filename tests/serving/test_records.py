"""Records through the service: persons and workplaces registered and changed by the API, checked
by the contract's own rules, audited without their values, and used by the very next shortlist in
another worker on the same store without a restart; slots taken by a trial that starts and given
back when it ends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from matching.candidates import workplaces_with_history
from matching.store.contract import load_folder
from matching.store.db import make_engine
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_review import own_candidate


@pytest.fixture(scope="module")
def workers(trained, tmp_path_factory):
    """Two API workers (two apps in one process) sharing their own SQLite store."""
    home = tmp_path_factory.mktemp("records")
    settings = trained.settings(database_url=f"sqlite:///{home / 'store.db'}")
    keys = trained.home / "api-keys.json"
    specialists = {
        name: add_key(keys, Identity(name=f"test-{name}", role="job_specialist")) for name in ("specialist", "other")
    }
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        for client in (one, two):
            client.app.state.api_keys = load_keys(keys)
        yield one, two, {name: {"Authorization": f"Bearer {key}"} for name, key in specialists.items()}


def shortlist(client, trained, top_k: int = 5) -> dict:
    response = client.post(
        "/shortlists", json={"candidate_id": own_candidate(trained), "top_k": top_k}, headers=trained.key("adviser")
    )
    assert response.status_code == 200, response.text
    return response.json()


def copy_of_best(one, two, trained, specialist, new_id: str, **changes: object) -> dict:
    """A new workplace registered through worker one: the person's best suggestion under a new id."""
    best = shortlist(two, trained)["items"][0]["workplace_id"]
    record = one.get(f"/workplaces/{best}", headers=specialist).json()["record"]
    # the served history is the recorded counts plus the workplace's outcomes, which a new id has
    # none of: the copy carries the best's whole history in its counts
    history = workplaces_with_history(trained.dataset.workplaces, trained.dataset.outcomes)
    counts = history.set_index("workplace_id").loc[best, ["past_placements", "past_hires"]]
    record |= {"workplace_id": new_id, **{k: int(v) for k, v in counts.items()}, **changes}
    created = one.post("/workplaces", json=record, headers=specialist)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/workplaces/{new_id}"
    return record


def test_a_new_workplace_is_in_the_next_shortlist_of_another_worker(workers, trained):
    one, two, specialists = workers
    before = shortlist(two, trained)
    copy_of_best(one, two, trained, specialists["specialist"], "live-new-1")
    after = shortlist(two, trained)  # the other worker, no restart
    assert after["eligible_workplaces"] == before["eligible_workplaces"] + 1
    assert "live-new-1" in [i["workplace_id"] for i in after["items"][:2]], "as good as the best: at its side"

    closed = one.patch("/workplaces/live-new-1", json={"active": False}, headers=specialists["specialist"])
    assert closed.status_code == 200 and closed.json()["changed"] == ["active"]
    again = shortlist(two, trained)
    assert again["eligible_workplaces"] == before["eligible_workplaces"]
    assert "live-new-1" not in [i["workplace_id"] for i in again["items"]]


def test_a_worker_knows_at_once_when_another_has_changed_the_store(workers, trained):
    """A request's state is checked on the event loop (`current_at_once`): it must see another
    worker's change, so that the change is read before the request is served."""
    one, two, specialists = workers
    shortlist(two, trained)
    state = two.app.state.service
    assert state.current_at_once(), "nothing changed since its last request"
    copy_of_best(one, two, trained, specialists["specialist"], "live-new-at-once")
    assert not state.current_at_once(), "worker one's new workplace is not yet served by worker two"
    assert "live-new-at-once" in [i["workplace_id"] for i in shortlist(two, trained, top_k=50)["items"]]
    assert state.current_at_once()


def test_withdrawn_consent_stops_matching_in_every_worker(workers, trained):
    one, two, _ = workers
    adviser = trained.key("adviser")
    person = own_candidate(trained)
    assert two.post("/shortlists", json={"candidate_id": person}, headers=adviser).status_code == 200
    withdrawn = one.patch(f"/candidates/{person}", json={"consent": False}, headers=adviser)
    assert withdrawn.status_code == 200 and withdrawn.json()["changed"] == ["consent"]
    assert two.post("/shortlists", json={"candidate_id": person}, headers=adviser).status_code == 409
    assert one.patch(f"/candidates/{person}", json={"consent": True}, headers=adviser).status_code == 200
    assert two.post("/shortlists", json={"candidate_id": person}, headers=adviser).status_code == 200


def test_a_registered_person_can_be_shortlisted_at_once(workers, trained):
    one, two, _ = workers
    adviser = trained.key("adviser")
    record = one.get(f"/candidates/{own_candidate(trained)}", headers=adviser).json()["record"]
    record = {**record, "candidate_id": "live-person-1"}
    del record["adviser_id"]  # an adviser's own caseload by default
    created = one.post("/candidates", json=record, headers=adviser)
    assert created.status_code == 201, created.text
    assert (
        created.json()["record"]["adviser_id"]
        == trained.dataset.candidates.loc[
            trained.dataset.candidates["candidate_id"] == own_candidate(trained), "adviser_id"
        ].iloc[0]
    )
    served = two.post("/shortlists", json={"candidate_id": "live-person-1", "top_k": 3}, headers=adviser)
    assert served.status_code == 200 and len(served.json()["items"]) == 3
    assert one.post("/candidates", json=record, headers=adviser).status_code == 409, "registered already"


def test_bad_records_are_refused_naming_the_field_and_nothing_is_saved(workers, trained):
    one, _, specialists = workers
    adviser = trained.key("adviser")
    person = own_candidate(trained)
    stored = one.get(f"/candidates/{person}", headers=adviser).json()["record"]
    bad = one.patch(f"/candidates/{person}", json={"max_commute_km": -3.0, "desired_hours": 20.0}, headers=adviser)
    assert bad.status_code == 422 and "max_commute_km" in bad.text
    unknown_code = one.patch(f"/candidates/{person}", json={"preferred_occupations": ["99999"]}, headers=adviser)
    assert unknown_code.status_code == 422 and "preferred_occupations" in unknown_code.text
    extra = one.patch(f"/candidates/{person}", json={"age": 40}, headers=adviser)
    assert extra.status_code == 422 and "age" in extra.text, "no field outside the contract, no age"
    assert one.get(f"/candidates/{person}", headers=adviser).json()["record"] == stored

    record = dict(stored)
    hires = one.post(
        "/workplaces",
        json={
            **workplace_like(one, specialists["specialist"]),
            "workplace_id": "live-bad",
            "past_hires": 9,
            "past_placements": 2,
        },
        headers=specialists["specialist"],
    )
    assert hires.status_code == 422 and "past_hires" in hires.text
    assert one.get("/workplaces/live-bad", headers=specialists["specialist"]).status_code == 404
    assert record == stored


def workplace_like(client, specialist) -> dict:
    """Any stored workplace's record (to build a new one from)."""
    first = client.app.state.service.pool.frame["workplace_id"].iloc[0]
    return client.get(f"/workplaces/{first}", headers=specialist).json()["record"]


def test_who_may_change_what(workers, trained):
    one, _, specialists = workers
    adviser, other_adviser = trained.key("adviser"), trained.key("other_adviser")
    person = own_candidate(trained)
    assert one.patch(f"/candidates/{person}", json={"desired_hours": 20.0}, headers=other_adviser).status_code == 403
    assert (
        one.patch(f"/candidates/{person}", json={"desired_hours": 20.0}, headers=specialists["specialist"]).status_code
        == 403
    )
    assert (
        one.post("/workplaces", json=workplace_like(one, specialists["specialist"]), headers=adviser).status_code == 403
    )
    record = {**workplace_like(one, specialists["specialist"]), "workplace_id": "live-owned"}
    assert one.post("/workplaces", json=record, headers=specialists["specialist"]).status_code == 201
    assert one.patch("/workplaces/live-owned", json={"slots": 2}, headers=specialists["other"]).status_code == 403
    assert one.patch("/workplaces/live-owned", json={"slots": 2}, headers=specialists["specialist"]).status_code == 200
    assert one.patch("/candidates/nobody", json={"desired_hours": 20.0}, headers=adviser).status_code == 404


def test_changes_are_audited_by_field_name_never_by_value(workers, trained):
    one, _, _ = workers
    person = own_candidate(trained)
    assert (
        one.patch(f"/candidates/{person}", json={"max_commute_km": 41.5}, headers=trained.key("adviser")).status_code
        == 200
    )
    entries = one.get("/audit", params={"subject_id": person}, headers=trained.key("dpo")).json()
    update = [e for e in entries if e["action"] == "update_candidate"][-1]
    assert update["detail"] == {"fields": ["max_commute_km"]}
    assert "41.5" not in str(entries)


def test_the_root_takes_a_browser_to_the_page(workers):
    one, _, _ = workers
    response = one.get("/?lang=en", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/app?lang=en"


def test_a_trial_takes_a_slot_and_an_end_gives_it_back(workers, trained):
    one, two, specialists = workers
    adviser = trained.key("adviser")
    copy_of_best(one, two, trained, specialists["specialist"], "live-one-slot", slots=1, employer_id="live-employer")
    served = shortlist(one, trained, top_k=5)  # one slot scores a little lower than the original's
    rank = next(i["rank"] for i in served["items"] if i["workplace_id"] == "live-one-slot")
    url = f"/shortlists/{served['shortlist_id']}"
    decided = one.post(f"{url}/decisions", json={"decisions": [{"rank": rank, "decision": "accept"}]}, headers=adviser)
    plan_id = next(i["plan_id"] for i in decided.json()["items"] if i["rank"] == rank)
    keys = trained.home / "api-keys.json"
    employer_key = add_key(keys, Identity(name="test-live-employer", role="employer", employer_id="live-employer"))
    for client in (one, two):
        client.app.state.api_keys = load_keys(keys)
    employer = {"Authorization": f"Bearer {employer_key}"}
    one.post(f"{url}/answers", json={"answers": [{"rank": rank, "answer": "interested"}]}, headers=adviser)
    presenting = {"candidate_id": served["candidate_id"], "workplace_id": "live-one-slot"}
    assert one.post("/presentations", json=presenting, headers=specialists["specialist"]).status_code == 200
    for party, who in (("person", adviser), ("adviser", adviser), ("employer", employer)):
        agreed = one.post(f"/plans/{plan_id}/approvals", json={"party": party, "revision": 1}, headers=who)
        assert agreed.status_code == 200, agreed.text
    placement = f"/placements/{agreed.json()['placement_id']}"
    assert one.post(f"{placement}/events", json={"kind": "contacted"}, headers=adviser).status_code == 200

    started = one.post(f"{placement}/events", json={"kind": "trial_started"}, headers=employer)
    assert started.status_code == 200, started.text
    slots = one.get("/workplaces/live-one-slot", headers=specialists["specialist"]).json()["record"]["slots"]
    assert slots == 0
    full = shortlist(two, trained)  # the other worker: no free slot, so no longer a suggestion
    assert "live-one-slot" not in [i["workplace_id"] for i in full["items"]]

    ended = one.post(f"{placement}/events", json={"kind": "ended", "reason": "moved"}, headers=adviser)
    assert ended.status_code == 200, ended.text
    assert one.get("/workplaces/live-one-slot", headers=specialists["specialist"]).json()["record"]["slots"] == 1
    assert "live-one-slot" in [i["workplace_id"] for i in shortlist(two, trained)["items"]]


def test_a_load_after_a_live_edit_wins_and_the_trail_holds_both(workers, trained):
    one, two, specialists = workers
    specialist, dpo = specialists["specialist"], trained.key("dpo")
    workplace = str(trained.dataset.workplaces["workplace_id"].iloc[0])
    in_file = int(trained.dataset.workplaces["slots"].iloc[0])
    edited = one.patch(f"/workplaces/{workplace}", json={"slots": in_file + 3}, headers=specialist)
    assert edited.status_code == 200 and edited.json()["record"]["slots"] == in_file + 3

    engine = make_engine(one.app.state.service.settings.database_url)
    try:
        report = load_folder(engine, trained.data_dir)  # the upstream file, loaded later
    finally:
        engine.dispose()
    assert report.tables["workplaces"].updated >= 1
    assert two.get(f"/workplaces/{workplace}", headers=specialist).json()["record"]["slots"] == in_file
    trail = one.get("/audit", params={"subject_id": workplace}, headers=dpo).json()
    actions = [e["action"] for e in sorted(trail, key=lambda e: e["at"])]
    assert actions.index("update_workplace") < actions.index("load_workplace"), actions


def test_a_display_name_is_kept_in_the_store_only(workers, trained):
    one, two, _ = workers
    adviser, dpo = trained.key("adviser"), trained.key("dpo")
    person = own_candidate(trained)
    named = one.patch(f"/candidates/{person}", json={"display_name": "  Kari Nordmann "}, headers=adviser)
    assert named.status_code == 200, named.text
    assert named.json()["display_name"] == "Kari Nordmann" and named.json()["changed"] == ["display_name"]
    assert "display_name" not in named.json()["record"], "not a field of the contract"
    assert two.get(f"/candidates/{person}", headers=adviser).json()["display_name"] == "Kari Nordmann"
    assert two.post("/shortlists", json={"candidate_id": person}, headers=adviser).status_code == 200
    trail = one.get("/audit", params={"subject_id": person}, headers=dpo).json()
    assert "Kari" not in str(trail) and ["display_name"] in [e["detail"].get("fields") for e in trail]
    too_long = one.patch(f"/candidates/{person}", json={"display_name": "x" * 101}, headers=adviser)
    assert too_long.status_code == 422 and "display_name" in too_long.text
    cleared = one.patch(f"/candidates/{person}", json={"display_name": ""}, headers=adviser)
    assert cleared.status_code == 200 and cleared.json()["display_name"] is None


def test_the_workplace_tutor_is_named_in_the_plans_drafted_there(workers, trained):
    one, two, specialists = workers
    specialist, adviser, dpo = specialists["specialist"], trained.key("adviser"), trained.key("dpo")
    copy_of_best(one, two, trained, specialist, "live-tutor", tutor_name=" Ola Hansen ")
    stored = two.get("/workplaces/live-tutor", headers=specialist).json()
    assert stored["tutor_name"] == "Ola Hansen" and "tutor_name" not in stored["record"], "beside the contract"
    served = shortlist(two, trained, top_k=10)
    rank = next(i["rank"] for i in served["items"] if i["workplace_id"] == "live-tutor")
    url = f"/shortlists/{served['shortlist_id']}/decisions"
    decided = one.post(url, json={"decisions": [{"rank": rank, "decision": "accept"}]}, headers=adviser)
    plan_id = next(i["plan_id"] for i in decided.json()["items"] if i["rank"] == rank)
    plan = one.get(f"/plans/{plan_id}", headers=adviser).json()
    assert plan["draft"]["tutor_name"] == "Ola Hansen"
    assert all("tutor" not in point for point in plan["draft"]["open_points"]), "named: no longer an open point"

    renamed = one.patch("/workplaces/live-tutor", json={"tutor_name": "Kari Berg"}, headers=specialist)
    assert renamed.status_code == 200 and renamed.json()["changed"] == ["tutor_name"]
    trail = one.get("/audit", params={"subject_id": "live-tutor"}, headers=dpo).json()
    assert ["tutor_name"] in [e["detail"].get("fields") for e in trail]
    assert "Kari" not in str(trail) and "Ola" not in str(trail), "the trail names the field, never the name"
    refused = one.patch("/workplaces/live-tutor", json={"tutor_name": "x" * 101}, headers=specialist)
    assert refused.status_code == 422 and "tutor_name" in refused.text
    other = one.patch("/workplaces/live-tutor", json={"tutor_name": "Per"}, headers=specialists["other"])
    assert other.status_code == 403
    assert two.get("/workplaces/live-tutor", headers=specialist).json()["tutor_name"] == "Kari Berg"
