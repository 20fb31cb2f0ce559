"""generate -> load -> shortlists -> answers, decisions, presentations, plans, events through the
API -> retrain from the store: the new model is registered and evaluated like any other."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

import jobmatch
from matching.settings import Settings, get_settings
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from training.lifecycle import log_and_register
from training.synthetic import generate_dataset
from training.train import train_ranker

pytestmark = pytest.mark.slow


def test_retraining_from_the_record(tmp_path, monkeypatch, capsys):
    data, home = tmp_path / "data", tmp_path / "home"
    generate_dataset(data, 400, 600, seed=4)
    uri = f"sqlite:///{home / 'mlflow.db'}"
    database = f"sqlite:///{home / 'store.db'}"
    log_and_register(train_ranker(data, seed=0), uri)
    settings = Settings(data_dir=data, tracking_uri=uri, database_url=database, api_keys_file=home / "keys.json")
    with TestClient(create_app(settings)) as client:
        candidates = client.app.state.service.candidates.frame
        eligible = candidates[candidates["consent"] & candidates["active"]]
        adviser_id = str(eligible["adviser_id"].iloc[0])
        key = add_key(settings.api_keys_file, Identity(name="rt-adviser", role="adviser", adviser_id=adviser_id))
        client.app.state.api_keys = load_keys(settings.api_keys_file)
        adviser = {"Authorization": f"Bearer {key}"}
        decided = 0
        for candidate_id in eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].iloc[:8]:
            served = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 4}, headers=adviser)
            if served.status_code != 200 or len(served.json()["items"]) < 2:
                continue
            url = f"/shortlists/{served.json()['shortlist_id']}"
            client.post(f"{url}/answers", json={"answers": [{"rank": 1, "answer": "interested"}]}, headers=adviser)
            record = client.post(
                f"{url}/decisions",
                json={
                    "decisions": [
                        {"rank": 1, "decision": "accept"},
                        {"rank": 2, "decision": "reject", "reason_code": "task_mismatch"},
                    ]
                },
                headers=adviser,
            ).json()
            plan_id = record["items"][0]["plan_id"]
            presenting = {"candidate_id": candidate_id, "workplace_id": served.json()["items"][0]["workplace_id"]}
            assert client.post("/presentations", json=presenting, headers=adviser).status_code == 200
            employer_id = client.get(f"/plans/{plan_id}", headers=adviser).json()["draft"]["employer_id"]
            employer_key = add_key(
                settings.api_keys_file,
                Identity(name=f"rt-{employer_id}", role="employer", employer_id=employer_id),
            )
            client.app.state.api_keys = load_keys(settings.api_keys_file)
            employer = {"Authorization": f"Bearer {employer_key}"}
            for party, who in (("person", adviser), ("adviser", adviser), ("employer", employer)):
                plan = client.post(f"/plans/{plan_id}/approvals", json={"party": party, "revision": 1}, headers=who)
            placement = f"/placements/{plan.json()['placement_id']}"
            for kind in ("contacted", "trial_started"):
                assert client.post(f"{placement}/events", json={"kind": kind}, headers=adviser).status_code == 200
            decided += 1
        assert decided >= 3

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    capsys.readouterr()
    assert jobmatch.main(["train", "--from-db", "--database-url", database]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert f"{2 * decided} labelled pairs from the store's decisions and outcomes" in captured.err
    assert "logged:" in out and "model" in out and "registered jobmatch-ranker version 2" in out
    runs = MlflowClient(uri, uri).search_runs(
        [MlflowClient(uri, uri).get_experiment_by_name("jobmatch-ranker").experiment_id],
        order_by=["attributes.start_time DESC"],
    )
    assert "logged.model.ndcg_at_10" in runs[0].data.metrics
    assert int(runs[0].data.params["data.logged_pairs"]) > 0
    get_settings.cache_clear()
