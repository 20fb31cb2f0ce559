"""The model while the service runs: reloading a new champion without a restart, refusing a model
that cannot load or has other features (the old one keeps serving, /health says why), polling the
alias, one model per request, the off-switch (rule score, recorded and audited, kept across a
restart) and the model card.

The versions live under their own registered name in the session's MLflow store (copies of the
session champion, or its artifacts edited), so the session's `jobmatch-ranker@champion` is never
moved; each app has its own store database."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from matching.rules import RULE_VERSION, RULE_WEIGHTS
from matching.settings import Settings
from serving.app import create_app
from serving.auth import Identity, add_key
from serving.loading import RULE_NAME
from serving.observability import RequestContext, _current

NAME = "jobmatch-ranker-ops"
CARD = "# Model card: jobmatch-ranker\n\n## Intended use\nA test card.\n"


@dataclass
class Versions:
    plain: str  # the session champion, without a model card
    with_card: str  # the same booster, with a card in its meta
    missing: str  # no artifacts where its source says
    other_features: str  # meta features of another feature registry


@dataclass
class Ops:
    trained: object
    client: MlflowClient
    versions: Versions
    keys_file: Path
    keys: dict[str, str]

    def settings(self, home: Path, **changes: object) -> Settings:
        return Settings(
            data_dir=self.trained.data_dir,
            tracking_uri=self.trained.tracking_uri,
            model_uri=f"models:/{NAME}@champion",
            database_url=f"sqlite:///{home / 'store.db'}",
            api_keys_file=self.keys_file,
            **changes,
        )

    def champion(self, version: str) -> None:
        self.client.set_registered_model_alias(NAME, "champion", version)

    def key(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


def _edited_copy(source: str, folder: Path, edit) -> str:
    """The model at `source` downloaded to `folder`, its ranker.json edited; returns its URI."""
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(folder)))
    meta_path = local / "artifacts" / "ranker.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    edit(meta)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return local.as_uri()


@pytest.fixture(scope="module")
def ops(trained, tmp_path_factory: pytest.TempPathFactory) -> Ops:
    home = tmp_path_factory.mktemp("modelops")
    client = MlflowClient(trained.tracking_uri, trained.tracking_uri)
    champion = client.get_model_version_by_alias("jobmatch-ranker", "champion")
    client.create_registered_model(NAME)

    def register(source: str) -> str:
        return str(client.create_model_version(NAME, source=source, run_id=champion.run_id).version)

    plain = register(_edited_copy(champion.source, home / "plain", lambda meta: meta.pop("model_card", None)))
    with_card = register(_edited_copy(champion.source, home / "card", lambda meta: meta.update(model_card=CARD)))
    empty = home / "missing"
    empty.mkdir()
    missing = register(empty.as_uri())
    other_features = register(
        _edited_copy(champion.source, home / "other", lambda meta: meta.update(features=meta["features"][::-1]))
    )
    keys_file = home / "api-keys.json"
    shutil.copy(trained.home / "api-keys.json", keys_file)
    keys = dict(trained.keys)
    keys["admin"] = add_key(keys_file, Identity(name="test-admin", role="admin"))
    return Ops(trained, client, Versions(plain, with_card, missing, other_features), keys_file, keys)


def served_candidate(trained, adviser: bool = False) -> str:
    frame = trained.dataset.candidates
    served = frame[frame["consent"] & frame["active"]]
    if adviser:
        served = served[served["adviser_id"] == served["adviser_id"].iloc[0]]
    return str(served["candidate_id"].iloc[0])


def shortlist(client: TestClient, ops: Ops, top_k: int = 5, who: str = "batch") -> dict:
    response = client.post(
        "/shortlists",
        json={"candidate_id": served_candidate(ops.trained, who == "adviser"), "top_k": top_k},
        headers=ops.key(who),
    )
    assert response.status_code == 200, response.text
    return response.json()


def audit(client: TestClient, ops: Ops, action: str) -> list[dict]:
    trail = client.get(
        "/audit", params={"subject_id": "model" if "reload" in action else "scoring"}, headers=ops.key("dpo")
    )
    assert trail.status_code == 200, trail.text
    return [entry for entry in trail.json() if entry["action"] == action]


# Reload ------------------------------------------------------------------------------------------


def test_a_new_champion_serves_after_a_reload_without_a_restart(ops, tmp_path):
    ops.champion(ops.versions.plain)
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        assert shortlist(client, ops)["model"]["version"] == ops.versions.plain
        ops.champion(ops.versions.with_card)
        assert shortlist(client, ops)["model"]["version"] == ops.versions.plain  # nothing changes by itself

        for who in ("batch", "adviser", "dpo", "admin"):
            assert client.post("/model/reload", headers=ops.key(who)).status_code == 403
        response = client.post("/model/reload", json={"reason": "v2 promoted"}, headers=ops.key("scientist"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["previous_version"] == ops.versions.plain and body["version"] == ops.versions.with_card
        assert body["changed"] is True

        served = shortlist(client, ops)
        assert served["model"]["version"] == ops.versions.with_card and served["model"]["scored_by"] == "model"
        health = client.get("/health").json()
        assert health["model_version"] == ops.versions.with_card and health["last_reload_error"] is None
        (entry,) = audit(client, ops, "model_reload")
        assert entry["actor"] == "test-scientist" and entry["detail"]["to_version"] == ops.versions.with_card
        assert entry["detail"]["from_version"] == ops.versions.plain and entry["detail"]["reason"] == "v2 promoted"


@pytest.mark.parametrize(
    ("which", "status", "words"),
    [("missing", 409, "MLmodel"), ("other_features", 422, "differ from the code")],
)
def test_a_model_that_cannot_serve_is_refused_and_the_old_one_keeps_serving(ops, tmp_path, which, status, words):
    ops.champion(ops.versions.plain)
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        ops.champion(getattr(ops.versions, which))
        response = client.post("/model/reload", headers=ops.key("scientist"))
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert words in detail and f"version {ops.versions.plain} keeps serving" in detail

        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["model_version"] == ops.versions.plain
        assert words in health.json()["last_reload_error"]
        assert shortlist(client, ops)["model"]["version"] == ops.versions.plain
        (entry,) = audit(client, ops, "model_reload_refused")
        assert entry["detail"]["attempted_version"] == getattr(ops.versions, which)
        assert entry["detail"]["version_in_service"] == ops.versions.plain

        # put right: the next good reload clears the error
        ops.champion(ops.versions.with_card)
        assert client.post("/model/reload", headers=ops.key("scientist")).status_code == 200
        assert client.get("/health").json()["last_reload_error"] is None
        metrics = client.get("/metrics").text
        assert 'jobmatch_model_reloads_total{outcome="refused",trigger="api"} 1.0' in metrics
        assert 'jobmatch_model_reloads_total{outcome="loaded",trigger="api"} 1.0' in metrics


def test_polling_follows_the_alias_and_refuses_a_broken_champion_once(ops, tmp_path):
    ops.champion(ops.versions.plain)
    with TestClient(create_app(ops.settings(tmp_path, model_poll_seconds=0.1))) as client:
        ops.champion(ops.versions.with_card)
        wait_for(lambda: client.get("/health").json()["model_version"] == ops.versions.with_card)
        assert shortlist(client, ops)["model"]["version"] == ops.versions.with_card

        ops.champion(ops.versions.other_features)
        wait_for(lambda: client.get("/health").json()["last_reload_error"] is not None)
        time.sleep(0.5)  # several more looks: the refused version is not tried again
        health = client.get("/health").json()
        assert health["model_version"] == ops.versions.with_card and health["status"] == "ok"
        metrics = client.get("/metrics").text
        assert 'jobmatch_model_reloads_total{outcome="refused",trigger="poll"} 1.0' in metrics
        assert 'jobmatch_model_reloads_total{outcome="loaded",trigger="poll"} 1.0' in metrics
        assert [e["actor"] for e in audit(client, ops, "model_reload")] == ["model-poller"]
        ops.champion(ops.versions.plain)


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {seconds} s")


def test_a_request_scores_with_the_model_it_started_with(ops, tmp_path):
    ops.champion(ops.versions.plain)
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        state = client.app.state.service
        token = _current.set(RequestContext("test-request"))
        try:
            before = state.scoring()
            ops.champion(ops.versions.with_card)
            state.models.reload("test", "data_scientist")
            assert state.scoring() is before  # the same snapshot for the rest of the request
            assert state.model is before.model and state.matcher() is before.matcher
            assert before.model.version == ops.versions.plain
        finally:
            _current.reset(token)
        assert state.model.version == ops.versions.with_card  # the next request gets the new one
        assert state.scoring().model.version == ops.versions.with_card


# The off-switch ----------------------------------------------------------------------------------


def test_switched_off_the_rule_score_ranks_and_says_so(ops, tmp_path):
    ops.champion(ops.versions.plain)
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        assert client.get("/health").json()["scoring"] == "model"
        for body in (None, {}, {"reason": "  "}):
            assert client.post("/model/off", json=body, headers=ops.key("scientist")).status_code == 422
        for who in ("adviser", "batch", "dpo"):
            assert client.post("/model/off", json={"reason": "test"}, headers=ops.key(who)).status_code == 403
        response = client.post(
            "/model/off", json={"reason": "complaints about v1: under review"}, headers=ops.key("scientist")
        )
        assert response.status_code == 200, response.text
        assert response.json()["scoring"] == "rule" and response.json()["changed"] is True
        assert client.get("/health").json()["scoring"] == "rule"

        served = shortlist(client, ops, top_k=8, who="adviser")
        model = served["model"]
        assert model["scored_by"] == "rule" and model["name"] == RULE_NAME and model["version"] == RULE_VERSION
        assert "switched off" in model["scoring_note"] and "rule score" in model["scoring_note"]
        items = served["items"]
        assert items
        rules = [sum(RULE_WEIGHTS.get(f, 0.0) * v for f, v in item["features"].items()) for item in items]
        np.testing.assert_allclose([i["score"] for i in items], rules, atol=1e-4)
        assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
        for item in items:
            assert item["expected_success"] is None and item["congestion"] is None
            for reason in item["explanation"]["speaks_for"] + item["explanation"]["speaks_against"]:
                expected = RULE_WEIGHTS[reason["feature"]] * item["features"][reason["feature"]]
                assert reason["contribution"] == pytest.approx(expected, abs=1e-4)

        # recorded as scored by the rule, and traced in the audit trail
        record = client.get(f"/shortlists/{served['shortlist_id']}", headers=ops.key("adviser")).json()
        assert record["model_name"] == RULE_NAME and record["model_version"] == RULE_VERSION
        (entry,) = audit(client, ops, "scoring_off")
        assert entry["actor"] == "test-scientist" and entry["role"] == "data_scientist"
        assert entry["detail"]["reason"] == "complaints about v1: under review"
        assert entry["detail"]["model_version"] == ops.versions.plain

        # the workplace side too
        pool = client.app.state.service.pool
        open_ids = pool.frame["workplace_id"].to_numpy()[pool.open_rows]
        workplace = str(open_ids[0])
        side = client.post(f"/workplaces/{workplace}/candidates", json={"top_k": 5}, headers=ops.key("batch"))
        assert side.status_code == 200, side.text
        assert side.json()["model"]["scored_by"] == "rule" and side.json()["model"]["version"] == RULE_VERSION
        assert client.get("/model", headers=ops.key("adviser")).json()["scored_by"] == "rule"
        metrics = client.get("/metrics").text
        assert 'jobmatch_scoring_mode{mode="rule"} 1.0' in metrics

    # a restart stays switched off; switching on is audited the same way
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        assert client.get("/health").json()["scoring"] == "rule"
        assert shortlist(client, ops)["model"]["scored_by"] == "rule"
        state = client.get("/model/scoring", headers=ops.key("adviser")).json()
        assert state["switched_by"] == "test-scientist" and state["reason"] == "complaints about v1: under review"
        response = client.post("/model/on", json={"reason": "review done"}, headers=ops.key("admin"))
        assert response.status_code == 200, response.text
        assert response.json()["scoring"] == "model"
        served = shortlist(client, ops)
        assert served["model"]["scored_by"] == "model" and served["model"]["version"] == ops.versions.plain
        (entry,) = audit(client, ops, "scoring_on")
        assert entry["actor"] == "test-admin" and entry["detail"]["reason"] == "review done"
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        assert client.get("/health").json()["scoring"] == "model"


def test_switched_off_the_service_scores_even_without_a_model_and_cannot_switch_it_on(ops, tmp_path):
    ops.champion(ops.versions.missing)
    try:
        with TestClient(create_app(ops.settings(tmp_path))) as client:
            assert client.get("/health").status_code == 503
            assert client.post("/model/off", json={"reason": "no model"}, headers=ops.key("admin")).status_code == 200
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["scoring"] == "rule"
            assert health.json()["model_version"] is None
            assert shortlist(client, ops)["model"]["scored_by"] == "rule"
            response = client.post("/model/on", json={"reason": "try"}, headers=ops.key("admin"))
            assert response.status_code == 409 and "reload" in response.json()["detail"]
            assert client.get("/model/card", headers=ops.key("adviser")).status_code == 503
    finally:
        ops.champion(ops.versions.plain)


def test_with_polling_a_process_takes_the_switch_another_set_on_the_same_store(ops, tmp_path):
    ops.champion(ops.versions.plain)
    with (
        TestClient(create_app(ops.settings(tmp_path))) as first,
        TestClient(create_app(ops.settings(tmp_path, model_poll_seconds=0.1))) as second,
    ):
        assert first.post("/model/off", json={"reason": "incident"}, headers=ops.key("admin")).status_code == 200
        wait_for(lambda: second.get("/health").json()["scoring"] == "rule")
        assert shortlist(second, ops)["model"]["scored_by"] == "rule"
        assert first.post("/model/on", json={"reason": "resolved"}, headers=ops.key("admin")).status_code == 200
        wait_for(lambda: second.get("/health").json()["scoring"] == "model")
        assert second.get("/model/scoring", headers=ops.key("batch")).json()["reason"] == "resolved"


def test_without_polling_another_worker_follows_a_switch_and_a_reload_at_its_next_request(ops, tmp_path):
    """Two workers on one store (`jobmatch serve --workers N`): what one is told, the other serves
    from its very next request, without polling: the switch, and a reload (the same version, the
    same last reload), and a refused reload shows on both."""
    ops.champion(ops.versions.plain)
    try:
        with (
            TestClient(create_app(ops.settings(tmp_path))) as first,
            TestClient(create_app(ops.settings(tmp_path))) as second,
        ):
            assert first.post("/model/off", json={"reason": "incident"}, headers=ops.key("admin")).status_code == 200
            assert second.get("/health").json()["scoring"] == "rule"
            assert shortlist(second, ops)["model"]["scored_by"] == "rule"
            assert second.post("/model/on", json={"reason": "resolved"}, headers=ops.key("admin")).status_code == 200
            assert shortlist(first, ops)["model"]["scored_by"] == "model"

            ops.champion(ops.versions.with_card)
            assert first.post("/model/reload", headers=ops.key("scientist")).status_code == 200
            served = shortlist(second, ops)["model"]
            assert served["version"] == ops.versions.with_card and served["uri"] == ops.settings(tmp_path).model_uri
            assert second.get("/health").json() == first.get("/health").json()
            assert second.get("/model/card", headers=ops.key("batch")).text.endswith(CARD)

            ops.champion(ops.versions.missing)
            assert second.post("/model/reload", headers=ops.key("scientist")).status_code == 409
            health = first.get("/health").json()
            assert health["model_version"] == ops.versions.with_card and "MLmodel" in health["last_reload_error"]
            assert health == second.get("/health").json()
    finally:
        ops.champion(ops.versions.plain)


# The model card ----------------------------------------------------------------------------------


def test_the_model_card_is_served_as_markdown_or_404_for_a_model_without_one(ops, tmp_path):
    ops.champion(ops.versions.with_card)
    with TestClient(create_app(ops.settings(tmp_path))) as client:
        assert client.get("/model/card").status_code == 401
        response = client.get("/model/card", headers=ops.key("adviser"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/markdown")
        assert response.text == CARD
        client.post("/model/off", json={"reason": "card test"}, headers=ops.key("admin"))
        switched = client.get("/model/card", headers=ops.key("adviser")).text
        assert "switched off" in switched and switched.endswith(CARD)

        ops.champion(ops.versions.plain)
        assert client.post("/model/reload", headers=ops.key("scientist")).status_code == 200
        response = client.get("/model/card", headers=ops.key("adviser"))
        assert response.status_code == 404
        assert "trained before model cards were saved" in response.json()["detail"]
