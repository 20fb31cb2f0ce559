"""The adviser's page in a real browser: Debian's Chromium, headless, driven by Playwright, against
the API served by uvicorn on loopback (in a thread, over the session's trained model, with its own
SQLite store and key file).

An adviser logs in with their key, makes a shortlist for a person on their caseload, rejects one
suggestion with a reason, accepts another with the keyboard alone, edits and saves the inclusion
plan, and confirms it (their own approval and the person's); the employer logs in and sees no one
at the workplace (and a 404 for the plan) until the person's interest is recorded and they are
presented there, then sees the person, not a ranking, and approves the plan; the adviser then sees
the follow-ups due. The page and the JSON API give the employer the same 404 at each step before that.
The store must hold all of it, with the right actor, and the audit trail too.

Without Playwright or /usr/bin/chromium the tests skip and say why, except under CI=true, where
they fail (.ci/run installs Debian's chromium). No browser is downloaded: Playwright drives the
system's Chromium through `executable_path`.

`JOBMATCH_SCREENSHOT=docs/adviser-page.png pytest tests/e2e/test_browser.py` also writes a
screenshot of the shortlist page at a laptop's 1366x768 (normal runs write nothing in the repo).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from matching.settings import Settings
from matching.store.audit import query_audit
from matching.store.db import make_engine, session_scope
from matching.store.decisions import decision_history
from matching.store.models import Followup, Placement
from matching.store.plans import get_plan, plan_for_item
from matching.store.shortlists import get_shortlist
from serving.auth import Identity, add_key, load_keys
from tests.serving.test_review import own_candidate

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("JOBMATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = os.environ.get("JOBMATCH_SCREENSHOT")  # a path (relative to the repo): write the screenshot there
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 30_000
REJECT_TEXT = "over an hour by bus each way"


def require_browser() -> None:
    """Skip (fail under CI=true) without Playwright or Debian's Chromium."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if missing:
        message = "; ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: the browser test must run, see .ci/run)")
        pytest.skip(f"{message}: the browser test cannot run")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    url: str
    app: Any
    settings: Settings
    adviser_key: str
    adviser_name: str
    adviser_id: str

    def add_key(self, identity: Identity) -> str:
        """A new key, taken into use by the running app at once."""
        key = add_key(self.settings.api_keys_file, identity)
        self.app.state.api_keys = load_keys(self.settings.api_keys_file)
        return key


@pytest.fixture(scope="module")
def browser_ready() -> None:
    require_browser()


@pytest.fixture(scope="module")
def site(browser_ready: None, trained: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from serving.app import create_app

    home = tmp_path_factory.mktemp("browser")
    settings = Settings(
        data_dir=trained.data_dir,
        tracking_uri=trained.tracking_uri,
        database_url=f"sqlite:///{home / 'store.db'}",
        api_keys_file=home / "api-keys.json",
        model_poll_seconds=0,
    )
    frame = trained.dataset.candidates
    adviser_id = str(frame.loc[frame["consent"] & frame["active"], "adviser_id"].drop_duplicates().iloc[0])
    key = add_key(settings.api_keys_file, Identity(name="browser-adviser", role="adviser", adviser_id=adviser_id))
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="browser-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the API did not come up on loopback")
        time.sleep(0.2)
    try:
        yield Site(url, app, settings, key, "browser-adviser", adviser_id)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def unlabelled_fields(page: Any) -> list[str]:
    """Visible form fields without a label, and buttons without a name (should be none)."""
    found: list[str] = page.evaluate(
        """() => {
            const bad = [];
            for (const el of document.querySelectorAll('input, select, textarea')) {
                if (el.type === 'hidden') continue;
                if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) bad.push(el.name || el.id);
            }
            for (const b of document.querySelectorAll('button')) {
                if (!(b.textContent.trim() || b.getAttribute('aria-label'))) bad.push('button');
            }
            return bad;
        }"""
    )
    return found


def log_in(context: Any, site: Site, key: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site.url}/app")
    assert page.url.endswith("/app/login")
    page.get_by_label("API-nøkkel").fill(key)
    page.get_by_role("button", name="Logg inn").click()
    return page


