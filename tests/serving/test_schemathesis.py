"""Bad input, from a tool we did not write: schemathesis generates requests for every operation of
the app's OpenAPI schema (valid and invalid ones: its examples, coverage and fuzzing phases, 25
fuzzed cases per operation, derandomised) and checks each response: no 5xx, a documented status
code, the documented content type, and a body that matches the documented schema.

The app runs in-process (ASGI, its lifespan started once for the module) over the session's
trained model and data, with a store, key file and pseudonym key of its own, so generated writes
reach no other test. Every request carries a key of a role the operation admits (`ROLE`), so the
input gets past authentication into the handlers. Ids that schemathesis makes up are almost never
ids the store holds, so each case with a path id is sent twice: as generated, and with the id
replaced by a real one (a recorded shortlist, an open plan, a placement, a person on the adviser's
caseload, a served workplace), so the generated bodies and queries reach the code behind the 404.
Likewise a generated `POST /shortlists` body is sent again made scorable (a real `candidate_id`,
or the generated record with consent and known occupation codes), and a generated plan revision
again with its values put under real field names.

Nothing is excluded. `POST /model/off`, `/model/on` and `/model/reload` switch and reload this
module's own app only (the MLflow store is only read); `DELETE /candidates/{id}` with a real id
erases one person set aside for it, after which it answers 409.

Bodies: over `max_body_bytes` (1 MiB) the answer is 413, a body that is not UTF-8 is 400; both are
documented on every operation with a body (`serving/limits.py`). The explicit tests at the end
check those and the limits schemathesis cannot reach by chance (far-off plan dates, long texts).

The cases run and the failures (test-function calls that raised) per operation, with the status
codes seen, are written to `bench/results/schemathesis.json` and printed at the end.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matching.records import load_catalogue
from matching.settings import Settings
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "schemathesis.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25  # fuzzing-phase cases per operation (the examples and coverage phases add their own)

# the role whose key each operation's requests carry (operations not listed: the adviser's)
ROLE: dict[tuple[str, str], str] = {
    ("POST", "/shortlists"): "batch",  # any candidate, and any generated full record, gets scored
    ("GET", "/audit"): "dpo",
    ("POST", "/workplaces/{workplace_id}/candidates"): "batch",
    ("POST", "/model/reload"): "scientist",
    ("POST", "/model/off"): "admin",
    ("POST", "/model/on"): "scientist",
    ("GET", "/model/scoring"): "dpo",
    ("GET", "/model/card"): "batch",
    ("GET", "/model"): "scientist",
    ("GET", "/candidates/{candidate_id}/export"): "dpo",
    ("DELETE", "/candidates/{candidate_id}"): "dpo",
    ("POST", "/workplaces"): "specialist",
    ("GET", "/workplaces/{workplace_id}"): "specialist",
    ("PATCH", "/workplaces/{workplace_id}"): "specialist",
    ("GET", "/workplaces/{workplace_id}/presented"): "employer",
    ("GET", "/fairness/live"): "dpo",
}
# fields a plan revision may change (matching.inclusion.revise), for generated values to land on
REVISABLE = (
    "purpose",
    "purpose_reason",
    "hours_per_week",
    "start_date",
    "end_date",
    "tutor_name",
    "first_contact_days",
    "followup_interval_days",
    "tasks.needing_training",
    "workplace.training",
    "workplace.adaptations",
    "support_system.unmet_support_needs",
    "support_system.needs_outside_work",
)


@dataclass
class Fuzz:
    """Keys, the real ids generated cases are also sent with, and what happened."""

    keys: dict[str, str]
    known: dict[str, str | int]  # path parameter -> a real value
    erasable: str  # the one person DELETE /candidates/{id} may erase
    codes: frozenset[str]  # the catalogue's occupation codes
    cases: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def _caseload(trained: Any) -> tuple[str, list[str]]:
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = str(eligible["adviser_id"].drop_duplicates().iloc[0])  # the `adviser` key's caseload
    return adviser_id, eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].astype(str).tolist()


@pytest.fixture(scope="module")
def fuzz_app(
    trained: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Fuzz]]:
    """The app on its own store and key file, started once, with a few real records to aim at."""
    home = tmp_path_factory.mktemp("schemathesis")
    keys_file = home / "api-keys.json"
    keys_file.write_text((trained.home / "api-keys.json").read_text(encoding="utf-8"), encoding="utf-8")
    keys = {name: trained.keys[name] for name in ("batch", "adviser", "dpo", "scientist")}
    keys["admin"] = add_key(keys_file, Identity(name="fuzz-admin", role="admin"))
    keys["specialist"] = add_key(keys_file, Identity(name="fuzz-specialist", role="job_specialist"))
    settings = Settings(
        data_dir=trained.data_dir,
        tracking_uri=trained.tracking_uri,
        database_url=f"sqlite:///{home / 'store.db'}",
        api_keys_file=keys_file,
        pseudonym_key=SecretStr("schemathesis-pseudonym-key"),
        pseudonym_key_file=home / "pseudonym.key",
    )
    app = create_app(settings)
    adviser_id, caseload = _caseload(trained)
    with asgi.get_client(app) as client:  # type: ignore[arg-type]  # starts the app's lifespan (kept until the module ends)
        adviser = {"Authorization": f"Bearer {keys['adviser']}"}

        def post(url: str, body: dict[str, Any], headers: dict[str, str] = adviser) -> dict[str, Any]:
            response = client.post(url, json=body, headers=headers)
            assert response.status_code == 200, (url, response.text)
            result: dict[str, Any] = response.json()
            return result

        shortlists = [post("/shortlists", {"candidate_id": person, "top_k": 10}) for person in caseload[:3]]
        assert all(len(s["items"]) >= 2 for s in shortlists), "the adviser's first persons need suggestions"
        accept = {"decisions": [{"rank": 1, "decision": "accept"}]}
        open_plan = post(f"/shortlists/{shortlists[1]['shortlist_id']}/decisions", accept)["items"][0]["plan_id"]
        third = f"/shortlists/{shortlists[2]['shortlist_id']}"
        plan_id = post(f"{third}/decisions", accept)["items"][0]["plan_id"]
        post(f"{third}/answers", {"answers": [{"rank": 1, "answer": "interested"}]})
        presented = {
            "candidate_id": shortlists[2]["candidate_id"],
            "workplace_id": shortlists[2]["items"][0]["workplace_id"],
        }
        post("/presentations", presented)  # interested and presented: the employer may see the plan
        plan = client.get(f"/plans/{plan_id}", headers=adviser).json()
        keys["employer"] = add_key(
            keys_file,
            Identity(name="fuzz-employer", role="employer", employer_id=plan["draft"]["employer_id"]),
        )
        app.state.api_keys = load_keys(keys_file)
        employer = {"Authorization": f"Bearer {keys['employer']}"}
        for party, who in (("person", adviser), ("adviser", adviser), ("employer", employer)):
            agreed = post(f"/plans/{plan_id}/approvals", {"party": party, "revision": plan["revision"]}, who)
        assert agreed["placement_id"] is not None
    fuzz = Fuzz(
        keys=keys,
        known={
            "shortlist_id": shortlists[0]["shortlist_id"],
            "plan_id": open_plan,
            "placement_id": agreed["placement_id"],
            "candidate_id": shortlists[0]["candidate_id"],
            "adviser_id": adviser_id,
            "workplace_id": shortlists[0]["items"][0]["workplace_id"],
        },
        erasable=caseload[3],
        codes=frozenset(load_catalogue().occupations["occupation_code"].astype(str)),
    )
    started = time.monotonic()
    yield app, fuzz
    asgi.shutdown_lifespans()
    summary = {
        "what": "schemathesis against every operation of the OpenAPI schema (tests/serving/test_schemathesis.py)",
        "schemathesis": version("schemathesis"),
        "checks": [check.__name__ for check in CHECKS],
        "max_examples": MAX_EXAMPLES,
        "cases": sum(fuzz.cases.values()),
        "failures": sum(fuzz.failures.values()),
        "operations": len(fuzz.cases),
        "seconds": round(time.monotonic() - started, 1),
        "by_operation": {
            label: {
                "cases": fuzz.cases[label],
                "failures": fuzz.failures[label],
                "statuses": {str(code): n for code, n in sorted(fuzz.statuses.get(label, Counter()).items())},
            }
            for label in sorted(fuzz.cases)
        },
    }
    if summary["cases"]:  # not when only the explicit tests ran
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print(
            f"\nschemathesis: {summary['cases']} cases over {summary['operations']} operations, "
            f"{summary['failures']} failures ({summary['seconds']} s; {RESULTS.relative_to(ROOT)})"
        )


@pytest.fixture(scope="module")
def api_schema(fuzz_app: tuple[Any, Fuzz]) -> Any:
    app, _ = fuzz_app
    config = schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def fuzz(fuzz_app: tuple[Any, Fuzz]) -> Fuzz:
    return fuzz_app[1]


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's fixture loader reads and renames `Function._nodeid`, which pytest 9.2 no
    longer has (it keeps the id in `_id`): give it the attribute (its renames only label subtests)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


def _role(method: str, path: str, body: Any) -> str:
    if path == "/plans/{plan_id}/approvals" and isinstance(body, dict) and body.get("party") == "employer":
        return "employer"
    return ROLE.get((method, path), "adviser")


def _top_k(body: dict[str, Any]) -> int:
    top_k = body.get("top_k")
    return top_k if isinstance(top_k, int) and not isinstance(top_k, bool) and 1 <= top_k <= 100 else 10


def _aimed(case: Any, method: str, path: str, fuzz: Fuzz) -> bool:
    """Point `case` at records the store holds (real ids, a scorable body); False when nothing changes."""
    real = {name: fuzz.known[name] for name in (case.path_parameters or {}) if name in fuzz.known}
    if method == "DELETE" and "candidate_id" in real:
        real["candidate_id"] = fuzz.erasable
    if real:
        case.path_parameters = {**case.path_parameters, **real}
    body = case.body if isinstance(case.body, dict) else None
    if (method, path) == ("POST", "/shortlists") and body is not None:
        record = body.get("candidate")
        if isinstance(record, dict):  # the generated record, with consent and known codes only
            codes = record.get("preferred_occupations")
            codes = [c for c in codes if isinstance(c, str) and c in fuzz.codes] if isinstance(codes, list) else []
            record = {**record, "consent": True, "active": True, "preferred_occupations": codes}
            if not (isinstance(record.get("adviser_id"), str) and record["adviser_id"].strip()):
                record["adviser_id"] = fuzz.known["adviser_id"]  # required of a batch caller
            case.body = {"candidate": record, "top_k": _top_k(body)}
        else:
            case.body = {"candidate_id": fuzz.known["candidate_id"], "top_k": _top_k(body)}
        return True
    if (method, path) == ("POST", "/presentations") and body is not None:  # a real person and workplace
        case.body = {"candidate_id": fuzz.known["candidate_id"], "workplace_id": fuzz.known["workplace_id"]}
        return True
    if (method, path) == ("POST", "/plans/{plan_id}/revisions") and body is not None:
        changes = body.get("changes")
        if isinstance(changes, dict) and changes:  # the generated values, under real field names
            values = list(changes.values())
            case.body = {**body, "changes": {REVISABLE[i % len(REVISABLE)]: v for i, v in enumerate(values)}}
            return True
    return bool(real)


@schema.parametrize()
def test_every_operation_survives_generated_input(case: Any, fuzz: Fuzz) -> None:
    # the operation's own method (the coverage phase also probes a path with methods it does not take)
    method, path = case.operation.method.upper(), case.operation.path
    label = f"{method} {path}"
    headers = fuzz.headers(_role(method, path, case.body))
    seen = fuzz.statuses.setdefault(label, Counter())
    try:
        fuzz.cases[label] += 1
        seen[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1
        if case.method.upper() == method and _aimed(case, method, path, fuzz):
            fuzz.cases[label] += 1
            seen[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1
    except BaseException:
        fuzz.failures[label] += 1
        raise


# Limits schemathesis does not reach by chance ------------------------------------------------------


@pytest.fixture(scope="module")
def client(fuzz_app: tuple[Any, Fuzz]) -> Iterator[Any]:
    with asgi.get_client(fuzz_app[0]) as session:
        yield session


def test_a_body_over_the_limit_is_413_before_it_is_read(client: Any, fuzz: Fuzz) -> None:
    big = json.dumps({"candidate_id": "x" * (1024 * 1024), "top_k": 1})
    declared = client.post(
        "/shortlists", data=big, headers={**fuzz.headers("batch"), "content-type": "application/json"}
    )
    assert declared.status_code == 413 and "1048576 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536].encode()

    chunked = client.post(
        "/shortlists", data=chunks(), headers={**fuzz.headers("batch"), "content-type": "application/json"}
    )
    assert chunked.status_code == 413
    fine = client.post("/shortlists", json={"candidate_id": fuzz.known["candidate_id"]}, headers=fuzz.headers("batch"))
    assert fine.status_code == 200, fine.text


def test_a_body_that_is_not_text_is_400_and_every_body_operation_documents_400_and_413(client: Any, fuzz: Fuzz) -> None:
    response = client.post(
        "/shortlists",
        data=b'{"candidate_id": "\xff\xfe"}',
        headers={**fuzz.headers("batch"), "content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["detail"]
    paths = client.get("/openapi.json").json()["paths"]
    with_body = [op for ops in paths.values() for op in ops.values() if "requestBody" in op]
    assert len(with_body) >= 12
    assert all({"400", "413", "422"} <= set(op["responses"]) for op in with_body)


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"start_date": "9999-12-29", "end_date": "9999-12-31"}, "start_date"),  # was a 500: no day after
        ({"end_date": "2040-01-01", "followup_interval_days": 1}, "end_date"),  # thousands of follow-ups
        ({"start_date": "1900-01-01"}, "start_date"),
        ({"purpose_reason": "x" * 2001}, "purpose_reason"),
        ({"support_system.needs_outside_work": [{"area": "housing", "description": "y" * 5000}]}, "description"),
        ({"workplace.adaptations": [{"support": "mentor", "need": "helps"}] * 51}, "workplace.adaptations"),
        ({"k" * 101: 1}, "changes"),
    ],
)
def test_a_plan_revision_beyond_the_limits_is_422_naming_the_field(
    client: Any, fuzz: Fuzz, changes: dict[str, Any], field_name: str
) -> None:
    url = f"/plans/{fuzz.known['plan_id']}/revisions"
    response = client.post(url, json={"changes": changes}, headers=fuzz.headers("adviser"))
    assert response.status_code == 422, response.text
    assert field_name in json.dumps(response.json()["detail"])


def test_limits_on_follow_up_days_and_assessment_texts(client: Any, fuzz: Fuzz) -> None:
    adviser = fuzz.headers("adviser")
    url = f"/advisers/{fuzz.known['adviser_id']}/follow-ups"
    far = client.get(url, params={"today": "9999-12-31"}, headers=adviser)
    assert far.status_code == 422 and far.json()["detail"][0]["loc"] == ["query", "today"]  # was a 500
    assert client.get(url, params={"today": "2030-01-01"}, headers=adviser).status_code == 200
    assessment = {"source": "person", "tasks_mastered": 3, "would_continue": "yes", "what_worked": "z" * 2001}
    event = client.post(
        f"/placements/{fuzz.known['placement_id']}/events",
        json={"kind": "assessment", "assessment": assessment},
        headers=adviser,
    )
    assert event.status_code == 422 and event.json()["detail"][0]["loc"] == ["body", "assessment", "what_worked"]
    audit = client.get("/audit", params={"actor": "a" * 201}, headers=fuzz.headers("dpo"))
    assert audit.status_code == 422


def test_a_full_record_whose_id_has_surrounding_whitespace_is_served_under_the_stored_id(
    client: Any, fuzz: Fuzz, trained: Any
) -> None:
    # was a 500: the contract strips the id it stores ("\x85" is whitespace to it), the route recorded the raw one
    record = trained.dataset.candidates.iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    for raw in (" FUZZ-C1 ", "\x85FUZZ-C2"):
        body = {"candidate": {**record, "candidate_id": raw, "consent": True, "active": True}, "top_k": 2}
        response = client.post("/shortlists", json=body, headers=fuzz.headers("batch"))
        assert response.status_code == 200, response.text
        assert response.json()["candidate_id"] == raw.strip()
