"""The person's profile on the adviser's page: the display name and the support needs changed on
the page are what the JSON API then reads; a value the contract refuses is shown in Norwegian next
to its field and nothing is saved; withdrawn consent stops the next shortlist; a person registered
on the page can be shortlisted at once; the caseload is searched by display name; wished
occupations are found by their Norwegian title; and every control has a label."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.records import load_catalogue
from serving.app import create_app
from tests.serving.test_web import browser, log_in
from tests.serving.test_web_loop import unlabelled


@dataclass
class Site:
    client: TestClient
    csrf: str
    trained: Any

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.trained.key("adviser"), **kwargs)


@pytest.fixture(scope="module")
def site(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The page over its own SQLite store, so the changes here disturb no other module."""
    home = tmp_path_factory.mktemp("profile")
    settings = trained.settings(database_url=f"sqlite:///{home / 'store.db'}")
    with TestClient(create_app(settings)) as app_client:
        client = browser(app_client.app)
        yield Site(client, log_in(client, trained.keys["adviser"]), trained)


def person(trained: Any, index: int) -> str:
    """A consenting, active person of the `adviser` key's caseload."""
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = eligible["adviser_id"].drop_duplicates().iloc[0]
    return str(eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].iloc[index])


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_needs_and_display_name_changed_on_the_page_are_in_the_api(site: Site) -> None:
    candidate_id = person(site.trained, 3)
    page = site.client.get(f"/app/persons/{candidate_id}")
    assert page.status_code == 200 and unlabelled(page.text) == []
    assert (
        "<legend>Pauser ved behov</legend>" in page.text
        and "Korte pauser ved behov" in page.text
        and "du trenger" not in page.text
    )
    assert page.text.count("<fieldset") >= 10 and "ikke nødvendig" in page.text
    before = site.json("GET", f"/candidates/{candidate_id}").json()["record"]
    wanted = 0 if before["needs_quiet_workspace"] == 2 else 2
    saved = site.client.post(
        f"/app/persons/{candidate_id}",
        data={"csrf_token": site.csrf, "display_name": "Ada Lovelace", "needs_quiet_workspace": str(wanted)},
    )
    assert saved.status_code == 200 and "Profilen er lagret." in saved.text and "Profil for Ada Lovelace" in saved.text
    after = site.json("GET", f"/candidates/{candidate_id}").json()
    assert after["display_name"] == "Ada Lovelace" and after["record"]["needs_quiet_workspace"] == wanted
    assert {k: v for k, v in after["record"].items() if k != "needs_quiet_workspace"} == {
        k: v for k, v in before.items() if k != "needs_quiet_workspace"
    }
    english = site.client.get(f"/app/persons/{candidate_id}?lang=en")
    assert "Profile of Ada Lovelace" in english.text and "short breaks when needed" in english.text.lower()
    site.client.get("/app?lang=no")


def test_a_bad_value_is_shown_in_norwegian_and_nothing_is_saved(site: Site) -> None:
    candidate_id = person(site.trained, 4)
    before = site.json("GET", f"/candidates/{candidate_id}").json()
    refused = site.client.post(
        f"/app/persons/{candidate_id}",
        data={"csrf_token": site.csrf, "display_name": "Bo Ek", "max_commute_km": "0", "skill_caring": "0.9"},
    )
    assert refused.status_code == 422, refused.text
    assert 'role="alert"' in refused.text and "Ingenting ble endret" in refused.text
    error = re.search(r'<p class="error field-error" id="err-max_commute_km">([^<]+)</p>', refused.text)
    assert error is not None and html.unescape(error.group(1)) == "«Lengste reisevei (km)»: må være større enn 0."
    assert 'aria-describedby="err-max_commute_km"' in refused.text and 'value="0"' in refused.text
    assert site.json("GET", f"/candidates/{candidate_id}").json() == before
    # a value outside the contract's range, and one that is not a number
    beyond = site.client.post(
        f"/app/persons/{candidate_id}", data={"csrf_token": site.csrf, "desired_hours": "60", "skill_caring": "x"}
    )
    assert beyond.status_code == 422
    assert "«Å hjelpe og ta vare på andre»: må være et tall." in text_of(beyond.text)
    assert site.json("GET", f"/candidates/{candidate_id}").json() == before
    too_many = site.client.post(f"/app/persons/{candidate_id}", data={"csrf_token": site.csrf, "desired_hours": "60"})
    assert too_many.status_code == 422 and "«Ønsket antall timer per uke»: kan være høyst 40." in text_of(too_many.text)
    assert site.json("GET", f"/candidates/{candidate_id}").json() == before


def test_withdrawn_consent_stops_the_next_shortlist(site: Site) -> None:
    candidate_id = person(site.trained, 5)
    assert site.json("POST", "/shortlists", json={"candidate_id": candidate_id}).status_code == 200
    page = site.client.get(f"/app/persons/{candidate_id}")
    assert "Trekkes samtykket, stopper matchingen" in page.text
    withdrawn = site.client.post(f"/app/persons/{candidate_id}", data={"csrf_token": site.csrf, "consent": "no"})
    assert withdrawn.status_code == 200 and "Samtykket er trukket: personen blir ikke matchet" in withdrawn.text
    assert site.json("POST", "/shortlists", json={"candidate_id": candidate_id}).status_code == 409
    assert site.json("GET", f"/candidates/{candidate_id}").json()["record"]["consent"] is False
    home = site.client.get("/app")
    assert f'href="/app/persons/{candidate_id}"' in home.text and "samtykke trukket" in home.text


