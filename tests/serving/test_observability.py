"""Observability: Prometheus metrics at /metrics, a request id in and out, one JSON log line per
request, and no personal data in any log, whatever level every logger is set to."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matching.settings import Settings
from serving.app import create_app

SUPPORTS_REQUIRED = ("needs_quiet_workspace",)
LOGGERS = (
    "",
    "jobmatch",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
    "mlflow",
    "alembic",
    "httpx",
    "fastapi",
    "starlette",
    "asyncio",
)


def settings_for(trained, home: Path) -> Settings:
    return Settings(
        data_dir=trained.data_dir,
        tracking_uri=trained.tracking_uri,
        database_url=f"sqlite:///{home / 'store.db'}",
        api_keys_file=trained.home / "api-keys.json",
    )


def adviser_candidate(trained) -> str:
    """A consenting, active person on the test adviser's caseload who has audit fields."""
    frame = trained.dataset.candidates
    served = frame[frame["consent"] & frame["active"]]
    mine = served[served["adviser_id"] == served["adviser_id"].iloc[0]]
    audited = set(trained.dataset.audit["candidate_id"]) if trained.dataset.audit is not None else set()
    return str(next(c for c in mine["candidate_id"] if c in audited))


def crafted_record(trained) -> dict:
    """A full candidate record with values that cannot turn up in a log by chance."""
    frame = trained.dataset.candidates
    served = frame[frame["consent"] & frame["active"]]
    base = served[served["adviser_id"] == served["adviser_id"].iloc[0]].iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in base.items()}
    record["candidate_id"] = "OBS-C-0001"
    record["lat"] = round(float(record["lat"]) + 0.0012345, 7)
    record["lon"] = round(float(record["lon"]) - 0.0054321, 7)
    record["preferred_occupations"] = list(record["preferred_occupations"])
    for i, name in enumerate(sorted(k for k in record if k.startswith(("skill_", "tolerance_", "interest_")))):
        record[name] = round(0.1 + 0.8 * ((i * 0.137) % 1) + 0.000123, 6)
    record["consent"], record["active"] = True, True
    return record


def personal_values(record: dict, audit: dict | None) -> list[tuple[str, re.Pattern[str]]]:
    """(what, pattern) for every personal field name and each value distinctive enough to find."""
    found: list[tuple[str, re.Pattern[str]]] = []

    def number(value: object) -> re.Pattern[str]:
        return re.compile(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)")

    for key in ("lat", "lon"):
        found.append((f"{key}={record[key]}", number(record[key])))
    for key, value in record.items():
        if key.startswith(("needs_", "skill_", "tolerance_", "interest_")):
            found.append((key, re.compile(re.escape(key))))
            if isinstance(value, float) and len(repr(value)) >= 5:
                found.append((f"{key}={value}", number(value)))
    found.append(("preferred_occupations", re.compile("preferred_occupations")))
    for code in record["preferred_occupations"]:
        found.append((f"occupation {code}", re.compile(rf"(?<![\w.:-]){re.escape(str(code))}(?![\w.:-])")))
    for key in ("age_band", "gender"):
        found.append((key, re.compile(key)))
        if audit is not None:
            found.append((f"{key}={audit[key]}", re.compile(rf"(?<![\w-]){re.escape(str(audit[key]))}(?![\w-])")))
    return found


def test_no_log_line_holds_personal_data_and_every_service_line_is_json_with_a_request_id(
    trained, tmp_path, caplog, capsys
):
    caplog.set_level(logging.DEBUG)  # the root logger, during start-up too
    adviser = trained.key("adviser")
    candidate_id = adviser_candidate(trained)
    record = crafted_record(trained)
    request_ids: list[str] = []
    with TestClient(create_app(settings_for(trained, tmp_path))) as client:
        for name in LOGGERS:  # and then every logger at DEBUG, whatever the service set
            caplog.set_level(logging.DEBUG, logger=name or None)

        def call(method: str, url: str, **kwargs: object) -> dict:
            response = client.request(method, url, headers=adviser, **kwargs)
            assert response.status_code == 200, response.text
            request_ids.append(response.headers["X-Request-ID"])
            return response.json()

        for body in ({"candidate_id": candidate_id, "top_k": 3}, {"candidate": record, "top_k": 3}):
            served = call("POST", "/shortlists", json=body)
            decided = call(
                "POST",
                f"/shortlists/{served['shortlist_id']}/decisions",
                json={
                    "decisions": [
                        {"rank": 1, "decision": "accept"},
                        {"rank": 2, "decision": "reject", "reason_code": "too_far"},
                    ]
                },
            )
            plan_id = decided["items"][0]["plan_id"]
            assert plan_id is not None
            call("GET", f"/plans/{plan_id}")
            call("GET", f"/shortlists/{served['shortlist_id']}")
        bad = dict(record, lat="north")  # a rejected body is not logged either
        assert client.post("/shortlists", json={"candidate": bad}, headers=adviser).status_code == 422

    stderr = capsys.readouterr().err
    records = [repr(vars(r)) for r in caplog.records]
    assert len(records) > 10, "the capture saw no logging"
    text = "\n".join([caplog.text, stderr, *records])

    frame = trained.dataset.candidates
    stored = frame[frame["candidate_id"] == candidate_id].iloc[0].to_dict()
    stored = {k: (v.item() if hasattr(v, "item") else v) for k, v in stored.items()}
    audit_frame = trained.dataset.audit
    audit = audit_frame[audit_frame["candidate_id"] == candidate_id].iloc[0].to_dict()
    leaks = [
        what
        for person, fields in ((stored, audit), (record, None))
        for what, pattern in personal_values(person, fields)
        if pattern.search(text)
    ]
    assert not leaks, f"personal data in the logs: {leaks}"

    # the service's own lines: JSON, each with a request id; one request line per request
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    service = [line for line in lines if line.get("logger", "").startswith("jobmatch")]
    assert service and all("request_id" in line for line in service)
    requests = [line for line in service if line["logger"] == "jobmatch.requests"]
    assert {line["request_id"] for line in requests} >= set(request_ids)
    for line in requests:
        assert set(line) >= {"time", "level", "request_id", "method", "route", "status", "duration_ms", "model_version"}
        assert "{" in line["route"] or line["route"] in ("/shortlists", "/health", "/metrics")
        assert line["model_version"] == trained.model.version
    routes = {line["route"] for line in requests}
    assert {"/shortlists", "/shortlists/{shortlist_id}/decisions", "/plans/{plan_id}"} <= routes
    assert not any(re.search(r"/\d+", line["route"]) for line in requests), "raw paths instead of templates"


