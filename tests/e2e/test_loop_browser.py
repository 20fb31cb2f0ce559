"""The whole loop on the page, in Debian's Chromium (issue 11, part 8): an adviser registers a new
person and a job specialist a new workplace near them that fits; without a restart the adviser's
shortlist holds that workplace; the adviser records the person's interest, presents them and
confirms the plan (the person's approval and their own); the employer approves it on their page;
the adviser records the placement's steps (the workplace's free slot goes down when the trial
starts), a follow-up with a note, both end-of-trial assessments and the hire; then
`jobmatch train --from-db` learns from the stored outcome. Every page visited is checked with
axe-core (`axe-playwright-python`): no WCAG 2.1 AA violation.

The server, the browser and the skip rule (fail under CI=true) are `tests.e2e.test_browser`'s."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest

from matching.store.db import make_engine, session_scope
from matching.store.models import Followup
from matching.store.outcomes import stored_outcomes
from serving.auth import Identity
from tests.e2e.test_browser import ROOT, VIEWPORT, Site, browser, browser_ready, log_in, site

pytestmark = pytest.mark.slow
__all__ = ["browser", "browser_ready", "site"]  # the fixtures, shared with test_browser
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HOME = ("69.9", "23.1")  # far from the dataset's persons and workplaces: the new workplace is the one in reach
EMPLOYER_ID = "E-loop-1"
WORKPLACE_ID = "w-loop-1"
NOTE = "Trives godt, trenger mer tid på kassen"


def accessible(page: Any) -> None:
    """No WCAG 2.1 AA violation that axe-core finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_the_loop_from_a_new_person_to_a_hire_and_the_next_model(browser: Any, site: Site, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    # the adviser registers a new person, far from everyone else, with a short commute
    adviser_context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    adviser = log_in(adviser_context, site, site.adviser_key)
    accessible(adviser)
    adviser.goto(f"{site.url}/app/persons/new")
    accessible(adviser)
    adviser.get_by_label("Visningsnavn").fill("Ola Loop")
    adviser.get_by_label("Bosted, breddegrad").fill(HOME[0])
    adviser.get_by_label("Bosted, lengdegrad").fill(HOME[1])
    adviser.get_by_label("Lengste reisevei (km)").fill("15")
    adviser.get_by_label("Ønsket antall timer per uke").fill("20")
    adviser.get_by_label("Ja", exact=False).first.check()
    adviser.get_by_role("button", name=re.compile("^Registrer")).click()
    expect(adviser.get_by_role("status")).to_be_visible()
    candidate_id = re.search(r"/app/persons/([^/?#]+)", adviser.url).group(1)  # type: ignore[union-attr]
    accessible(adviser)

    # a job specialist registers a workplace near them that fits: low demands, every support
    specialist_key = site.add_key(Identity(name="loop-specialist", role="job_specialist"))
    specialist_context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    specialist = log_in(specialist_context, site, specialist_key)
    assert specialist.url.endswith("/app/specialist")
    accessible(specialist)
    specialist.get_by_role("link", name="Ny arbeidsplass").click()
    accessible(specialist)
    specialist.get_by_label("Søk etter yrke (norsk tittel)").fill("a")
    specialist.get_by_role("button", name="Søk").click()
    accessible(specialist)
    specialist.get_by_label("Id (tom gir en ny id)").fill(WORKPLACE_ID)
    specialist.get_by_label("Arbeidsgiverens id").fill(EMPLOYER_ID)
    specialist.get_by_label("Sted, breddegrad").fill(HOME[0])
    specialist.get_by_label("Sted, lengdegrad").fill(str(float(HOME[1]) + 0.02))
    specialist.get_by_label("Timer per uke").fill("20")
    specialist.get_by_label("Ledige plasser for arbeidstrening").fill("2")
    specialist.get_by_label("Veileder på arbeidsplassen (fadder), om navngitt").fill("Kari Nordmann")
    for box in specialist.locator("input[type=checkbox][name^=offers_]").all():
        box.check()
    for field in specialist.locator("input[name^=task_], input[name^=demand_]").all():
        field.fill("0,2")
    specialist.get_by_role("button", name="Registrer arbeidsplassen").click()
    expect(specialist.get_by_role("status")).to_have_text("Arbeidsplassen er registrert.")
    expect(specialist.get_by_role("heading", name=f"Arbeidsplass {WORKPLACE_ID}")).to_be_visible()
    accessible(specialist)

    # without a restart, the adviser's shortlist for the new person holds the new workplace
    adviser.goto(f"{site.url}/app")
    adviser.get_by_label("Kandidat", exact=True).select_option(candidate_id)
    adviser.get_by_role("button", name="Lag forslagsliste").click()
    expect(adviser.get_by_role("heading", name=f"Forslagsliste for {candidate_id}")).to_be_visible()
    accessible(adviser)
    item = adviser.locator("li.suggestion", has_text=f"Arbeidsplass {WORKPLACE_ID}")
    expect(item).to_have_count(1)
    rank = item.get_attribute("id").removeprefix("suggestion-")  # type: ignore[union-attr]

    # the person's interest, presenting them, then accepting: the plan
    item.locator("select[name=answer]").select_option("interested")
    item.locator("button[data-action=answer]").click()
    expect(adviser.get_by_role("status")).to_be_visible()
    item = adviser.locator(f"#suggestion-{rank}")
    item.locator("button[data-action=present]").click()
    expect(adviser.locator(f"#suggestion-{rank} .presented-now")).to_be_visible()
    accessible(adviser)
    adviser.locator(f"#suggestion-{rank} button[data-action=accept]").click()
    expect(adviser.get_by_role("heading", name=re.compile("^Inkluderingsplan"))).to_be_visible()
    plan_url = adviser.url.split("?")[0]
    accessible(adviser)
    start = dt.date.today() - dt.timedelta(days=10)  # started already: the first follow-ups are due
    tutor = adviser.get_by_label("Veileder på arbeidsplassen (fadder)")
    expect(tutor).to_have_value("Kari Nordmann")  # drafted from the workplace's record
    adviser.get_by_label("Startdato").fill(start.isoformat())
    adviser.get_by_label("Sluttdato").fill((start + dt.timedelta(weeks=8)).isoformat())
    adviser.get_by_role("button", name="Lagre ny versjon").click()
    expect(adviser.get_by_role("status")).to_contain_text("Planen er lagret som en ny versjon")
    adviser.get_by_label(re.compile("^Personen har godkjent")).check()
    adviser.get_by_role("button", name="Bekreft planen").click()
    expect(adviser.get_by_role("status")).to_have_text("Godkjenningen er registrert.")
    accessible(adviser)

    # the specialist sees the person presented (no personal fields); the employer approves
    specialist.reload()
    expect(specialist.get_by_role("region", name="Presentert for arbeidsplassen")).to_contain_text(candidate_id)
    employer_key = site.add_key(Identity(name="loop-employer", role="employer", employer_id=EMPLOYER_ID))
    employer_context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    employer = log_in(employer_context, site, employer_key)
    employer.goto(f"{site.url}/app/employer?workplace_id={WORKPLACE_ID}")
    accessible(employer)
    employer.get_by_role("link", name=f"Inkluderingsplan for {candidate_id}").click()
    accessible(employer)
    employer.get_by_role("button", name="Godkjenn for arbeidsgiveren").click()
    expect(employer.locator(".approvals")).to_contain_text("Alle har godkjent planen")

    # the placement's steps: contacted, trial started (a slot is taken)
    def slots() -> int:
        with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {specialist_key}"}) as api:
            return int(api.get(f"/workplaces/{WORKPLACE_ID}").json()["record"]["slots"])

    def step(kind: str) -> None:
        adviser.goto(plan_url)
        adviser.locator("#kind").select_option(kind)
        adviser.locator("#record-step").click()
        expect(adviser.get_by_role("status")).to_be_visible()

    adviser.goto(plan_url)
    accessible(adviser)
    step("contacted")
    assert slots() == 2
    step("trial_started")
    assert slots() == 1
    accessible(adviser)
    specialist.reload()
    expect(specialist.get_by_label("Ledige plasser for arbeidstrening")).to_have_value("1")

    # a follow-up with a note
    adviser.goto(f"{site.url}/app")
    followups = adviser.get_by_role("region", name="Oppfølging")
    done = followups.locator("li.followup", has_text=candidate_id).first
    done.get_by_label("Notat fra oppfølgingen").fill(NOTE)
    done.get_by_role("button", name=re.compile("^Merk som gjort")).click()
    expect(adviser.get_by_role("status")).to_have_text("Oppfølgingen er registrert.")
    accessible(adviser)

    # the trial completes; both assessments; the hire
    step("trial_completed")
    adviser.goto(plan_url)
    adviser.locator("#assessment_source").select_option("person")
    adviser.locator("#tasks_mastered").select_option("4")
    adviser.locator("#what_worked").fill("fast dag, fadder")
    adviser.locator("#would_continue").select_option(index=1)
    adviser.locator("#save-assessment").click()
    expect(adviser.get_by_role("status")).to_be_visible()
    employer.reload()
    employer.locator("#tasks_mastered").select_option("4")
    employer.locator("#would_continue").select_option(index=1)
    employer.locator("#save-assessment").click()
    expect(employer.get_by_role("status")).to_be_visible()
    accessible(employer)
    step("hired")
    expect(adviser.locator(".timeline")).to_contain_text(re.compile("[Aa]nsatt"))
    accessible(adviser)
    for context in (adviser_context, specialist_context, employer_context):
        context.close()

    # the stored outcome: the hire (grade 4), the note, and the next model learns from it
    engine = make_engine(site.settings.database_url)
    with session_scope(engine, readonly=True) as session:
        outcomes = stored_outcomes(session)
        notes = [f.note for f in session.query(Followup).filter(Followup.done_on.is_not(None))]
    engine.dispose()
    mine = outcomes[(outcomes["candidate_id"] == candidate_id) & (outcomes["workplace_id"] == WORKPLACE_ID)]
    assert mine["grade"].tolist() == [4]
    assert NOTE in notes
    env = {
        **os.environ,
        "JOBMATCH_DATABASE_URL": site.settings.database_url,
        "JOBMATCH_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "PYTHONPATH": str(ROOT),
    }
    done_training = subprocess.run(
        [sys.executable, "-m", "jobmatch", "train", "--from-db", "--no-register"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done_training.returncode == 0, done_training.stderr[-3000:]
    said = done_training.stdout + done_training.stderr
    learnt = re.search(r"(\d+) labelled pairs from the store's decisions and outcomes", said)
    assert learnt is not None and int(learnt.group(1)) >= len(outcomes) > 0, said[-3000:]
    assert "NDCG" in said, said[-3000:]
