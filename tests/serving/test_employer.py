"""The workplace's side: POST /workplaces/{id}/candidates ranks eligible persons for one opening with
the same model, scores and explanations as the adviser's side, and shows no personal field. It is
for the job specialist who works with the workplace (and batch); the employer gets 403."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient

from features.pairs import haversine_km
from matching.candidates import CandidatePool, CandidateTable, WorkplacePool, eligible_candidates
from matching.store.db import make_engine, session_scope
from matching.store.local_fields import job_specialist_of, set_job_specialist
from serving.app import create_app
from serving.auth import Identity, add_key

ITEM_KEYS = {"rank", "candidate_id", "distance_km", "score", "explanation"}
EXPLANATION_KEYS = {
    "speaks_for",
    "speaks_against",
    "supports_the_workplace_gives",
    "supports_to_arrange_elsewhere",
    "tasks_to_train",
}
AUDIT_KEYS = {"top_k", "eligible_candidates", "items", "model_version"}


@dataclass
class Openings:
    table: CandidateTable
    pool: WorkplacePool
    busy: str  # an open workplace with many eligible persons, the specialist's
    eligible: int  # how many
    other_employers: str  # an open workplace of another employer, not the specialist's
    inactive: str
    no_slot: str
    keys: dict[str, str]

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


@pytest.fixture(scope="module")
def openings(trained) -> Openings:
    table = CandidateTable.build(trained.dataset.candidates)
    pool = WorkplacePool(trained.dataset.workplaces)
    _, w_idx = pool.generate_pairs(table.arrays, eligible_candidates(table.frame))
    counts = np.bincount(w_idx, minlength=len(pool))
    frame = pool.frame
    busy = int(np.argmax(counts))
    employer = str(frame["employer_id"].iat[busy])
    others = np.flatnonzero(pool.is_open & (frame["employer_id"] != employer).to_numpy())
    inactive = np.flatnonzero(~frame["active"].to_numpy(dtype=bool))
    no_slot = np.flatnonzero(frame["active"].to_numpy(dtype=bool) & (pool.arrays["slots"] == 0))
    path = trained.home / "api-keys.json"  # written before this module's app starts
    keys = {
        "specialist": add_key(path, Identity(name=SPECIALIST, role="job_specialist")),
        "other_specialist": add_key(path, Identity(name="test-other-specialist", role="job_specialist")),
        "employer": add_key(path, Identity(name="test-employer", role="employer", employer_id=employer)),
    }
    ids = frame["workplace_id"]
    return Openings(
        table,
        pool,
        str(ids.iat[busy]),
        int(counts[busy]),
        str(ids.iat[others[0]]),
        str(ids.iat[inactive[0]]),
        str(ids.iat[no_slot[0]]),
        keys,
    )


SPECIALIST = "test-specialist"


@pytest.fixture(scope="module")
def client(trained, openings):
    """The app, with the job specialist working with the busy workplace (as before, afterwards)."""
    with TestClient(create_app(trained.settings())) as client:
        engine = make_engine(trained.settings().database_url)
        with session_scope(engine) as session:
            before = job_specialist_of(session, openings.busy)
            set_job_specialist(session, openings.busy, SPECIALIST)
        try:
            yield client
        finally:
            with session_scope(engine) as session:
                set_job_specialist(session, openings.busy, before)
            engine.dispose()


def candidates_for(client, workplace_id: str, headers: dict[str, str], top_k: object = 10):
    return client.post(f"/workplaces/{workplace_id}/candidates", json={"top_k": top_k}, headers=headers)


def test_a_ranked_explained_list_of_persons_without_personal_fields(client, openings, trained):
    response = candidates_for(client, openings.busy, openings.header("specialist"), top_k=7)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["version"] == trained.model.version and body["model"]["name"] == "jobmatch-ranker"
    assert body["workplace_id"] == openings.busy and body["eligible_candidates"] == openings.eligible
    items = body["items"]
    assert len(items) == 7 and [i["rank"] for i in items] == list(range(1, 8))
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert len({i["candidate_id"] for i in items}) == 7
    for item in items:
        assert set(item) == ITEM_KEYS  # no home, needs levels, age or gender: only the id and the match
        assert set(item["explanation"]) == EXPLANATION_KEYS
        supports = (
            item["explanation"]["supports_the_workplace_gives"] + item["explanation"]["supports_to_arrange_elsewhere"]
        )
        assert all(set(s) == {"support", "description"} for s in supports), "not how strong a need is"
        assert all(set(t) == {"task", "required_level"} for t in item["explanation"]["tasks_to_train"]), "no skills"
        assert all(r["contribution"] > 0 for r in item["explanation"]["speaks_for"])
        assert all(r["contribution"] < 0 for r in item["explanation"]["speaks_against"])
    assert any(item["explanation"]["speaks_for"] or item["explanation"]["speaks_against"] for item in items)


def test_a_pair_has_the_same_score_and_explanation_from_either_side(client, openings, trained):
    items = candidates_for(client, openings.busy, openings.header("specialist"), top_k=20).json()["items"]
    scoring = client.app.state.service.scoring()  # the records served now (the job specialist changed one)
    matcher, positions = scoring.matcher, scoring.served.positions
    w = scoring.served.workplace_positions[openings.busy]
    for item in items:
        scored = matcher.score_rows(np.array([positions[item["candidate_id"]]]))
        (pos,) = np.flatnonzero(scored.w_idx == w)
        np.testing.assert_allclose(item["score"], scored.scores[pos], rtol=1e-12)
        assert item["distance_km"] == round(float(scored.distance_km[pos]), 2)
    # and through the adviser's endpoint: the same pair, the same score and explanation
    first = items[0]
    adviser_side = client.post(
        "/shortlists", json={"candidate_id": first["candidate_id"], "top_k": 100}, headers=trained.key("batch")
    ).json()["items"]
    same = next(i for i in adviser_side if i["workplace_id"] == openings.busy)
    np.testing.assert_allclose(same["score"], first["score"], rtol=1e-12)
    model_reasons = [r for r in same["explanation"]["speaks_against"] if r["feature"] != "congestion"]
    assert same["explanation"]["speaks_for"] == first["explanation"]["speaks_for"]
    assert model_reasons == first["explanation"]["speaks_against"]
    employer_side, adviser = first["explanation"], same["explanation"]
    assert employer_side["supports_the_workplace_gives"] == [
        {"support": s["support"], "description": s["description"]} for s in adviser["support_needs_met"]
    ]
    assert employer_side["supports_to_arrange_elsewhere"] == [
        {"support": s["support"], "description": s["description"]} for s in adviser["support_needs_unmet"]
    ]
    assert employer_side["tasks_to_train"] == [
        {"task": t["task"], "required_level": t["required_level"]} for t in adviser["tasks_needing_training"]
    ]


def test_every_listed_person_is_eligible(client, openings, trained):
    body = candidates_for(client, openings.busy, headers=trained.key("batch"), top_k=100).json()
    assert len(body["items"]) == min(100, openings.eligible)
    frame = openings.table.frame.set_index("candidate_id")
    workplace = openings.pool.frame.set_index("workplace_id").loc[openings.busy]
    vocabulary = openings.pool.catalogue.vocabulary
    supports = [s for s in vocabulary.supports if not vocabulary.support_system_can_arrange(s)]
    for item in body["items"]:
        person = frame.loc[item["candidate_id"]]
        assert bool(person["consent"]) and bool(person["active"])
        distance = haversine_km(person["lat"], person["lon"], workplace["lat"], workplace["lon"])
        assert distance <= person["max_commute_km"] + 1e-9
        assert item["distance_km"] == pytest.approx(distance, abs=0.006)
        for support in supports:  # never someone who requires a support only the workplace could give
            assert person[f"needs_{support}"] < 2 or bool(workplace[f"offers_{support}"])


def test_the_reverse_index_finds_exactly_the_pairs_of_the_persons_side(openings):
    """For every open workplace, both with and without the required-support rule."""
    table, pool = openings.table, openings.pool
    index = CandidatePool(table)
    rows = eligible_candidates(table.frame)
    for exclude in (True, False):
        c_idx, w_idx = pool.generate_pairs(table.arrays, rows, exclude)
        order = np.argsort(w_idx, kind="stable")
        starts = np.searchsorted(w_idx[order], np.arange(len(pool) + 1))
        for w in range(len(pool)):
            found, same = index.generate_pairs(pool, w, exclude)
            expected = np.sort(c_idx[order][starts[w] : starts[w + 1]])
            np.testing.assert_array_equal(found, expected)
            assert (same == w).all()
            if not pool.is_open[w]:
                assert len(found) == 0


def test_only_the_workplaces_job_specialist_and_batch_may_ask(client, openings, trained):
    assert candidates_for(client, openings.other_employers, openings.header("specialist")).status_code == 403
    assert candidates_for(client, openings.busy, openings.header("other_specialist")).status_code == 403
    assert candidates_for(client, openings.busy, openings.header("employer")).status_code == 403  # never a ranking
    for role in ("adviser", "scientist", "dpo"):
        assert candidates_for(client, openings.busy, trained.key(role)).status_code == 403
    assert candidates_for(client, openings.busy, {}).status_code == 401
    assert candidates_for(client, openings.other_employers, trained.key("batch")).status_code == 200


def test_unknown_closed_and_full_workplaces(client, openings, trained):
    batch = trained.key("batch")
    response = candidates_for(client, "SYN-W-nowhere", batch)
    assert response.status_code == 404 and "SYN-W-nowhere" in response.json()["detail"]
    assert candidates_for(client, openings.inactive, batch).status_code == 409
    assert candidates_for(client, openings.no_slot, batch).status_code == 409


def test_top_k_is_bounded(client, openings):
    for top_k in (0, 101, "5", None):
        assert candidates_for(client, openings.busy, openings.header("specialist"), top_k).status_code == 422
    response = client.post(
        f"/workplaces/{openings.busy}/candidates", json={"top_k": 3, "lat": 60.0}, headers=openings.header("specialist")
    )
    assert response.status_code == 422


def test_the_audit_trail_holds_counts_and_the_model_version_only(client, openings, trained):
    assert candidates_for(client, openings.busy, openings.header("specialist"), top_k=4).status_code == 200
    entries = client.get("/audit", params={"subject_id": openings.busy}, headers=trained.key("dpo")).json()
    entry = [e for e in entries if e["action"] == "workplace_candidates"][-1]
    assert entry["actor"] == SPECIALIST and entry["role"] == "job_specialist"
    assert entry["subject_type"] == "workplace"
    assert set(entry["detail"]) == AUDIT_KEYS
    assert entry["detail"] == {
        "top_k": 4,
        "eligible_candidates": openings.eligible,
        "items": 4,
        "model_version": trained.model.version,
    }


def test_without_a_model_it_is_503(trained, openings):
    settings = trained.settings(model_uri="models:/jobmatch-ranker@missing")
    with TestClient(create_app(settings)) as client:
        assert candidates_for(client, openings.busy, openings.header("specialist")).status_code == 503


def test_the_route_is_documented(client):
    assert "/workplaces/{workplace_id}/candidates" in client.get("/openapi.json").json()["paths"]
