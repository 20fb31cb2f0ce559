"""Occupations through the API and on the page: found by Norwegian or English title or code, the
nearest ones listed with their similarity, for advisers and job specialists only; and a
suggestion like the person's wish says so, in the same words in the JSON, on the adviser's page
and in the person's own explanation."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching import plain
from matching.occupations import RELATED_THRESHOLD, occupation_index
from matching.records import load_catalogue
from serving.app import create_app
from serving.auth import Identity, add_key
from tests.serving.test_web import browser, log_in

COOKS, CHEFS, KITCHEN_HELPERS = "5120", "3434", "9412"


@dataclass
class Site:
    client: TestClient
    page: TestClient
    keys: dict[str, str]
    trained: Any

    def get(self, url: str, role: str | None = "adviser", **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return self.client.get(url, params=params, headers=headers)


@pytest.fixture(scope="module")
def site(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over its own store and key file (with a job specialist's and an employer's key)."""
    home = tmp_path_factory.mktemp("occupations")
    keys_file = home / "api-keys.json"
    shutil.copy(trained.home / "api-keys.json", keys_file)
    keys = {name: trained.keys[name] for name in ("adviser", "batch", "dpo")}
    keys["specialist"] = add_key(keys_file, Identity(name="occ-specialist", role="job_specialist"))
    keys["employer"] = add_key(keys_file, Identity(name="occ-employer", role="employer", employer_id="E-none"))
    settings = trained.settings(database_url=f"sqlite:///{home / 'store.db'}", api_keys_file=keys_file)
    with TestClient(create_app(settings)) as client:
        page = browser(client.app)
        log_in(page, keys["adviser"])
        yield Site(client, page, keys, trained)


def codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["code"] for o in response.json()["occupations"]]


def test_occupations_are_found_by_norwegian_or_english_title_or_code(site: Site) -> None:
    assert codes(site.get("/occupations", q="kokker")) == [COOKS, CHEFS]
    assert codes(site.get("/occupations", q="Kitchen helpers")) == [KITCHEN_HELPERS]
    assert codes(site.get("/occupations", q="HELPERS kitchen", role="specialist")) == [KITCHEN_HELPERS]
    found = site.get("/occupations", q="512").json()
    assert found["query"] == "512" and found["occupations"][0] == {
        "code": COOKS,
        "title_no": "Kokker",
        "title_en": "Cooks",
    }
    assert len(codes(site.get("/occupations", q="a", limit=3))) == 3
    assert codes(site.get("/occupations", q="zzqx")) == []


