"""The caseload list on the adviser's home page, over its own SQLite store: each person's stage in
words moves from "no shortlist" to "waiting for the person's answer" to "in trial" as the loop
advances through the JSON API (shortlist, accept, the person's interest, presenting, the three
approvals, contacted, trial started); the stage and overdue filters show exactly the right persons;
an overdue follow-up is flagged; Norwegian by default, English on request; every control labelled
and the filters grouped in a fieldset with a legend."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.store.db import make_engine, session_scope
from matching.store.followups import schedule_followups
from serving.app import create_app
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_web import browser, log_in
from tests.serving.test_web_loop import unlabelled
from tests.serving.test_web_profile import person


@dataclass
class Site:
    api: TestClient
    page: TestClient
    trained: Any
    database_url: str

    @property
    def adviser(self) -> dict[str, str]:
        return self.trained.key("adviser")

    def rows(self, **params: str) -> dict[str, dict[str, str]]:
        """The caseload list's rows by person id: the stage code, the stage and follow-up texts."""
        response = self.page.get("/app", params=params)
        assert response.status_code == 200, response.text
        found = {}
        for stage, who, cells in re.findall(
            r'<tr class="stage-([a-z_]+)[^"]*" data-person="([^"]+)">(.*?)</tr>', response.text, re.S
        ):
            texts = [
                html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)
            ]
            found[who] = {"stage": stage, "stage_text": texts[0], "followup": texts[1], "overdue": "overdue" in cells}
        return found

    def shortlist(self, candidate_id: str) -> dict[str, Any]:
        made = self.api.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 3}, headers=self.adviser)
        assert made.status_code == 200, made.text
        return made.json()

    def decide(self, shortlist_id: int, rank: int, decision: str) -> dict[str, Any]:
        body = {"decisions": [{"rank": rank, "decision": decision}]}
        done = self.api.post(f"/shortlists/{shortlist_id}/decisions", json=body, headers=self.adviser)
        assert done.status_code == 200, done.text
        return done.json()

    def answer(self, shortlist_id: int, rank: int, answer: str) -> None:
        body = {"answers": [{"rank": rank, "answer": answer}]}
        done = self.api.post(f"/shortlists/{shortlist_id}/answers", json=body, headers=self.adviser)
        assert done.status_code == 200, done.text


