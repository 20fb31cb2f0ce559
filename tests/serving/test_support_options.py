"""Suggestions an adviser can act on, through the service: each shortlist says how many workplaces
each rule removed (kept with the shortlist), an empty one says why in words, the support options
are in the JSON and said in the same words on the adviser's page and in the person's own
explanation, and the job specialist's ranking says which support the workplace could offer to
reach more persons."""

from __future__ import annotations

import html
import re
from typing import Any

from matching import plain
from tests.serving.test_web_profile import Site, person, text_of
from tests.serving.test_web_profile import site as profile_site  # noqa: F401  (the page over its own store)

SHORTLIST_KEYS = {"not_active", "no_free_slot", "beyond_commute", "required_support"}


def shortlist_with_options(site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    for index in range(12):
        made = site.json("POST", "/shortlists", json={"candidate_id": person(site.trained, index), "top_k": 10})
        assert made.status_code == 200, made.text
        body = made.json()
        assert set(body["filtered"]) == SHORTLIST_KEYS
        assert sum(body["filtered"].values()) + body["eligible_workplaces"] == len(site.trained.dataset.workplaces)
        assert body["empty_reason"] is None and body["wider_reach"]["within_km"] > 0
        for item in body["items"]:
            if item["support_options"]:
                return body, item
    raise AssertionError("no suggestion with an arrangeable support in 12 persons' shortlists")


def test_options_are_said_alike_in_the_api_on_the_page_and_to_the_person(profile_site: Site) -> None:  # noqa: F811
    site = profile_site
    body, item = shortlist_with_options(site)
    option = item["support_options"][0]
    assert option["arranged_by"] == "support_system" and option["scheme"]
    assert 0 <= option["expected_success"] <= 1 and 0 <= option["expected_success_if_arranged"] <= 1
    chances = [o["expected_success_if_arranged"] for o in item["support_options"]]
    assert chances == sorted(chances, reverse=True), "best first"
    words = plain.option_text(
        option["support"], option["expected_success"], option["expected_success_if_arranged"], "no"
    )
    assert words.startswith("Med ") and "anslått sjanse" in words and " % → " in words

    stored = site.json("GET", f"/shortlists/{body['shortlist_id']}").json()
    assert stored["filtered"]["filtered"] == body["filtered"], "kept with the shortlist"
    page = text_of(site.client.get(f"/app/shortlists/{body['shortlist_id']}").text)
    assert words in page and plain.ESTIMATE_NOTE["no"] in page
    assert "Hvorfor listen ikke er lengre" in page

    told = site.json("GET", f"/candidates/{body['candidate_id']}/explanation").json()
    suggestion = next(s for s in told["suggestions"] if s["rank"] == item["rank"])
    assert words in suggestion["what_would_help"] and suggestion["estimate_note"] == plain.ESTIMATE_NOTE["no"]


def test_an_empty_list_says_why_and_what_a_longer_commute_would_add(profile_site: Site) -> None:  # noqa: F811
    site = profile_site
    record = site.json("GET", f"/candidates/{person(site.trained, 0)}").json()["record"]
    far = {**record, "candidate_id": "far-north-1", "lat": 78.22, "lon": 15.65, "max_commute_km": 1.0}
    made = site.json("POST", "/shortlists", json={"candidate": far, "top_k": 5})
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["items"] == [] and body["eligible_workplaces"] == 0
    assert "beyond the person's commute" in body["empty_reason"]
    assert body["filtered"]["beyond_commute"] > 0
    page = text_of(site.client.get(f"/app/shortlists/{body['shortlist_id']}").text)
    beyond = plain.FILTERED["beyond_commute"]["no"].format(n=body["filtered"]["beyond_commute"])
    assert beyond in page
    told = site.json("GET", "/candidates/far-north-1/explanation").json()
    assert told["suggestions"] == [] and beyond in told["why_short"], "the same words to the person"


def test_the_workplace_ranking_says_which_support_would_reach_more_persons(profile_site: Site) -> None:  # noqa: F811
    site = profile_site
    batch = site.trained.key("batch")
    gains: list[dict[str, Any]] = []
    for workplace_id in site.trained.dataset.workplaces["workplace_id"].head(60):
        answer = site.client.post(f"/workplaces/{workplace_id}/candidates", json={"top_k": 3}, headers=batch)
        if answer.status_code == 200 and answer.json()["supports_to_offer"]:
            gains = answer.json()["supports_to_offer"]
            break
    assert gains, "some workplace of the synthetic world lacks a support persons within reach need"
    assert [(-g["more_eligible"], -g["better_matched"]) for g in gains] == sorted(
        (-g["more_eligible"], -g["better_matched"]) for g in gains
    )
    arrangeable = {"mentor", "physical_adaptation", "job_coach_on_site"}
    assert not arrangeable & {g["support"] for g in gains}, "the support system brings those itself"


def test_the_plan_carries_the_supports_the_support_system_arranges(profile_site: Site) -> None:  # noqa: F811
    site = profile_site
    body, item = shortlist_with_options(site)
    decided = site.json(
        "POST",
        f"/shortlists/{body['shortlist_id']}/decisions",
        json={"decisions": [{"rank": item["rank"], "decision": "accept"}]},
    )
    plan_id = next(i["plan_id"] for i in decided.json()["items"] if i["rank"] == item["rank"])
    draft = site.json("GET", f"/plans/{plan_id}").json()["draft"]
    unmet = draft["support_system"]["unmet_support_needs"]
    arrangeable = [n["support"] for n in unmet if n["arranged_by"] == "support_system"]
    required = [n["support"] for n in unmet if n["arranged_by"] == "support_system" and n["need"] == "required"]
    assert {o["support"] for o in item["support_options"]} == set(arrangeable)
    assert draft["support_system"]["to_arrange"] == required, "drafted with the required ones"

    # the adviser chooses every option on the page: a new revision carries them, due before the start
    page = site.client.get(f"/app/plans/{plan_id}").text
    form = {k: html.unescape(v) for k, v in re.findall(r'<input id="([a-z_]+)" name="\1"[^>]*value="([^"]*)"', page)}
    for name in ("purpose_reason", "training"):
        found = re.search(rf'id="{name}"[^>]*>([^<]*)</textarea>', page)
        assert found is not None
        form[name] = html.unescape(found.group(1))
    purpose = re.search(r'<option value="([a-z_]+)" selected>', page)
    assert purpose is not None and 'name="arrange_shown"' in page
    form |= {"purpose": purpose.group(1), "csrf_token": site.csrf, "revision": "1", "arrange_shown": "1"}
    form |= {f"arrange_{s}": "on" for s in arrangeable}
    saved = site.client.post(f"/app/plans/{plan_id}/revisions", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    draft = site.json("GET", f"/plans/{plan_id}").json()["draft"]
    assert sorted(draft["support_system"]["to_arrange"]) == sorted(arrangeable)
    assert any(p.startswith("the support system arranges before the trial starts") for p in draft["open_points"])

    refused = site.json(
        "POST", f"/plans/{plan_id}/revisions", json={"changes": {"support_system.to_arrange": ["quiet_workspace"]}}
    )
    assert refused.status_code == 422 and "to_arrange" in refused.text
