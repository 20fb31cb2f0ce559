"""The loop on the page, past the plan: the person's own answer, presenting them, both sides
approving, the placement's steps (contacted, trial started: a slot is taken, trial completed,
hired), both end-of-trial assessments, and the timeline with Norwegian dates. An impossible step,
an incomplete form and presenting before the person's interest are refused with a Norwegian
message, and nothing is saved. (The browser walk-through is tests/e2e/test_browser.py.)"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.store.db import make_engine, session_scope
from matching.store.local_fields import job_specialist_of, set_job_specialist
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_web import browser, log_in

SPECIALIST = "loop-specialist"
EMPLOYER = "loop-employer"


@dataclass
class Loop:
    client: TestClient
    person: str
    keys: dict[str, str]

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


def person_for_the_loop(trained: Any) -> str:
    """A consenting, active person of the `adviser` key's caseload that other modules leave alone."""
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = eligible["adviser_id"].drop_duplicates().iloc[0]
    return str(eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].iloc[11])


@pytest.fixture(scope="module")
def loop(trained: Any) -> Iterator[Loop]:
    with TestClient(create_app(trained.settings())) as client:
        yield Loop(client, person_for_the_loop(trained), {"adviser": trained.keys["adviser"]})


def today_in_norway() -> str:
    return dt.datetime.now(zoneinfo.ZoneInfo("Europe/Oslo")).strftime("%d.%m.%Y")


def unlabelled(page: str) -> list[str]:
    """Form controls (not hidden) without a `<label for=...>` of their id."""
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    bad = []
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        if 'type="hidden"' in tag:
            continue
        found = re.search(r'id="([^"]+)"', tag)
        if found is None or found.group(1) not in labelled:
            bad.append(tag)
    return bad


def post(client: TestClient, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data=data, follow_redirects=False)