@pytest.fixture(scope="module")
def site(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("caseload")
    url = f"sqlite:///{home / 'store.db'}"
    with TestClient(create_app(trained.settings(database_url=url))) as api:
        page = browser(api.app)
        log_in(page, trained.keys["adviser"])
        yield Site(api, page, trained, url)


def caseload_of(trained: Any) -> set[str]:
    """Every active person of the `adviser` key's caseload (with consent or without)."""
    frame = trained.dataset.candidates
    adviser_id = frame.loc[frame["consent"] & frame["active"], "adviser_id"].drop_duplicates().iloc[0]
    return {str(c) for c in frame.loc[(frame["adviser_id"] == adviser_id) & frame["active"], "candidate_id"]}


def test_a_person_moves_through_the_stages_as_the_loop_advances(site: Site) -> None:
    who = person(site.trained, 2)
    assert site.rows()[who]["stage_text"] == "Ingen forslagsliste ennå"
    served = site.shortlist(who)
    shortlist_id = served["shortlist_id"]
    assert site.rows()[who]["stage"] == "shortlisted"
    plan_id = site.decide(shortlist_id, 1, "accept")["items"][0]["plan_id"]
    now = site.rows()[who]
    assert (now["stage"], now["stage_text"]) == ("waiting_answer", "Venter på personens svar")
    assert set(site.rows(stage="waiting_answer")) == {who}
    site.answer(shortlist_id, 1, "interested")
    assert site.rows()[who]["stage_text"] == "Plan til godkjenning"
    assert set(site.rows(stage="plan_to_approve")) == {who} and site.rows(stage="waiting_answer") == {}

    workplace = served["items"][0]["workplace_id"]
    presented = site.api.post(
        "/presentations", json={"candidate_id": who, "workplace_id": workplace}, headers=site.adviser
    )
    assert presented.status_code == 200, presented.text
    employer_id = site.api.get(f"/plans/{plan_id}", headers=site.adviser).json()["draft"]["employer_id"]
    keys = site.trained.home / "api-keys.json"
    employer = add_key(keys, Identity(name="caseload-employer", role="employer", employer_id=employer_id))
    site.api.app.state.api_keys = load_keys(keys)
    for party, header in (
        ("employer", {"Authorization": f"Bearer {employer}"}),
        ("person", site.adviser),
        ("adviser", site.adviser),
    ):
        approved = site.api.post(f"/plans/{plan_id}/approvals", json={"party": party, "revision": 1}, headers=header)
        assert approved.status_code == 200, approved.text
    placement_id = approved.json()["placement_id"]
    assert site.rows()[who]["stage_text"] == "Plan godkjent, utprøving ikke startet"
    for kind in ("contacted", "trial_started"):
        event = site.api.post(f"/placements/{placement_id}/events", json={"kind": kind}, headers=site.adviser)
        assert event.status_code == 200, event.text
    now = site.rows()[who]
    assert (now["stage"], now["stage_text"]) == ("in_trial", "I utprøving")
    assert set(site.rows(stage="in_trial")) == {who}
    assert site.rows(stage="plan_to_approve") == {}
    english = site.page.get("/app", params={"lang": "en"})
    assert '<td class="stage">In trial</td>' in english.text and "I utprøving</td>" not in english.text
    site.page.get("/app", params={"lang": "no"})

    # a follow-up left undone past its day is flagged, and the overdue filter finds exactly that person
    engine = make_engine(site.database_url)
    with session_scope(engine) as session:
        schedule_followups(
            session, placement_id, [{"due_on": dt.date.today() - dt.timedelta(days=3), "party": "person"}]
        )
    engine.dispose()
    day = (dt.date.today() - dt.timedelta(days=3)).strftime("%d.%m.%Y")
    now = site.rows()[who]
    assert now["overdue"] and now["followup"] == f"Forfalt: 1 siden {day}"
    assert set(site.rows(overdue="1")) == {who}
    assert set(site.rows(overdue="1", stage="in_trial")) == {who}
    assert site.rows(overdue="1", stage="hired") == {}
    assert not any(row["overdue"] for c, row in site.rows().items() if c != who)


def test_each_stage_filter_shows_exactly_its_persons(site: Site) -> None:
    waiting, declined, untouched = person(site.trained, 3), person(site.trained, 4), person(site.trained, 5)
    first = site.shortlist(waiting)["shortlist_id"]
    site.decide(first, 2, "accept")
    second = site.shortlist(declined)["shortlist_id"]
    site.decide(second, 1, "accept")
    site.answer(second, 1, "not_interested")
    everyone = site.rows()
    assert set(everyone) == caseload_of(site.trained)
    assert everyone[untouched]["stage"] == "no_shortlist" and everyone[declined]["stage"] == "shortlisted"
    assert "waiting_answer" in {everyone[waiting]["stage"]}
    for stage in {row["stage"] for row in everyone.values()} | {"hired", "ended"}:
        assert set(site.rows(stage=stage)) == {c for c, row in everyone.items() if row["stage"] == stage}
    assert waiting in site.rows(stage="waiting_answer") and untouched in site.rows(stage="no_shortlist")
    assert site.rows(stage="hired") == {} and site.rows(stage="ended") == {}
    found = site.rows(q=waiting, stage="waiting_answer")
    assert set(found) == {waiting}
    assert site.rows(q=waiting, stage="no_shortlist") == {}


def test_the_filters_are_labelled_grouped_and_kept(site: Site) -> None:
    shown = site.page.get("/app", params={"stage": "in_trial", "overdue": "1", "q": "x"})
    assert shown.status_code == 200 and unlabelled(shown.text) == []
    assert re.search(r"<fieldset>\s*<legend>Filtrer personene</legend>", shown.text)
    assert '<option value="in_trial" selected>I utprøving</option>' in shown.text
    assert 'id="person-overdue" name="overdue" type="checkbox" value="1" checked' in shown.text
    assert 'value="x"' in shown.text and '<a href="/app" class="clear">Fjern filtrene</a>' in shown.text
    english = site.page.get("/app", params={"lang": "en", "stage": "no_shortlist"})
    assert "<legend>Filter the persons</legend>" in english.text and "No shortlist yet" in english.text
    site.page.get("/app", params={"lang": "no"})
    unknown = site.page.get("/app", params={"stage": "nope"})
    assert unknown.status_code == 200 and "Ukjent fase i filteret; alle faser vises." in unknown.text
    assert set(site.rows(stage="nope")) == caseload_of(site.trained)