def test_the_nearest_occupations_come_with_their_similarity(site: Site) -> None:
    answer = site.get(f"/occupations/{COOKS}/related", role="specialist", n=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["occupation"]["title_en"] == "Cooks" and body["threshold"] == RELATED_THRESHOLD
    related = body["related"]
    assert len(related) == 5 and COOKS not in [r["code"] for r in related]
    values = [r["similarity"] for r in related]
    assert values == sorted(values, reverse=True) and all(0 <= v < 1 for v in values)
    index = occupation_index()
    assert values[0] == pytest.approx(index.similarity(COOKS, related[0]["code"]), abs=1e-4)


def test_who_may_ask_and_what_is_refused(site: Site) -> None:
    assert site.get("/occupations", role=None, q="kokk").status_code == 401
    assert site.get(f"/occupations/{COOKS}/related", role=None).status_code == 401
    assert site.get("/occupations", role="employer", q="kokk").status_code == 403
    assert site.get(f"/occupations/{COOKS}/related", role="batch").status_code == 403
    assert site.get("/occupations/0000/related").status_code == 404
    assert site.get("/occupations/cook/related").status_code == 422
    assert site.get(f"/occupations/{COOKS}/related", n=0).status_code == 422
    assert site.get("/occupations").status_code == 422
    assert site.get("/occupations", q="kokk", limit=51).status_code == 422


def test_the_profile_page_finds_occupations_with_the_same_search(site: Site) -> None:
    candidate_id = _person(site.trained, 1)
    english_words = site.page.get(f"/app/persons/{candidate_id}", params={"q": "helpers kitchen"})
    assert english_words.status_code == 200
    assert f'name="code" value="{KITCHEN_HELPERS}"' in english_words.text and "Kjøkkenassistenter" in english_words.text
    by_code = site.page.get(f"/app/persons/{candidate_id}", params={"q": "512"})
    assert f'name="code" value="{COOKS}"' in by_code.text and f'name="code" value="{CHEFS}"' not in by_code.text


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _person(trained: Any, index: int) -> str:
    frame = trained.dataset.candidates
    eligible = frame[frame["consent"] & frame["active"]]
    adviser_id = eligible["adviser_id"].drop_duplicates().iloc[0]
    return str(eligible.loc[eligible["adviser_id"] == adviser_id, "candidate_id"].iloc[index])


def test_a_suggestion_like_the_wish_says_so_in_the_json_the_page_and_the_persons_explanation(site: Site) -> None:
    index, catalogue = occupation_index(), load_catalogue()
    adviser = {"Authorization": f"Bearer {site.keys['adviser']}"}
    candidate_id = _person(site.trained, 2)
    first = site.client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 10}, headers=adviser).json()
    # a wish alike (but not equal) to the occupation of one of the person's suggestions
    suggested = [item["occupation_code"] for item in first["items"]]
    wish = next(
        r.code
        for code in suggested
        for r in index.related(code, 3)
        if r.similarity >= RELATED_THRESHOLD and r.code not in suggested
    )
    changed = site.client.patch(f"/candidates/{candidate_id}", json={"preferred_occupations": [wish]}, headers=adviser)
    assert changed.status_code == 200, changed.text
    shortlist = site.client.post(
        "/shortlists", json={"candidate_id": candidate_id, "top_k": 100}, headers=adviser
    ).json()
    like: list[dict[str, Any]] = []
    for item in shortlist["items"]:
        code, similar = item["occupation_code"], item["explanation"]["similar_to_wish"]
        alike = index.similarity(code, wish)
        # the ranker's own feature is unchanged: 1 for the wish, 0.5 for its minor group, else 0
        earlier = 1.0 if code == wish else 0.5 if code[:3] == wish[:3] else 0.0
        assert item["features"]["interest_preferred_occupation"] == earlier
        if code != wish and alike >= RELATED_THRESHOLD:
            title = catalogue.title(wish, "en")
            assert similar == {
                "code": wish,
                "title": title,
                "similarity": round(alike, 4),
                "sentence": f"like the wished occupation: {plain.sentences.lower_first(title)}",
            }
            like.append(item)
        else:
            assert similar is None
    assert like, "a suggestion alike the wish is on the list"

    no_title, en_title = (plain.sentences.lower_first(catalogue.title(wish, lang)) for lang in ("no", "en"))
    page = _text(site.page.get(f"/app/shortlists/{shortlist['shortlist_id']}").text)
    assert page.count(f"likner ønsket yrke: {no_title}") == len(like)
    english = _text(site.page.get(f"/app/shortlists/{shortlist['shortlist_id']}?lang=en").text)
    assert english.count(f"like the wished occupation: {en_title}") == len(like)
    site.page.get("/app?lang=no")

    own = site.client.get(f"/candidates/{candidate_id}/explanation", headers=adviser).json()
    said = {s["rank"]: s["similar_to_wish"] for s in own["suggestions"]}
    assert {rank for rank, text in said.items() if text} == {item["rank"] for item in like}
    assert {text for text in said.values() if text} == {f"Likner ønsket ditt: {no_title}."}
    own_en = site.client.get(f"/candidates/{candidate_id}/explanation", params={"lang": "en"}, headers=adviser).json()
    assert {s["similar_to_wish"] for s in own_en["suggestions"] if s["similar_to_wish"]} == {
        f"Close to what you wished for: {en_title}."
    }