@pytest.fixture(scope="module")
def client(trained, tmp_path_factory):
    with TestClient(create_app(settings_for(trained, tmp_path_factory.mktemp("observability")))) as client:
        yield client


def test_metrics_expose_requests_latency_model_scoring_and_served_shortlists(client, trained):
    batch = trained.key("batch")
    frame = trained.dataset.candidates
    candidate_id = str(frame.loc[frame["consent"] & frame["active"], "candidate_id"].iloc[0])
    assert client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 4}, headers=batch).status_code == 200
    assert client.post("/shortlists", json={"candidate_id": "nobody"}, headers=batch).status_code == 404
    assert client.get("/shortlists/12345", headers=trained.key("adviser")).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    pool = client.app.state.service.pool
    workplace = str(pool.frame["workplace_id"].iat[int(pool.open_rows[0])])
    assert client.post(f"/workplaces/{workplace}/candidates", json={"top_k": 3}, headers=batch).status_code == 200

    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    version = trained.model.version
    for family in (
        'jobmatch_http_requests_total{method="POST",route="/shortlists",status="200"} 1.0',
        'jobmatch_http_requests_total{method="POST",route="/shortlists",status="404"} 1.0',
        'jobmatch_http_requests_total{method="GET",route="/shortlists/{shortlist_id}",status="404"} 1.0',
        'jobmatch_http_requests_total{method="GET",route="unmatched",status="404"} 1.0',
        'jobmatch_http_request_duration_seconds_bucket{le="0.5",method="POST",route="/shortlists",status="200"}',
        f'jobmatch_model_info{{name="jobmatch-ranker",run_id="{trained.model.run_id}",version="{version}"}} 1.0',
        'jobmatch_scoring_mode{mode="model"} 1.0',
        'jobmatch_scoring_mode{mode="rule"} 0.0',
        'jobmatch_shortlist_size_bucket{le="5.0",scored_by="model",side="candidate"} 1.0',
        'jobmatch_shortlist_size_count{scored_by="model",side="workplace"} 1.0',
        'jobmatch_served_score_count{scored_by="model",side="candidate"} 4.0',
        "jobmatch_served_expected_success_count 4.0",
        'jobmatch_model_reloads_total{outcome="refused",trigger="api"} 0.0',
    ):
        assert family in text, family
    assert "12345" not in text and candidate_id not in text and workplace not in text


def test_the_request_id_is_taken_when_safe_and_always_returned(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123.x"}).headers["X-Request-ID"] == "abc-123.x"
    for unsafe in ("has spaces", "x" * 101, "semi;colon"):
        returned = client.get("/health", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert returned != unsafe and re.fullmatch(r"[0-9a-f]{32}", returned)
    first, second = (client.get("/health").headers["X-Request-ID"] for _ in range(2))
    assert first != second


def test_an_unhandled_error_is_a_500_naming_the_request_and_logs_no_message(trained, tmp_path, capsys):
    app = create_app(settings_for(trained, tmp_path))

    secret = {"lat": 59.9137712, "candidate_id": "SYN-C000001"}

    def broken() -> None:
        raise ValueError(f"lat {secret['lat']} of {secret['candidate_id']}")  # the stack shows this line, not values

    app.add_api_route("/broken", broken)
    with TestClient(app) as client:
        response = client.get("/broken", headers={"X-Request-ID": "req-broken"})
    assert response.status_code == 500 and "req-broken" in response.json()["detail"]
    stderr = capsys.readouterr().err
    assert "59.9137712" not in stderr and "SYN-C000001" not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    error = next(line for line in lines if line["message"] == "unhandled ValueError")
    assert error["request_id"] == "req-broken" and "broken" in error["stack"]
    request = next(
        line for line in lines if line["logger"] == "jobmatch.requests" and line["request_id"] == "req-broken"
    )
    assert request["status"] == 500 and request["route"] == "/broken"
