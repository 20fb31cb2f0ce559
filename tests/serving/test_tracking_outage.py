"""The tracking store cannot be read when the service starts (here: its SQLite file is damaged):
the service starts anyway, ranks by the transparent rule score and says so in every shortlist,
`/health` says why the model could not be loaded, and once the file can be read again the poller
loads the model and hands scoring back to it, with no restart. A store that answers that the
model is missing is another matter (`test_api`: no scoring, 503)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient

from serving.app import create_app

POLL_SECONDS = 0.2
PICK_UP_SECONDS = 30.0


def a_candidate(trained) -> str:
    frame = trained.dataset.candidates
    return str(frame.loc[frame["consent"] & frame["active"], "candidate_id"].iloc[0])


def test_an_unreadable_tracking_store_leaves_the_rule_serving_until_it_can_be_read(trained, tmp_path: Path) -> None:
    original = Path(trained.tracking_uri.removeprefix("sqlite:///"))
    good = tmp_path / "mlflow-good.db"
    shutil.copyfile(original, good)
    store = tmp_path / "mlflow.db"
    store.write_bytes(b"not a database: the disk lost this file\n" * 200)
    settings = trained.settings(
        tracking_uri=f"sqlite:///{store}",
        model_poll_seconds=POLL_SECONDS,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
    )
    candidate = {"candidate_id": a_candidate(trained), "top_k": 3}
    with TestClient(create_app(settings), headers=trained.key("batch")) as client:
        health = client.get("/health")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["status"] == "ok" and body["scoring"] == "rule" and body["model_version"] is None
        assert body["error"].startswith("the model could not be loaded") and "not a database" in body["error"]
        served = client.post("/shortlists", json=candidate)
        assert served.status_code == 200, served.text
        model = served.json()["model"]
        assert model["scored_by"] == "rule" and "could not be loaded" in model["scoring_note"]

        shutil.copyfile(good, store)  # the store can be read again
        deadline = time.monotonic() + PICK_UP_SECONDS
        while time.monotonic() < deadline:
            body = client.get("/health").json()
            if body["scoring"] == "model":
                break
            time.sleep(POLL_SECONDS)
        assert body["scoring"] == "model", body
        assert body["model_version"] == trained.model.version and body["error"] is None
        served = client.post("/shortlists", json=candidate)
        assert served.status_code == 200, served.text
        assert served.json()["model"]["scored_by"] == "model"
        assert served.json()["model"]["version"] == trained.model.version
