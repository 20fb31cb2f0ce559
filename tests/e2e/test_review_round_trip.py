"""generate -> load -> shortlists -> answers, decisions, presentations, plans, events through the
API -> a workplace's offered supports change -> retrain from the store: the new model is
registered and evaluated like any other, the placements still running are left out and counted,
and the training rows hold the feature values as shown on the shortlist, not the changed ones."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

import jobmatch
from features.registry import feature_names
from matching.candidates import CandidateTable, WorkplacePool
from matching.settings import Settings, get_settings
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from training.from_store import training_data_from_store
from training.lifecycle import log_and_register
from training.synthetic import generate_dataset
from training.train import train_ranker
from training.trainset import logged_pairs, merge_pairs, pair_set, stored_pairs

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
        decided, hired, shown = 0, 0, {}
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
            # every other placement goes on to a hire; the rest keep running (left out of training)
            kinds = ["contacted", "trial_started"] + (["trial_completed", "hired"] if decided % 2 == 0 else [])
            for kind in kinds:
                assert client.post(f"{placement}/events", json={"kind": kind}, headers=adviser).status_code == 200
            if decided % 2 == 0:
                hired += 1
                shown[(candidate_id, presenting["workplace_id"])] = served.json()["items"][0]["features"]
            decided += 1
        assert decided >= 3 and hired >= 2

        # after the shortlists: the first hire's workplace changes every support it offers
        (candidate_id, workplace_id), as_shown = next(iter(shown.items()))
        specialist = add_key(settings.api_keys_file, Identity(name="rt-specialist", role="job_specialist"))
        client.app.state.api_keys = load_keys(settings.api_keys_file)
        record = client.get(f"/workplaces/{workplace_id}", headers={"Authorization": f"Bearer {specialist}"}).json()
        flipped = {k: not v for k, v in record["record"].items() if k.startswith("offers_")}
        changed = client.patch(
            f"/workplaces/{workplace_id}", json=flipped, headers={"Authorization": f"Bearer {specialist}"}
        )
        assert changed.status_code == 200, changed.text

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    capsys.readouterr()
    assert jobmatch.main(["train", "--from-db", "--database-url", database]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # the rejections and the hires; the placements still running are left out, and said so
    assert f"{decided + hired} labelled pairs from the store's decisions and outcomes" in captured.err
    running = decided - hired
    assert f"{running} stored suggestions left out of training for now (settled after 90 days)" in out
    assert f"  {running} placement_running: no end or hire yet" in out
    assert "logged:" in out and "model" in out and "registered jobmatch-ranker version 2" in out
    runs = MlflowClient(uri, uri).search_runs(
        [MlflowClient(uri, uri).get_experiment_by_name("jobmatch-ranker").experiment_id],
        order_by=["attributes.start_time DESC"],
    )
    assert "logged.model.ndcg_at_10" in runs[0].data.metrics
    assert int(runs[0].data.params["data.logged_pairs"]) > 0

    # the training rows as `train --from-db` builds them: the changed workplace's pair holds the
    # values shown on the shortlist, while today's record would give other values
    dataset, stored = training_data_from_store(None, database, lambda line: None)
    assert stored.set_index(["candidate_id", "workplace_id"]).loc[(candidate_id, workplace_id), "grade"] == 4
    candidates, pool = CandidateTable.build(dataset.candidates), WorkplacePool(dataset.workplaces)
    pairs = merge_pairs(logged_pairs(dataset, candidates, pool), stored_pairs(stored, candidates, pool))
    row = np.flatnonzero((pairs.candidate_ids == candidate_id) & (pairs.workplace_ids == workplace_id))
    assert len(row) == 1
    names = feature_names()
    trained_on = pairs.matrix[row[0]]
    assert trained_on == pytest.approx([as_shown[n] for n in names], abs=1e-5)
    c, w = candidates.positions()[candidate_id], pool.positions()[workplace_id]
    today = pair_set(candidates, pool, np.array([c]), np.array([w])).matrix[0]
    supports = names.index("employer_supports_offered")
    assert today[supports] != pytest.approx(trained_on[supports], abs=1e-3)
    assert dataset.workplaces.set_index("workplace_id").loc[workplace_id, list(flipped)].to_dict() == flipped
    get_settings.cache_clear()