def test_a_person_registered_on_the_page_is_shortlisted(site: Site) -> None:
    form = site.client.get("/app/persons/new")
    assert form.status_code == 200 and unlabelled(form.text) == [] and "<legend>Samtykke</legend>" in form.text
    missing = site.client.post("/app/persons", data={"csrf_token": site.csrf, "candidate_id": "page-new-1"})
    assert missing.status_code == 422 and "«Samtykke»: velg ett av valgene." in text_of(missing.text)
    assert site.json("GET", "/candidates/page-new-1").status_code == 404
    made = site.client.post(
        "/app/persons",
        data={
            "csrf_token": site.csrf,
            "candidate_id": "page-new-1",
            "display_name": "Nina Ny",
            "lat": "59,91",
            "lon": "10.75",
            "desired_hours": "20",
            "max_commute_km": "30",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/app/persons/page-new-1?done=created"
    profile = site.client.get(made.headers["location"])
    assert "Personen er registrert." in profile.text and "Profil for Nina Ny" in profile.text
    record = site.json("GET", "/candidates/page-new-1").json()
    assert record["record"]["lat"] == 59.91 and record["record"]["consent"] is True
    shortlist = site.client.post(
        "/app/shortlists", data={"csrf_token": site.csrf, "candidate_id": "page-new-1", "top_k": "3"}
    )
    assert shortlist.status_code == 200 and "Forslagsliste for page-new-1" in shortlist.text
    again = site.client.post(
        "/app/persons",
        data={"csrf_token": site.csrf, "candidate_id": "page-new-1", "lat": "59", "lon": "10"}
        | {"desired_hours": "20", "max_commute_km": "30", "consent": "yes"},
    )
    assert again.status_code == 422 and "denne id-en er allerede registrert" in again.text


def test_the_caseload_is_searched_by_display_name(site: Site) -> None:
    candidate_id, other = person(site.trained, 6), person(site.trained, 7)
    site.client.post(f"/app/persons/{candidate_id}", data={"csrf_token": site.csrf, "display_name": "Kari Søkbar"})
    home = site.client.get("/app")
    assert home.status_code == 200 and unlabelled(home.text) == []
    assert f"Kari Søkbar ({candidate_id})" in home.text and f'href="/app/persons/{other}"' in home.text
    found = site.client.get("/app", params={"q": "søkbar"})
    assert f'<a href="/app/persons/{candidate_id}">Kari Søkbar</a>' in found.text
    assert f'href="/app/persons/{other}"' not in found.text
    by_id = site.client.get("/app", params={"q": other})
    assert f'href="/app/persons/{other}"' in by_id.text and "Kari Søkbar</a>" not in by_id.text
    assert "Ingen personer passer søket." in site.client.get("/app", params={"q": "zz-nobody"}).text


def test_wished_occupations_are_found_by_norwegian_title(site: Site) -> None:
    candidate_id = person(site.trained, 8)
    catalogue = load_catalogue()
    code = sorted(catalogue.codes)[10]
    title = catalogue.title(code, "no")
    found = site.client.get(f"/app/persons/{candidate_id}", params={"q": title.lower()})
    assert found.status_code == 200 and unlabelled(found.text) == []
    assert f'name="code" value="{code}"' in found.text and html.escape(title) in found.text
    added = site.client.post(
        f"/app/persons/{candidate_id}/occupations", data={"csrf_token": site.csrf, "op": "add", "code": code}
    )
    assert added.status_code == 200 and "Ønskede yrker er lagret." in added.text
    assert code in site.json("GET", f"/candidates/{candidate_id}").json()["record"]["preferred_occupations"]
    removed = site.client.post(
        f"/app/persons/{candidate_id}/occupations", data={"csrf_token": site.csrf, "op": "remove", "code": code}
    )
    assert removed.status_code == 200
    assert code not in site.json("GET", f"/candidates/{candidate_id}").json()["record"]["preferred_occupations"]
    unknown = site.client.post(
        f"/app/persons/{candidate_id}/occupations", data={"csrf_token": site.csrf, "op": "add", "code": "0000"}
    )
    assert unknown.status_code == 422 and "«Ønskede yrker»: ukjent yrkeskode." in text_of(unknown.text)


def test_another_advisers_person_and_an_unknown_one_are_refused(site: Site) -> None:
    frame = site.trained.dataset.candidates
    mine = frame.loc[frame["consent"] & frame["active"], "adviser_id"].iloc[0]
    theirs = frame.loc[frame["adviser_id"] != mine, "candidate_id"]
    assert site.client.get(f"/app/persons/{theirs.iloc[0]}").status_code == 403
    assert site.client.get("/app/persons/no-such-person").status_code == 404
    forged = site.client.post(f"/app/persons/{person(site.trained, 3)}", data={"display_name": "X"})
    assert forged.status_code == 403
