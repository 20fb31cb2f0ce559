"""The adviser's page without a browser: login and its cookie, CSRF, roles and caseloads, errors
shown on the page, and that the page records what the API records. (The full walk-through in a
real browser is tests/e2e/test_browser.py.)"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.store.db import make_engine, session_scope
from matching.store.decisions import decision_history
from matching.store.shortlists import get_shortlist
from serving.app import create_app
from serving.web.i18n import all_labels_complete
from tests.serving.test_review import own_candidate


@pytest.fixture(scope="module")
def app(trained: Any) -> Any:
    with TestClient(create_app(trained.settings())) as client:
        yield client.app


def browser(app: Any) -> TestClient:
    """A fresh client: its own cookie jar, like a new browser."""
    return TestClient(app)


def log_in(client: TestClient, key: str) -> str:
    """Log in through the form; returns the page's CSRF token."""
    form = client.get("/app/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post("/app/login", data={"api_key": key, "login_token": token.group(1)})
    assert response.status_code == 200, response.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert csrf is not None
    return csrf.group(1)


def test_every_label_has_both_languages() -> None:
    assert all_labels_complete() == []


def test_login_makes_a_strict_http_only_session(app: Any, trained: Any) -> None:
    client = browser(app)
    page = client.get("/app", follow_redirects=True)
    assert page.url.path == "/app/login" and '<html lang="nb">' in page.text and "Logg inn" in page.text
    assert (
        page.headers["cache-control"] == "no-store" and "script-src 'none'" in page.headers["content-security-policy"]
    )
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

    assert client.post("/app/login", data={"api_key": "nope", "login_token": token}).status_code == 401
    assert browser(app).post("/app/login", data={"api_key": trained.keys["adviser"]}).status_code == 403  # no token
    wrong_role = client.post("/app/login", data={"api_key": trained.keys["batch"], "login_token": token})
    assert wrong_role.status_code == 403 and "jobmatch_session" not in wrong_role.headers.get("set-cookie", "")

    response = client.post(
        "/app/login",
        data={"api_key": trained.keys["adviser"], "login_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("jobmatch_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
    assert trained.keys["adviser"] not in cookie
    home = client.get("/app")
    assert home.status_code == 200 and "Mine kandidater" in home.text and own_candidate(trained) in home.text
    # the JSON API still wants the key, not the cookie
    assert client.post("/shortlists", json={"candidate_id": own_candidate(trained)}).status_code == 401

    english = client.get("/app?lang=en")
    assert '<html lang="en">' in english.text and "My caseload" in english.text
    assert '<html lang="en">' in client.get("/app").text  # remembered in a cookie
    client.get("/app?lang=no")


def test_forms_without_the_token_change_nothing(app: Any, trained: Any) -> None:
    client = browser(app)
    csrf = log_in(client, trained.keys["adviser"])
    made = client.post(
        "/app/shortlists",
        data={"csrf_token": csrf, "candidate_id": own_candidate(trained), "top_k": "3"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    shortlist_id = int(made.headers["location"].rsplit("/", 1)[1])
    forged = client.post(f"/app/shortlists/{shortlist_id}/decisions", data={"rank": "1", "decision": "accept"})
    assert forged.status_code == 403
    wrong = client.post(
        f"/app/shortlists/{shortlist_id}/decisions", data={"csrf_token": "x" * 43, "rank": "1", "decision": "accept"}
    )
    assert wrong.status_code == 403
    not_a_form = client.post(f"/app/shortlists/{shortlist_id}/decisions", json={"csrf_token": csrf})
    assert not_a_form.status_code == 415

    # a rejection needs its text with reason "other": the page says so and records nothing
    missing = client.post(
        f"/app/shortlists/{shortlist_id}/decisions",
        data={"csrf_token": csrf, "rank": "1", "decision": "reject", "reason_code": "other", "reason_text": ""},
    )
    assert missing.status_code == 422 and 'role="alert"' in missing.text and "reason_text" in missing.text

    engine = make_engine(trained.settings().database_url)
    with session_scope(engine, readonly=True) as session:
        stored = get_shortlist(session, shortlist_id)
        assert decision_history(session, stored.item_id(1)) == []
    engine.dispose()


def test_caseloads_and_roles_hold_on_the_page(app: Any, trained: Any) -> None:
    theirs = browser(app)
    csrf = log_in(theirs, trained.keys["other_adviser"])
    made = theirs.post(
        "/app/shortlists",
        data={"csrf_token": csrf, "candidate_id": own_candidate(trained, "other_adviser"), "top_k": "3"},
        follow_redirects=False,
    )
    shortlist_id = int(made.headers["location"].rsplit("/", 1)[1])

    mine = browser(app)
    csrf = log_in(mine, trained.keys["adviser"])
    assert mine.get(f"/app/shortlists/{shortlist_id}").status_code == 403
    not_mine = mine.post(
        "/app/shortlists",
        data={"csrf_token": csrf, "candidate_id": own_candidate(trained, "other_adviser"), "top_k": "3"},
    )
    assert not_mine.status_code == 403 and "caseload" in not_mine.text
    assert mine.get("/app/shortlists/999999").status_code == 404
    assert mine.get("/app/plans/999999").status_code == 404
    assert mine.get("/app/employer").status_code == 403  # the employer page is the employer's


def test_plan_edits_are_revisions_and_stale_forms_are_refused(app: Any, trained: Any) -> None:
    client = browser(app)
    csrf = log_in(client, trained.keys["adviser"])
    made = client.post(
        "/app/shortlists",
        data={"csrf_token": csrf, "candidate_id": own_candidate(trained), "top_k": "3"},
        follow_redirects=False,
    )
    shortlist_id = int(made.headers["location"].rsplit("/", 1)[1])
    accepted = client.post(
        f"/app/shortlists/{shortlist_id}/decisions",
        data={"csrf_token": csrf, "rank": "1", "decision": "accept"},
        follow_redirects=False,
    )
    location = accepted.headers["location"]
    assert re.fullmatch(r"/app/plans/\d+\?done=decision", location)
    plan_url = location.split("?")[0]
    page = client.get(plan_url).text
    form = {k: html.unescape(v) for k, v in re.findall(r'<input id="([a-z_]+)" name="\1"[^>]*value="([^"]*)"', page)}
    for name in ("purpose_reason", "training"):
        found = re.search(rf'id="{name}"[^>]*>([^<]*)</textarea>', page)
        assert found is not None
        form[name] = html.unescape(found.group(1))
    purpose = re.search(r'<option value="([a-z_]+)" selected>', page)
    assert purpose is not None
    form |= {"purpose": purpose.group(1), "csrf_token": csrf, "revision": "1"}
    nothing = client.post(f"{plan_url}/revisions", data=form)
    assert nothing.status_code == 200 and "Ingen endringer å lagre" in nothing.text
    bad = client.post(f"{plan_url}/revisions", data={**form, "hours_per_week": "80"})
    assert bad.status_code == 422 and "hours_per_week" in bad.text and 'value="80"' in bad.text  # the edit is kept
    saved = client.post(f"{plan_url}/revisions", data={**form, "tutor_name": "Ola"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=revision")
    stale = client.post(f"{plan_url}/revisions", data={**form, "tutor_name": "Kari"})
    assert stale.status_code == 409 and "revision 2" in stale.text
    approved = client.post(f"{plan_url}/approvals", data={"csrf_token": csrf, "revision": "1"})
    assert approved.status_code == 409  # approvals are of the current revision only
    approved = client.post(
        f"{plan_url}/approvals", data={"csrf_token": csrf, "revision": "2", "person_approved": "yes"}
    )
    assert approved.status_code == 200 and "Venter på: arbeidsgiveren" in approved.text


def test_the_page_is_not_in_the_api_schema_and_its_stylesheet_is_served(app: Any) -> None:
    client = browser(app)
    assert not [path for path in client.get("/openapi.json").json()["paths"] if path.startswith("/app")]
    css = client.get("/app/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