def test_an_adviser_reviews_a_shortlist_and_confirms_the_plan(browser: Any, site: Site, trained: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    # Norwegian by default, and no way in without a key
    page.goto(f"{site.url}/app")
    assert page.url.endswith("/app/login")
    assert page.locator("html").get_attribute("lang") in ("no", "nb")
    expect(page.get_by_role("heading", name="Logg inn med API-nøkkelen din")).to_be_visible()
    page.get_by_label("API-nøkkel").fill("not-a-key")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("alert")).to_contain_text("Ukjent nøkkel")

    page.get_by_label("API-nøkkel").fill(site.adviser_key)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("heading", name="Mine kandidater", exact=True).first).to_be_visible()
    session_cookie = next(c for c in context.cookies() if c["name"] == "jobmatch_session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"
    assert site.adviser_key not in session_cookie["value"]

    # pick a candidate from the caseload and open the shortlist
    candidate_id = own_candidate(trained)
    page.get_by_label("Kandidat", exact=True).select_option(candidate_id)
    page.get_by_label("Antall forslag").select_option("5")
    page.get_by_role("button", name="Lag forslagsliste").click()
    expect(page.get_by_role("heading", name=f"Forslagsliste for {candidate_id}")).to_be_visible()
    shortlist_id = int(re.search(r"/app/shortlists/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    suggestions = page.locator("li.suggestion")
    assert suggestions.count() >= 2
    first = suggestions.nth(0)
    # the score bar (the calibrated chance of a hire) and its text equivalent
    expect(first.locator(".score-text")).to_have_text(
        re.compile(r"^Anslått sjanse for ansettelse (<1|\d+) % \(poengsum")
    )
    assert first.locator(".bar").get_attribute("aria-hidden") == "true"
    for heading in ("Taler for", "Taler imot", "Støttebehov arbeidsplassen dekker", "Oppgaver som krever opplæring"):
        expect(first.get_by_role("heading", name=heading)).to_be_visible()
    expect(first.locator(".meta")).to_contain_text("km hjemmefra")
    assert unlabelled_fields(page) == []

    # reject suggestion 1 with a reason
    first.get_by_label("Begrunnelse", exact=True).select_option("too_far")
    first.get_by_label("Utdyping").fill(REJECT_TEXT)
    if SCREENSHOT:  # the shortlist, a rejection being filled in
        page.evaluate("window.scrollTo(0, 0)")
        target = ROOT / SCREENSHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target))
    first.get_by_role("button", name="Avvis forslag 1").click()
    expect(page.get_by_role("status")).to_have_text("Avgjørelsen er lagret.")
    expect(page.locator("#suggestion-1 .status")).to_contain_text("For langt unna")

    # accept suggestion 2 with the keyboard alone: tab to its accept button, press Enter
    page.locator("body").focus()
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.dataset.action, document.activeElement.dataset.rank]")
        if focused == ["accept", "2"]:
            break
    else:
        pytest.fail("the accept button of suggestion 2 cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Inkluderingsplan"))).to_be_visible()
    plan_id = int(re.search(r"/app/plans/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.get_by_text("Versjon 1", exact=False).first).to_be_visible()
    assert unlabelled_fields(page) == []

    # edit the drafted plan and save it: a new revision
    today = dt.date.today()
    start = today - dt.timedelta(days=10)  # started already: the first follow-ups are overdue
    page.get_by_label("Veileder på arbeidsplassen (fadder)").fill("Kari Nordmann")
    page.get_by_label("Timer per uke").fill("12")
    page.get_by_label("Startdato").fill(start.isoformat())
    page.get_by_label("Sluttdato").fill((start + dt.timedelta(weeks=12)).isoformat())
    page.get_by_label("Transport").fill("bus card arranged by the adviser")
    page.get_by_label("Merknad til endringen").fill("agreed at the first meeting")
    page.get_by_role("button", name="Lagre ny versjon").click()
    expect(page.get_by_role("status")).to_contain_text("Planen er lagret som en ny versjon")
    expect(page.get_by_label("Veileder på arbeidsplassen (fadder)")).to_have_value("Kari Nordmann")
    expect(page.get_by_role("heading", name="Godkjenninger av versjon 2")).to_be_visible()

    # confirm it: the adviser's approval and the person's
    page.get_by_label(re.compile("^Personen har godkjent")).check()
    page.get_by_role("button", name="Bekreft planen").click()
    expect(page.get_by_role("status")).to_have_text("Godkjenningen er registrert.")
    expect(page.locator(".approvals")).to_contain_text("Venter på: arbeidsgiveren")

    # the employer's page: no one is presented yet, and the plan does not exist for the employer
    with session_scope(make_engine(site.settings.database_url), readonly=True) as session:
        stored_plan = get_plan(session, plan_id)
    workplace_id = stored_plan["workplace_id"]
    employer_id = str(stored_plan["body"]["employer_id"])
    employer_key = site.add_key(Identity(name="browser-employer", role="employer", employer_id=employer_id))
    employer_context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    employer_page = log_in(employer_context, site, employer_key)
    expect(employer_page.get_by_role("heading", name="Kandidater presentert for arbeidsplassen")).to_be_visible()
    employer_page.get_by_label("Arbeidsplass", exact=True).select_option(workplace_id)
    employer_page.get_by_role("button", name="Vis presenterte kandidater").click()
    expect(employer_page.get_by_text("Ingen er presentert for denne arbeidsplassen ennå.")).to_be_visible()
    hidden = employer_page.goto(f"{site.url}/app/plans/{plan_id}")
    assert hidden is not None and hidden.status == 404

    def employer_json_status() -> int:  # the JSON API says what the page says
        with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {employer_key}"}) as api:
            return api.get(f"/plans/{plan_id}").status_code

    assert employer_json_status() == 404
    # the person's own answer and the presentation (through the JSON API, with the adviser's key)
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.adviser_key}"}) as api:
        interest = {"answers": [{"rank": 2, "answer": "interested"}]}
        assert api.post(f"/shortlists/{shortlist_id}/answers", json=interest).status_code == 200
        # interested, not yet presented: the page and the JSON API still know no such plan
        not_presented = employer_page.goto(f"{site.url}/app/plans/{plan_id}")
        assert not_presented is not None and not_presented.status == 404 and employer_json_status() == 404
        presenting = {"candidate_id": candidate_id, "workplace_id": workplace_id}
        assert api.post("/presentations", json=presenting).status_code == 200
    assert employer_json_status() == 200
    employer_page.goto(f"{site.url}/app/employer?workplace_id={workplace_id}")
    presented = employer_page.get_by_role("region", name="Presenterte kandidater")
    expect(presented).to_contain_text(candidate_id)
    assert "poengsum" not in employer_page.locator("main").inner_text()  # never a ranking or a score
    assert unlabelled_fields(employer_page) == []
    employer_page.get_by_role("link", name=f"Inkluderingsplan for {candidate_id}").click()
    plan_text = employer_page.locator("main").inner_text()
    assert "(hjelper)" not in plan_text and "(må ha)" not in plan_text  # not how strong a need is
    expect(employer_page.get_by_label("Veileder på arbeidsplassen (fadder)")).to_have_value("Kari Nordmann")
    employer_page.get_by_role("button", name="Godkjenn for arbeidsgiveren").click()
    expect(employer_page.locator(".approvals")).to_contain_text("Alle har godkjent planen")
    employer_context.close()

    # the adviser sees the follow-ups due (the trial started ten days ago: the first ones are overdue)
    page.goto(f"{site.url}/app")
    followups = page.get_by_role("region", name="Oppfølging")
    expect(followups.get_by_role("heading", name=re.compile("^Forfalt"))).to_be_visible()
    expect(followups).to_contain_text(candidate_id)
    followups.get_by_role("button", name=re.compile("^Merk som gjort")).first.click()
    expect(page.get_by_role("status")).to_have_text("Oppfølgingen er registrert.")

    # English on request, remembered
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(f"{site.url}/app/shortlists/{shortlist_id}")
    expect(page.get_by_role("heading", name=f"Shortlist for {candidate_id}")).to_be_visible()
    page.get_by_role("link", name="Norsk").click()
    assert page.locator("html").get_attribute("lang") == "nb"
    context.close()

    # the store recorded all of it, with the adviser as the actor, as the API would have
    engine = make_engine(site.settings.database_url)
    with session_scope(engine, readonly=True) as session:
        stored = get_shortlist(session, shortlist_id)
        assert stored.candidate_id == candidate_id and stored.requested_by == site.adviser_name
        rejected = decision_history(session, stored.item_id(1))
        assert [(d.decision, d.reason_code, d.reason_text, d.decided_by) for d in rejected] == [
            ("reject", "too_far", REJECT_TEXT, site.adviser_name)
        ]
        accepted = decision_history(session, stored.item_id(2))
        assert [(d.decision, d.reason_code, d.decided_by) for d in accepted] == [("accept", None, site.adviser_name)]
        assert plan_for_item(session, stored.item_id(2)) == plan_id
        assert plan_for_item(session, stored.item_id(1)) is None

        plan = get_plan(session, plan_id)
        assert plan["revision"] == 2 and plan["agreed"]
        assert [r["changed_by"] for r in plan["revisions"]] == [site.adviser_name, site.adviser_name]
        body = plan["body"]
        assert body["tutor_name"] == "Kari Nordmann" and body["hours_per_week"] == 12
        assert body["start_date"] == start.isoformat()
        assert body["support_system"]["needs_outside_work"] == [
            {"area": "transport", "description": "bus card arranged by the adviser"}
        ]
        assert body["purpose"] == plan["revisions"][0]["body"]["purpose"]  # unchanged fields stay as drafted
        approvals = {a["party"]: a["approved_by"] for a in plan["approvals"]}
        assert approvals == {"person": site.adviser_name, "adviser": site.adviser_name, "employer": "browser-employer"}
        placement = session.query(Placement).filter(Placement.plan_id == plan_id).one()
        done = session.query(Followup).filter(Followup.placement_id == placement.id, Followup.done_on.is_not(None))
        assert [f.done_by for f in done] == [site.adviser_name]

        trail = query_audit(session, actor=site.adviser_name, limit=1000)
    engine.dispose()
    actions = [row.action for row in trail]
    for action in ("web_login", "create_shortlist", "read_shortlist", "decide", "read_plan", "plan_revision"):
        assert action in actions, (action, actions)
    assert actions.count("approve_plan") == 2 and "followup" in actions
    decide = [row.detail for row in trail if row.action == "decide"]
    assert {"shortlist_id": shortlist_id, "decisions": [[1, "reject", "too_far"]]} in decide
    assert {"shortlist_id": shortlist_id, "decisions": [[2, "accept", None]]} in decide
    revision = next(row.detail for row in trail if row.action == "plan_revision")
    assert revision is not None and set(revision["fields"]) == {
        "end_date",
        "hours_per_week",
        "start_date",
        "support_system.needs_outside_work",
        "tutor_name",
    }
    assert all(row.role == "adviser" for row in trail)


def test_forms_need_the_session_token(browser: Any, site: Site) -> None:
    """A POST with the session cookie but without the page's CSRF token is refused and records nothing."""
    context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    page = log_in(context, site, site.adviser_key)
    cookie = next(c for c in context.cookies() if c["name"] == "jobmatch_session")
    with httpx.Client(base_url=site.url, cookies={"jobmatch_session": cookie["value"]}) as client:
        refused = client.post("/app/shortlists/1/decisions", data={"rank": "1", "decision": "accept"})
        assert refused.status_code == 403
        assert "Skjemaet var utløpt" in refused.text
        # the JSON API does not take the page's cookie: it wants the key
        assert client.post("/shortlists", json={"candidate_id": "x"}).status_code == 401
    page.get_by_role("button", name="Logg ut").click()
    assert page.url.endswith("/app/login")
    assert not [c for c in context.cookies() if c["name"] == "jobmatch_session"]
    context.close()
