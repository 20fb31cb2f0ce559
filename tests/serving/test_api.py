"""The API on the champion: shortlists with explanations, errors, and the same scores as batch."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batch import score_caseload


@pytest.fixture(scope="module")
def client(trained):
    with TestClient(create_app(trained.settings()), headers=trained.key("batch")) as client:
        yield client


def a_candidate(trained) -> str:
    frame = trained.dataset.candidates
    return str(frame.loc[frame["consent"] & frame["active"], "candidate_id"].iloc[0])


def test_shortlist_is_ranked_explained_and_names_the_model(client, trained):
    response = client.post("/shortlists", json={"candidate_id": a_candidate(trained), "top_k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["name"] == "jobmatch-ranker" and body["model"]["version"] == trained.model.version
    items = body["items"]
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    assert 1 <= len(items) <= 5
    # ranked by expected success times the congestion factor: the score order when nothing is congested
    keys = [(i["expected_success"] * i["congestion"]["factor"], i["score"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    explanation = items[0]["explanation"]
    assert explanation["speaks_for"] or explanation["speaks_against"]
    for reason in explanation["speaks_for"]:
        assert reason["contribution"] > 0 and reason["sentence"]
    assert set(explanation) == {
        "speaks_for",
        "speaks_against",
        "support_needs_met",
        "support_needs_unmet",
        "tasks_needing_training",
        "similar_to_wish",
    }


def test_a_full_candidate_record_gets_a_shortlist(client, trained):
    record = trained.dataset.candidates.iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    record["consent"], record["active"] = True, True
    response = client.post("/shortlists", json={"candidate": record, "top_k": 3})
    assert response.status_code == 200, response.text


def test_unknown_candidate_is_404(client):
    response = client.post("/shortlists", json={"candidate_id": "SYN-C-nobody"})
    assert response.status_code == 404
    assert "SYN-C-nobody" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"skill_caring": 1.7}, "skill_caring"),
        ({"max_commute_km": "far"}, "max_commute_km"),
        ({"needs_mentor": 5}, "needs_mentor"),
        ({"lat": False}, "lat"),
        ({"preferred_occupations": ["0001"]}, "preferred_occupations"),
    ],
)
def test_a_malformed_record_is_422_naming_the_field(client, trained, change, field):
    record = trained.dataset.candidates.iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    record.update(change)
    response = client.post("/shortlists", json={"candidate": record})
    assert response.status_code == 422
    assert any(field in [str(part) for part in error["loc"]] for error in response.json()["detail"]), response.text


def test_top_k_is_bounded(client, trained):
    for top_k in (0, 101, "5"):
        response = client.post("/shortlists", json={"candidate_id": a_candidate(trained), "top_k": top_k})
        assert response.status_code == 422


def test_health_model_and_docs(client, trained):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_version"] == trained.model.version
    assert client.get("/model").json()["features"] == trained.model.ranker.features
    assert client.get("/docs").status_code == 200
    assert "/shortlists" in client.get("/openapi.json").json()["paths"]


def test_api_and_batch_give_the_same_scores(trained, tmp_path):
    frame, _ = score_caseload(trained.dataset, trained.model, top_k=10)
    # batch ranks by score alone; so does the API with the congestion penalty off; its own store
    # serves the dataset as generated (other modules' live edits change the shared store's records)
    settings = trained.settings(suggestions_per_slot=0.0, database_url=f"sqlite:///{tmp_path / 'store.db'}")
    with TestClient(create_app(settings), headers=trained.key("batch")) as client:
        for candidate_id in frame["candidate_id"].drop_duplicates().iloc[:15]:
            response = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 10})
            api = {i["workplace_id"]: i["score"] for i in response.json()["items"]}
            batch = frame[frame["candidate_id"] == candidate_id]
            assert list(api) == batch["workplace_id"].tolist()
            np.testing.assert_allclose(list(api.values()), batch["score"].to_numpy(), rtol=1e-12)


def test_a_candidate_without_consent_is_never_scored(client, trained):
    record = trained.dataset.candidates.iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    record["consent"] = False
    response = client.post("/shortlists", json={"candidate": record})
    assert response.status_code == 409
    frame = trained.dataset.candidates
    no_consent = frame.loc[~frame["consent"], "candidate_id"]
    if len(no_consent):
        assert client.post("/shortlists", json={"candidate_id": no_consent.iloc[0]}).status_code == 409


def test_without_a_loadable_model_health_says_why_and_shortlists_are_503(trained):
    settings = trained.settings(model_uri="models:/jobmatch-ranker@missing")
    with TestClient(create_app(settings), headers=trained.key("batch")) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable" and "missing" in health.json()["error"]
        response = client.post("/shortlists", json={"candidate_id": a_candidate(trained)})
        assert response.status_code == 503


def test_a_model_whose_features_differ_from_the_code_is_refused(trained):
    from matching.errors import ModelMismatchError
    from matching.model import Ranker

    model = trained.model.ranker
    other = Ranker(model.booster, list(reversed(model.features)), model.registry, model.catalogue, {}, model.linear)
    with pytest.raises(ModelMismatchError):
        other.check_compatible()