def test_the_page_carries_the_loop_from_answer_to_hire(loop: Loop, trained: Any) -> None:
    adviser = browser(loop.client.app)
    csrf = log_in(adviser, loop.keys["adviser"])
    made = post(adviser, "/app/shortlists", {"csrf_token": csrf, "candidate_id": loop.person, "top_k": "3"})
    assert made.status_code == 303
    shortlist_url = made.headers["location"]
    shortlist_id = int(shortlist_url.rsplit("/", 1)[1])
    page = adviser.get(shortlist_url).text
    assert "Personen har ikke svart ennå." in page and 'data-action="present"' not in page
    assert 'for="answer-1"' in page and "Personens svar på forslag 1" in page and unlabelled(page) == []

    # presenting before the person's interest: refused on the page, in Norwegian
    early = post(adviser, f"{shortlist_url}/presentations", {"csrf_token": csrf, "rank": "1"})
    assert early.status_code == 409 and "registrer først at personen selv er interessert" in early.text
    assert "Presentert for arbeidsplassen av" not in early.text

    accepted = post(adviser, f"{shortlist_url}/decisions", {"csrf_token": csrf, "rank": "1", "decision": "accept"})
    plan_url = accepted.headers["location"].split("?")[0]
    plan_id = int(plan_url.rsplit("/", 1)[1])

    # the person's own answer, then presenting them
    bad = post(adviser, f"{shortlist_url}/answers", {"csrf_token": csrf, "rank": "1", "answer": "maybe"})
    assert bad.status_code == 422 and "Velg personens svar" in bad.text
    words = "Jeg liker å jobbe med hendene, men ikke i kassa."
    answered = post(
        adviser, f"{shortlist_url}/answers", {"csrf_token": csrf, "rank": "1", "answer": "interested", "words": words}
    )
    assert answered.status_code == 303 and answered.headers["location"].endswith("?done=answer#suggestion-1")
    page = adviser.get(answered.headers["location"]).text
    assert "Personens svar er lagret." in page and "Svar: Interessert (registrert av test-adviser" in page
    assert "Presenter for arbeidsplassen" in page
    presented = post(adviser, f"{shortlist_url}/presentations", {"csrf_token": csrf, "rank": "1"})
    assert presented.status_code == 303
    page = adviser.get(presented.headers["location"]).text
    assert f"Presentert for arbeidsplassen av test-adviser {today_in_norway()}" in page
    api_view = loop.client.get(f"/shortlists/{shortlist_id}", headers=loop.header("adviser")).json()
    assert api_view["items"][0]["person_answer"]["answer"] == "interested"
    assert api_view["items"][0]["person_answer"]["words"] == words, "the person's own words are kept with the answer"
    assert "Personen sa: «Jeg liker å jobbe med hendene, men ikke i kassa.»" in page
    trail = loop.client.get("/audit", params={"actor": "test-adviser"}, headers=trained.key("dpo"))
    assert trail.status_code == 200 and "answer" in trail.text and "hendene" not in trail.text, "never in the audit"

    # the plan: the adviser for themselves and the person, then the employer on their page
    plan = loop.client.get(f"/plans/{plan_id}", headers=loop.header("adviser")).json()
    workplace_id, employer_id = plan["workplace_id"], str(plan["draft"]["employer_id"])
    path = trained.home / "api-keys.json"
    loop.keys["employer"] = add_key(path, Identity(name=EMPLOYER, role="employer", employer_id=employer_id))
    loop.keys["specialist"] = add_key(path, Identity(name=SPECIALIST, role="job_specialist"))
    loop.client.app.state.api_keys = load_keys(path)
    engine = make_engine(trained.settings().database_url)
    with session_scope(engine) as session:
        specialist_before = job_specialist_of(session, workplace_id)
        set_job_specialist(session, workplace_id, SPECIALIST)
    try:
        confirmed = adviser.post(
            f"{plan_url}/approvals", data={"csrf_token": csrf, "revision": "1", "person_approved": "yes"}
        )
        assert confirmed.status_code == 200 and "Venter på: arbeidsgiveren" in confirmed.text
        assert "Arbeidstreningen" not in confirmed.text  # no placement before everyone agreed

        employer = browser(loop.client.app)
        employer_csrf = log_in(employer, loop.keys["employer"])
        approved = employer.post(f"{plan_url}/approvals", data={"csrf_token": employer_csrf, "revision": "1"})
        assert approved.status_code == 200 and "Alle har godkjent planen" in approved.text
        placement_id = loop.client.get(f"/plans/{plan_id}", headers=loop.header("adviser")).json()["placement_id"]
        assert placement_id is not None
        events_url = f"/app/placements/{placement_id}/events"
        assert 'id="placement"' in approved.text and 'id="record-step"' not in approved.text  # no step for them

        page = adviser.get(plan_url).text
        assert "Ingenting er registrert ennå." in page and "Status: ikke startet" in page
        assert '<option value="contacted">Arbeidsgiveren kontaktet</option>' in page

        def placement() -> dict[str, Any]:
            found = loop.client.get(f"/placements/{placement_id}", headers=loop.header("adviser"))
            assert found.status_code == 200
            return found.json()  # type: ignore[no-any-return]

        def free_slots() -> int:
            found = loop.client.get(f"/workplaces/{workplace_id}", headers=loop.header("specialist"))
            assert found.status_code == 200, found.text
            return int(found.json()["record"]["slots"])

        # an impossible step: a clear Norwegian message, nothing saved
        impossible = post(adviser, events_url, {"csrf_token": csrf, "kind": "hired"})
        assert impossible.status_code == 409
        assert "«Ansatt» er ikke mulig nå, og ingenting ble lagret." in impossible.text
        assert "Mulige neste steg: Arbeidsgiveren kontaktet, Avsluttet." in impossible.text
        assert placement()["events"] == []

        def step(kind: str, **more: str) -> None:
            done = post(adviser, events_url, {"csrf_token": csrf, "kind": kind, **more})
            assert done.status_code == 303, done.text
            assert done.headers["location"] == f"/app/plans/{plan_id}?done=event#placement"

        step("contacted")
        slots = free_slots()
        # no free slot: the trial cannot start, said in Norwegian, and nothing is saved
        url, specialist = f"/workplaces/{workplace_id}", loop.header("specialist")
        assert loop.client.patch(url, json={"slots": 0}, headers=specialist).status_code == 200
        full = post(adviser, events_url, {"csrf_token": csrf, "kind": "trial_started"})
        assert full.status_code == 409 and "Arbeidsplassen har ingen ledig plass" in full.text
        assert placement()["stage"] == "contacted"
        assert loop.client.patch(url, json={"slots": slots}, headers=specialist).status_code == 200
        step("trial_started")
        assert free_slots() == slots - 1  # the trial took a slot
        assert placement()["stage"] == "trial_started"

        # an end without its reason is refused in Norwegian; nothing saved
        no_reason = post(adviser, events_url, {"csrf_token": csrf, "kind": "ended", "reason": ""})
        assert no_reason.status_code == 422 and "Velg en grunn til at arbeidstreningen avsluttes." in no_reason.text
        other = post(adviser, events_url, {"csrf_token": csrf, "kind": "ended", "reason": "other"})
        assert other.status_code == 422 and "Skriv en utdyping" in other.text
        assert placement()["stage"] == "trial_started"

        step("trial_completed")
        page = adviser.get(plan_url).text
        assert "Vurdering ved slutten av arbeidstreningen" in page and unlabelled(page) == []
        assert '<select id="kind" name="kind"' in page and '<select id="end_reason" name="reason">' in page

        # the person's assessment, recorded by the adviser; the employer's own, on the employer's plan page
        incomplete = post(adviser, events_url, {"csrf_token": csrf, "kind": "assessment", "source": "person"})
        assert incomplete.status_code == 422 and "Velg hvor godt oppgavene mestres (1–5)." in incomplete.text
        person = {
            "csrf_token": csrf,
            "kind": "assessment",
            "source": "person",
            "tasks_mastered": "4",
            "would_continue": "yes",
            "what_worked": "fast arbeidstid og en fadder",
            "what_to_change": "",
        }
        assessed = post(adviser, events_url, person)
        assert assessed.status_code == 303 and assessed.headers["location"].endswith("?done=assessment#placement")
        again = post(adviser, events_url, person)
        assert again.status_code == 409 and "allerede registrert" in again.text

        employer_page = employer.get(plan_url).text
        assert "Vurdering ved slutten av arbeidstreningen" in employer_page
        assert 'name="source"' not in employer_page  # the employer gives their own assessment only
        assert unlabelled(employer_page) == []
        not_theirs = post(employer, events_url, {"csrf_token": employer_csrf, "kind": "hired"})
        assert not_theirs.status_code == 403
        employer_assessment = {
            "csrf_token": employer_csrf,
            "kind": "assessment",
            "source": "person",  # ignored: the employer's page records the employer's assessment
            "tasks_mastered": "3",
            "would_continue": "unsure",
            "what_worked": "",
            "what_to_change": "mer tid til opplæring",
        }
        assert post(employer, events_url, employer_assessment).status_code == 303
        assert "Vurdering ved slutten av arbeidstreningen" not in employer.get(plan_url).text  # given

        step("hired")
        final = placement()
        assert final["stage"] == "hired" and final["grade"] == 4
        assert [e["kind"] for e in final["events"]] == [
            "contacted",
            "trial_started",
            "trial_completed",
            "assessment",
            "assessment",
            "hired",
        ]
        by_source = {e["assessment"]["source"]: e for e in final["events"] if e["kind"] == "assessment"}
        assert by_source["person"]["by"] == "test-adviser" and by_source["employer"]["by"] == EMPLOYER
        assert by_source["employer"]["assessment"]["what_to_change"] == "mer tid til opplæring"
        assert free_slots() == slots - 1  # a hire keeps the slot

        # the timeline: each step with its Norwegian date and who recorded it
        page = adviser.get(plan_url).text
        timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
        entries = re.findall(r'<li class="event-([a-z_]+)"><span class="day">(\d{2}\.\d{2}\.\d{4})</span>', timeline)
        assert [kind for kind, _ in entries] == [e["kind"] for e in final["events"]]
        assert {day for _, day in entries} == {today_in_norway()}
        for text in (
            "Arbeidsgiveren kontaktet",
            "Arbeidstrening startet",
            "Arbeidstrening fullført",
            "Vurdering fra personen",
            "mestrer oppgavene 4 av 5",
            "virket: fast arbeidstid og en fadder",
            "Vurdering fra arbeidsgiveren",
            "vil fortsette: usikker",
            f"registrert av {EMPLOYER}",
            "Ansatt",
            "registrert av test-adviser",
        ):
            assert text in timeline, text
        assert "Status: ansatt" in page and 'id="record-step"' not in page  # nothing more to record
        english = adviser.get(f"{plan_url}?lang=en").text
        assert "Timeline" in english and "Trial started" in english and "Stage: hired" in english
        adviser.get(f"{plan_url}?lang=no")
    finally:
        with session_scope(engine) as session:
            set_job_specialist(session, workplace_id, specialist_before)
        engine.dispose()
