"""The person's rights through the API: their latest suggestions explained in plain Norwegian or
English (for their own adviser or the data-protection officer), everything held about them as
JSON, and erasure: gone from every table but for pseudonymised audit entries, no longer served,
and not brought back by loading the same data again."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Text, cast, func, or_, select

from jobmatch import main
from matching import plain
from matching.records import load_catalogue
from matching.settings import Settings, get_settings
from matching.store.contract import load_folder
from matching.store.db import make_engine, session_scope
from matching.store.models import Base
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys

KEY = "rights-test-pseudonym-key"


@pytest.fixture(scope="module")
def settings(trained, tmp_path_factory):
    """The trained model and data, with a store of its own (erasures must not reach other modules)."""
    home = tmp_path_factory.mktemp("rights")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOBMATCH_PSEUDONYM_KEY", KEY)  # loads (get_settings) and erasures use the same key
        get_settings.cache_clear()
        yield Settings(
            data_dir=trained.data_dir,
            tracking_uri=trained.tracking_uri,
            database_url=f"sqlite:///{home / 'rights.db'}",
            api_keys_file=trained.home / "api-keys.json",
        )
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


def caseload(trained, who: str = "adviser") -> list[str]:
    """The consenting, active candidates of the test adviser (or the other one), in dataset order."""
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = eligible["adviser_id"].drop_duplicates().iloc[{"adviser": 0, "other_adviser": 1}[who]]
    return eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].astype(str).tolist()


def shortlist_for(client, trained, candidate_id: str, top_k: int = 3) -> dict:
    served = client.post(
        "/shortlists", json={"candidate_id": candidate_id, "top_k": top_k}, headers=trained.key("adviser")
    )
    assert served.status_code == 200, served.text
    return served.json()


def rows_naming(url: str, text: str) -> dict[str, int]:
    """Table -> rows holding `text` in any column, over every table of the store."""
    engine = make_engine(url)
    found = {}
    try:
        with session_scope(engine, readonly=True) as session:
            for table in Base.metadata.sorted_tables:
                condition = or_(*[cast(column, Text).contains(text, autoescape=True) for column in table.c])
                count = session.scalar(select(func.count()).select_from(table).where(condition))
                if count:
                    found[table.name] = count
    finally:
        engine.dispose()
    return found


def test_the_explanation_in_norwegian_says_why_what_data_and_who_decides(client, trained):
    person = caseload(trained)[0]
    served = shortlist_for(client, trained, person)
    response = client.get(f"/candidates/{person}/explanation", headers=trained.key("adviser"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lang"] == "no" and body["title"] == "Jobbforslagene dine, forklart"
    assert body["shortlist_id"] == served["shortlist_id"]
    assert body["made_by"]["model_version"] == served["model"]["version"]
    assert (
        body["made_by"]["model_name"] == served["model"]["name"] and body["made_by"]["requested_by"] == "test-adviser"
    )
    assert "dataprogram" in body["made_by"]["sentence"] and served["model"]["version"] in body["made_by"]["sentence"]

    titles = load_catalogue().occupations.set_index("occupation_code")["title_no"]
    assert [s["rank"] for s in body["suggestions"]] == [i["rank"] for i in served["items"]]
    for suggestion, item in zip(body["suggestions"], served["items"], strict=True):
        assert suggestion["workplace_id"] == item["workplace_id"]
        assert suggestion["occupation"] == titles[item["occupation_code"]]
        assert suggestion["summary"].startswith(f"Forslag {item['rank']}: {suggestion['occupation']}")
        explanation = item["explanation"]
        for side, positive in (("speaks_for", True), ("speaks_against", False)):
            assert [r["feature"] for r in suggestion[side]] == [r["feature"] for r in explanation[side]]
            for reason in suggestion[side]:
                assert reason["sentence"] == plain.reason_sentence(reason["feature"], positive, "no")
                assert not re.search(r"\d", reason["sentence"]) and "_" not in reason["sentence"]
        assert suggestion["workplace_gives"] == [
            plain.SUPPORTS[s["support"]]["no"] for s in explanation["support_needs_met"]
        ]
        assert suggestion["training"] == [
            plain.ACTIVITIES[t["task"]]["no"] for t in explanation["tasks_needing_training"]
        ]
        unmet = [plain.SUPPORTS[s["support"]]["no"] for s in explanation["support_needs_unmet"]]
        assert suggestion["arranged_elsewhere"] == unmet
    assert any(s["speaks_for"] for s in body["suggestions"])

    groups = {g["group"]: g for g in body["data_used"]}
    assert {"skills", "interests", "support_needs", "tolerances", "travel", "hours"} <= set(groups)
    assert groups["skills"]["label"] == "dine ferdigheter i arbeidsoppgaver"
    assert groups["support_needs"]["label"].startswith("støttebehovene dine")
    assert groups["travel"]["label"] == "hvor du bor og hvor langt du kan reise"
    fields = {f["field"]: f for g in body["data_used"] for f in g["fields"]}
    record = trained.dataset.candidates.set_index("candidate_id").loc[person]
    for column in ("skill_caring", "needs_mentor", "tolerance_stress", "max_commute_km", "desired_hours", "lat"):
        assert fields[column]["value"] == pytest.approx(float(record[column])), column  # their own data
    assert not {"age_band", "gender", "candidate_id", "adviser_id"} & set(fields)
    assert not re.search(r"\b(age|age_band|gender|alder\w*|kjønn\w*)\b", str(groups), re.IGNORECASE)
    assert {"alderen din", "kjønnet ditt"} <= set(body["not_used"])
    assert any("diagnoser" in item for item in body["not_used"])
    assert "veilederen din som bestemmer" in body["adviser_decides"]
    assert "rettet" in body["rights"] and "slettet" in body["rights"]
    if trained.dataset.audit is not None and person in set(trained.dataset.audit["candidate_id"]):
        assert any("rettferdige" in note for note in body["notes"])

    trail = client.get("/audit", params={"subject_id": person}, headers=trained.key("dpo")).json()
    reads = [e for e in trail if e["action"] == "read_explanation"]
    assert reads and reads[-1]["detail"] == {"shortlist_id": served["shortlist_id"], "lang": "no"}


def test_the_explanation_in_english_for_the_data_protection_officer(client, trained):
    person = caseload(trained)[1]
    served = shortlist_for(client, trained, person, top_k=2)
    body = client.get(f"/candidates/{person}/explanation", params={"lang": "en"}, headers=trained.key("dpo")).json()
    assert body["lang"] == "en" and body["title"] == "Your job suggestions, explained"
    assert len(body["suggestions"]) == len(served["items"])
    for suggestion in body["suggestions"]:
        assert suggestion["summary"].startswith(f"Suggestion {suggestion['rank']}: ")
        for reason in suggestion["speaks_for"]:
            assert reason["sentence"] == plain.reason_sentence(reason["feature"], True, "en")
    labels = {g["group"]: g["label"] for g in body["data_used"]}
    assert (
        labels["skills"] == "your skills in work tasks"
        and labels["travel"] == "where you live and how far you can travel"
    )
    assert {"your age", "your gender"} <= set(body["not_used"])
    assert "Your adviser decides" in body["adviser_decides"] and "deleted" in body["rights"]
    assert (
        client.get(f"/candidates/{person}/explanation", params={"lang": "de"}, headers=trained.key("dpo")).status_code
        == 422
    )


def test_the_explanation_is_for_the_persons_own_adviser_and_needs_a_shortlist(client, trained):
    theirs = caseload(trained, "other_adviser")[0]
    client.post("/shortlists", json={"candidate_id": theirs}, headers=trained.key("other_adviser"))
    url = f"/candidates/{theirs}/explanation"
    assert client.get(url, headers=trained.key("other_adviser")).status_code == 200
    assert client.get(url, headers=trained.key("adviser")).status_code == 403
    assert client.get(url, headers=trained.key("batch")).status_code == 403
    assert client.get(url).status_code == 401
    unshortlisted = caseload(trained)[2]
    response = client.get(f"/candidates/{unshortlisted}/explanation", headers=trained.key("adviser"))
    assert response.status_code == 404 and "no shortlist has been made" in response.json()["detail"]
    assert client.get("/candidates/SYN-NOBODY/explanation", headers=trained.key("dpo")).status_code == 404


def record_the_whole_loop(client, trained, person: str) -> dict:
    """Shortlist, answers, decisions, plan (revised, approved by all three), placement, event, follow-up."""
    adviser = trained.key("adviser")
    served = shortlist_for(client, trained, person, top_k=2)
    url = f"/shortlists/{served['shortlist_id']}"
    client.post(f"{url}/answers", json={"answers": [{"rank": 1, "answer": "interested"}]}, headers=adviser)
    decisions = [{"rank": 1, "decision": "accept"}, {"rank": 2, "decision": "reject", "reason_code": "too_far"}]
    record = client.post(f"{url}/decisions", json={"decisions": decisions}, headers=adviser).json()
    plan_id = record["items"][0]["plan_id"]
    revised = client.post(f"/plans/{plan_id}/revisions", json={"changes": {"tutor_name": "Ola Tutor"}}, headers=adviser)
    assert revised.status_code == 200, revised.text
    employer_id = revised.json()["draft"]["employer_id"]
    keys = trained.home / "api-keys.json"
    presenting = {"candidate_id": person, "workplace_id": served["items"][0]["workplace_id"]}
    assert client.post("/presentations", json=presenting, headers=adviser).status_code == 200
    identity = Identity(name="rights-employer", role="employer", employer_id=employer_id)
    employer = {"Authorization": f"Bearer {add_key(keys, identity)}"}
    client.app.state.api_keys = load_keys(keys)
    for party, who in (("person", adviser), ("adviser", adviser), ("employer", employer)):
        after = client.post(f"/plans/{plan_id}/approvals", json={"party": party, "revision": 2}, headers=who)
        assert after.status_code == 200, after.text
    placement_id = after.json()["placement_id"]
    assert (
        client.post(f"/placements/{placement_id}/events", json={"kind": "contacted"}, headers=adviser).status_code
        == 200
    )
    due = client.get(f"/placements/{placement_id}", headers=adviser).json()
    assert due["stage"] == "contacted"
    return {"shortlist": served, "plan_id": plan_id, "placement_id": placement_id}


def test_export_then_erasure_then_nothing_comes_back(client, trained, settings):
    person = caseload(trained)[3]
    recorded = record_the_whole_loop(client, trained, person)
    client.get(f"/candidates/{person}/explanation", headers=trained.key("adviser"))
    dpo = trained.key("dpo")
    assert client.get(f"/candidates/{person}/export", headers=trained.key("adviser")).status_code == 403

    exported = client.get(f"/candidates/{person}/export", headers=dpo)
    assert exported.status_code == 200, exported.text
    record = exported.json()
    assert record["candidate"]["candidate_id"] == person and "needs_mentor" in record["candidate"]
    (shortlist,) = record["shortlists"]
    assert shortlist["id"] == recorded["shortlist"]["shortlist_id"] and len(shortlist["items"]) == 2
    first, second = shortlist["items"]
    assert first["features"] == recorded["shortlist"]["items"][0]["features"]
    assert first["answers"][0]["answer"] == "interested" and second["decisions"][0]["reason_code"] == "too_far"
    (plan,) = record["plans"]
    assert plan["id"] == recorded["plan_id"] and len(plan["revisions"]) == 2 and len(plan["approvals"]) == 3
    assert plan["revisions"][1]["body"]["tutor_name"] == "Ola Tutor"
    (placement,) = record["placements"]
    assert placement["id"] == recorded["placement_id"] and [e["kind"] for e in placement["events"]] == ["contacted"]
    assert placement["followups"] and all(f["done_on"] is None for f in placement["followups"])
    actions = {e["action"] for e in record["audit_trail"]}
    assert {"create_shortlist", "answer", "decide", "plan_revision", "approve_plan", "placement_event"} <= actions
    assert {"read_explanation", "export_person"} <= actions

    # the person is served before: a shortlist by id, and on the employer's side of a suggested workplace
    workplace = recorded["shortlist"]["items"][0]["workplace_id"]
    before = client.post(
        f"/workplaces/{workplace}/candidates", json={"top_k": 100}, headers=trained.key("batch")
    ).json()

    assert client.request("DELETE", f"/candidates/{person}", json={}, headers=dpo).status_code == 422  # a reason
    assert (
        client.request(
            "DELETE", f"/candidates/{person}", json={"reason": "x"}, headers=trained.key("adviser")
        ).status_code
        == 403
    )
    erased = client.request("DELETE", f"/candidates/{person}", json={"reason": "the person's request"}, headers=dpo)
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["pseudonym"].startswith("erased:") and person not in report["pseudonym"] and report["served"]
    assert report["rows_deleted"]["candidates"] == 1 and report["rows_deleted"]["shortlist_items"] == 2
    assert report["rows_deleted"]["placements"] == 1 and report["audit_entries_pseudonymised"] >= 8

    # nothing in the store names them any more; the audit trail keeps who did what, pseudonymised
    assert rows_naming(settings.database_url, person) == {}
    assert rows_naming(settings.database_url, "Ola Tutor") == {}
    assert client.get(f"/candidates/{person}/export", headers=dpo).status_code == 404
    assert client.get(f"/candidates/{person}/explanation", headers=dpo).status_code == 404
    assert (
        client.get(f"/shortlists/{recorded['shortlist']['shortlist_id']}", headers=trained.key("adviser")).status_code
        == 404
    )
    trail = client.get("/audit", params={"subject_id": report["pseudonym"]}, headers=dpo).json()
    assert {"create_shortlist", "decide", "export_person", "erase_person"} <= {e["action"] for e in trail}
    assert all(
        set(e["detail"] or {})
        <= {
            "shortlist_id",
            "plan_id",
            "placement_id",
            "items",
            "top_k",
            "model_version",
            "lang",
            "erasure_id",
            "rows_deleted",
            "audit_pseudonymised",
        }
        for e in trail
    )
    again = client.request("DELETE", f"/candidates/{person}", json={"reason": "again"}, headers=dpo)
    assert again.status_code == 409 and "already erased" in again.json()["detail"]

    # the running API no longer serves them, on either side
    assert client.post("/shortlists", json={"candidate_id": person}, headers=trained.key("adviser")).status_code == 404
    after = client.post(f"/workplaces/{workplace}/candidates", json={"top_k": 100}, headers=trained.key("batch")).json()
    assert person not in {i["candidate_id"] for i in after["items"]}
    assert after["eligible_candidates"] == before["eligible_candidates"] - 1

    # loading the same source data again does not bring them back
    engine = make_engine(settings.database_url)
    try:
        loaded = load_folder(engine, trained.data_dir)
    finally:
        engine.dispose()
    assert loaded.erased_ids == {person} and loaded.tables["candidates"].skipped_erased == 1
    assert main(["load", "--data", str(trained.data_dir), "--database-url", settings.database_url]) == 0
    assert rows_naming(settings.database_url, person) == {}
    assert client.get(f"/candidates/{person}/export", headers=dpo).status_code == 404

    # nor does a restarted API, whose dataset file still holds them
    with TestClient(create_app(settings)) as restarted:
        adviser = trained.key("adviser")
        assert restarted.post("/shortlists", json={"candidate_id": person}, headers=adviser).status_code == 404
        after = restarted.post(
            f"/workplaces/{workplace}/candidates", json={"top_k": 100}, headers=trained.key("batch")
        ).json()
        assert person not in {i["candidate_id"] for i in after["items"]}
        # and their full record posted again is refused, not stored
        record = trained.dataset.candidates.set_index("candidate_id").loc[person].to_dict()
        record = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}
        posted = restarted.post("/shortlists", json={"candidate": {**record, "candidate_id": person}}, headers=adviser)
        assert posted.status_code == 410, posted.text
    assert rows_naming(settings.database_url, person) == {}


def test_an_erasure_reason_of_blanks_is_a_422_naming_the_field(client, trained):
    person = caseload(trained)[4]
    refused = client.request("DELETE", f"/candidates/{person}", json={"reason": "\t "}, headers=trained.key("dpo"))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "reason"]
