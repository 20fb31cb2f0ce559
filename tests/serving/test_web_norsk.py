"""Norwegian throughout on the page (bokmål by default, English on request): the drafted plan
texts, the adviser's own sentences with their numbers, dates as dd.mm.yyyy, and the API's refusals
in Norwegian with the service's own words beside them. The JSON API keeps its English texts."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.plain import plan_texts
from matching.plain.adviser import adviser_sentence
from serving.app import create_app
from tests.serving.test_review import own_candidate
from tests.serving.test_web import log_in

NORWEGIAN_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")


@pytest.fixture(scope="module")
def app(trained: Any, tmp_path_factory: Any) -> Any:
    home = tmp_path_factory.mktemp("norsk")
    settings = trained.settings(database_url=f"sqlite:///{home / 'store.db'}")
    with TestClient(create_app(settings)) as client:
        yield client


def shortlist(app: TestClient, trained: Any) -> dict[str, Any]:
    body = {"candidate_id": own_candidate(trained), "top_k": 3}
    response = app.post("/shortlists", json=body, headers=trained.key("adviser"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_adviser_reads_their_own_sentences_with_norwegian_numbers(app: TestClient, trained: Any) -> None:
    served = shortlist(app, trained)
    client = TestClient(app.app)
    log_in(client, trained.keys["adviser"])
    page = html.unescape(client.get(f"/app/shortlists/{served['shortlist_id']}?lang=no").text)
    english = html.unescape(client.get(f"/app/shortlists/{served['shortlist_id']}?lang=en").text)
    client.get("/app?lang=no")
    checked = 0
    for item in served["items"]:
        for side, positive in (("speaks_for", True), ("speaks_against", False)):
            for reason in item["explanation"][side]:
                text, lang = adviser_sentence(reason, item["features"], positive, "no")
                assert lang == "no", reason
                assert text in page, text
                assert reason["sentence"] in english  # the API's own English sentence on the English page
                assert reason["sentence"] not in page
                checked += 1
    assert checked > 0
    reasons = re.findall(r'<li lang="nb">([^<]*)</li>', page)
    assert reasons and not [r for r in reasons if re.search(r"\b(du|deg)\b", r, re.IGNORECASE)]
    assert not re.search(r"\d\.\d", " ".join(reasons))  # decimal comma
    assert NORWEGIAN_DATE.search(page)


def test_the_drafted_plan_is_in_norwegian_and_in_english_on_request(app: TestClient, trained: Any) -> None:
    served = shortlist(app, trained)
    client = TestClient(app.app)
    csrf = log_in(client, trained.keys["adviser"])
    accepted = client.post(
        f"/app/shortlists/{served['shortlist_id']}/decisions",
        data={"csrf_token": csrf, "rank": "1", "decision": "accept"},
        follow_redirects=False,
    )
    plan_url = accepted.headers["location"].split("?")[0]
    plan_id = int(plan_url.rsplit("/", 1)[1])
    stored = app.get(f"/plans/{plan_id}", headers=trained.key("adviser")).json()
    draft = stored["draft"] if "draft" in stored else stored
    reason, training = draft["purpose_reason"], draft["workplace"]["training"]
    assert training.startswith("train the person in the tasks of the job (")  # the API keeps English

    page = html.unescape(client.get(f"{plan_url}?lang=no").text)
    catalogue = app.app.state.service.pool.catalogue
    code = draft["tasks"]["occupation_code"]
    assert plan_texts.drafted_text(reason, "no") in page and reason not in page
    assert f"lære opp personen i arbeidsoppgavene i jobben ({catalogue.title(code, 'no')})" in page
    assert "train the person" not in page
    assert "veilederen på arbeidsplassen (fadder) skal navngis" in page
    assert "to be named" not in page
    assert NORWEGIAN_DATE.search(page) and not re.search(
        r"\d{1,2}\. (januar|februar|mars|april|mai|juni|juli|"
        r"august|september|oktober|november|desember) \d{4}",
        page,
    )

    english = html.unescape(client.get(f"{plan_url}?lang=en").text)
    assert reason in english and "train the person in the tasks of the job (" in english
    assert "the workplace tutor is to be named" in english
    client.get(f"{plan_url}?lang=no")

    # the form sent back unchanged, in Norwegian, is no change; the stored texts stay English
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

    bad = client.post(f"{plan_url}/revisions", data={**form, "hours_per_week": "mange"})
    assert bad.status_code == 422 and "«hours_per_week» må være et tall" in html.unescape(bad.text)


def test_refusals_are_shown_in_norwegian_with_the_service_words_beside(app: TestClient, trained: Any) -> None:
    client = TestClient(app.app)
    csrf = log_in(client, trained.keys["adviser"])
    theirs = own_candidate(trained, "other_adviser")
    refused = client.post("/app/shortlists", data={"csrf_token": csrf, "candidate_id": theirs, "top_k": "3"})
    text = html.unescape(refused.text)
    assert refused.status_code == 403 and "Personen er ikke blant dine kandidater." in text
    assert '<span lang="en" class="muted">(this candidate is not on your caseload)</span>' in text
    english = client.post("/app/shortlists?lang=en", data={"csrf_token": csrf, "candidate_id": theirs, "top_k": "3"})
    assert "this candidate is not on your caseload" in english.text and "Personen er ikke" not in english.text
    client.get("/app?lang=no")
    missing = client.get("/app/plans/999999")
    assert missing.status_code == 404 and "Fant ikke" in html.unescape(missing.text)
