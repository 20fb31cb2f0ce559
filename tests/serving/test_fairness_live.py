"""The live loop's fairness through the API (`GET /fairness/live`): for the data-protection officer
and admin only, the same numbers as `jobmatch fairness --from-db --json` over the same store, a
known disparity flagged, and the read on the audit trail without any group's values."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jobmatch import main
from matching.settings import Settings
from matching.store.audit import query_audit
from matching.store.db import make_engine, session_scope
from matching.store.decisions import record_decision
from matching.store.placements import append_event, open_placement
from matching.store.plans import create_plan
from matching.store.shortlists import get_shortlist, save_shortlist
from serving.app import create_app
from serving.auth import Identity, add_key

PEOPLE = 4  # men and women each


@pytest.fixture(scope="module")
def setup(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An app on a store of its own, with an admin key, and who the history is about."""
    home = tmp_path_factory.mktemp("fairness-live")
    keys_file = home / "api-keys.json"
    keys_file.write_text((trained.home / "api-keys.json").read_text(encoding="utf-8"), encoding="utf-8")
    admin = add_key(keys_file, Identity(name="fairness-admin", role="admin"))
    settings = Settings(
        data_dir=trained.data_dir,
        tracking_uri=trained.tracking_uri,
        database_url=f"sqlite:///{home / 'store.db'}",
        api_keys_file=keys_file,
    )
    people = trained.dataset.candidates
    able = people.loc[people["consent"] & people["active"], ["candidate_id"]].merge(
        trained.dataset.audit, on="candidate_id"
    )
    return {
        "settings": settings,
        "admin": {"Authorization": f"Bearer {admin}"},
        "men": able.loc[able["gender"] == "male", "candidate_id"].astype(str).head(PEOPLE).tolist(),
        "women": able.loc[able["gender"] == "female", "candidate_id"].astype(str).head(PEOPLE).tolist(),
        "workplace": str(trained.dataset.workplaces["workplace_id"].iloc[0]),
    }


def suggest(engine: Engine, person: str, workplace: str, contacted: bool) -> None:
    """One shortlist of one suggestion, accepted; with `contacted`, its placement got the employer contacted."""
    item = {"rank": 1, "workplace_id": workplace, "score": 0.9, "explanation": {}, "features": {"task_coverage": 0.5}}
    with session_scope(engine) as session:
        shortlist_id = save_shortlist(session, person, "adviser-x", "jobmatch-ranker", "1", 1, [item])
        item_id = get_shortlist(session, shortlist_id).item_ids[0]
        record_decision(session, item_id, "accept", "adviser-x")
        plan = create_plan(session, person, workplace, item_id, {"purpose": "try_occupation"}, "adviser-x")
        if contacted:
            placement = open_placement(session, plan)
            append_event(session, placement, "contacted", None, None, "adviser-x", "contacted", None, "none")


@pytest.fixture(scope="module")
def client(setup: dict[str, Any]) -> Any:
    """The app, after its store was loaded, with the men's suggestions pursued and the women's not."""
    with TestClient(create_app(setup["settings"])) as client:
        engine = make_engine(setup["settings"].database_url)
        try:
            for person in setup["men"]:
                suggest(engine, person, setup["workplace"], contacted=True)
            for person in setup["women"]:
                suggest(engine, person, setup["workplace"], contacted=False)
        finally:
            engine.dispose()
        yield client


def group(body: dict[str, Any], attribute: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in body["groups"] if g["attribute"] == attribute and g["group"] == name)
    return found


def measure(row: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in row["measures"] if m["measure"] == name)
    return found


def test_the_api_gives_the_command_lines_numbers_and_flags_the_disparity(
    client: Any, trained: Any, setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/fairness/live", params={"min_group": 1}, headers=trained.key("dpo"))
    assert response.status_code == 200, response.text
    body = response.json()
    capsys.readouterr()
    url = setup["settings"].database_url
    assert main(["fairness", "--from-db", "--database-url", url, "--min-group", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == body
    men, women = group(body, "gender", "male"), group(body, "gender", "female")
    assert (men["suggestions"], women["suggestions"]) == (PEOPLE, PEOPLE)
    assert measure(men, "accepted")["share"] == measure(women, "accepted")["share"] == 1.0
    assert measure(men, "pursued") == {
        "measure": "pursued",
        "count": PEOPLE,
        "out_of": PEOPLE,
        "share": 1.0,
        "ratio": 1.0,
        "small": False,
        "flagged": False,
    }
    assert measure(women, "pursued")["count"] == 0 and measure(women, "pursued")["ratio"] == 0.0
    assert women["flagged_on"] == ["pursued"] and men["flagged_on"] == []
    # under the default minimum (30 persons with a shortlist) no group is flagged on its suggestions
    default = client.get("/fairness/live", headers=trained.key("dpo")).json()
    assert default["min_group"] == 30 and all(set(g["flagged_on"]) <= {"shortlisted"} for g in default["groups"])
    assert all(measure(g, "pursued")["small"] for g in default["groups"])
    assert default["persons"] == body["persons"] > 2 * PEOPLE
    capsys.readouterr()
    assert main(["fairness", "--from-db", "--database-url", url]) == 0
    printed = capsys.readouterr().out
    assert "Fairness of the live loop by audit group" in printed and "female" in printed


def test_the_period_picks_the_shortlists(client: Any, trained: Any) -> None:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    body = client.get("/fairness/live", params={"since": tomorrow, "min_group": 1}, headers=trained.key("dpo")).json()
    assert body["since"] == tomorrow
    men = group(body, "gender", "male")
    assert men["persons_with_shortlist"] == 0 and measure(men, "pursued")["share"] is None


def test_only_the_data_protection_officer_and_admin_may_read_it(
    client: Any, trained: Any, setup: dict[str, Any]
) -> None:
    assert client.get("/fairness/live").status_code == 401
    assert client.get("/fairness/live", headers={"X-API-Key": "not-a-key"}).status_code == 401
    for role in ("adviser", "batch", "scientist"):
        refused = client.get("/fairness/live", headers=trained.key(role))
        assert refused.status_code == 403, role
    assert client.get("/fairness/live", headers=setup["admin"]).status_code == 200
    assert client.get("/fairness/live", params={"min_group": 0}, headers=setup["admin"]).status_code == 422
    assert client.get("/fairness/live", params={"since": "2025-02-30"}, headers=setup["admin"]).status_code == 422
    responses = client.get("/openapi.json").json()["paths"]["/fairness/live"]["get"]["responses"]
    assert {"200", "401", "403", "422"} <= set(responses)


def test_the_read_is_audited_without_group_values(client: Any, trained: Any, setup: dict[str, Any]) -> None:
    assert client.get("/fairness/live", params={"since": "2025-01-01"}, headers=trained.key("dpo")).status_code == 200
    engine = make_engine(setup["settings"].database_url)
    try:
        with session_scope(engine, readonly=True) as session:
            entries = [e for e in query_audit(session, actor="test-dpo") if e.action == "read_live_fairness"]
    finally:
        engine.dispose()
    latest = entries[-1]
    assert (latest.role, latest.subject_type, latest.subject_id) == (
        "data_protection_officer",
        "report",
        "live_fairness",
    )
    assert latest.detail is not None and latest.detail["since"] == "2025-01-01"
    assert set(latest.detail) == {"since", "min_group", "groups"}
    text = json.dumps(latest.detail)
    assert not any(word in text for word in ("male", "60+", "18-29", setup["men"][0]))
