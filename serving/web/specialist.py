"""The job specialist's page: the workplaces they work with, the "new workplace" form, the edit
form (closing a workplace included), and for each workplace the persons who fit it (the reverse
ranking: pseudonymous ids, no personal fields) and the persons presented to it.

Every action calls the JSON API's own function once with the logged-in identity:
`serving.api.records.create_workplace` (`POST /workplaces`), `serving.api.records.change_workplace`
(`PATCH /workplaces/{id}`, only the fields changed; `active` false closes it),
`serving.api.employer.workplace_candidates` (`POST /workplaces/{id}/candidates`) and
`serving.api.presentations.presented_persons` (`GET /workplaces/{id}/presented`). A refusal (the
contract's rules, 422) is shown next to its field in the page's language, and nothing is saved."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.responses import Response as PlainResponse

from matching import plain
from matching.plain import capital
from matching.store.db import session_scope
from matching.store.local_fields import workplaces_of_specialist
from matching.store.records import workplace_record
from serving.api import employer as employer_api
from serving.api import presentations as presentation_api
from serving.api import records
from serving.paths import WorkplaceId
from serving.schemas.employer import CandidatesRequest
from serving.schemas.records import WorkplaceChange, WorkplaceIn
from serving.web.fields import field_problems, number_of
from serving.web.profile import HOME_FALLBACK, occupation_matches
from serving.web.render import Form, Page, date_text, number_text, redirect, render, run

router = APIRouter()
ROLES = ("job_specialist",)
RANKED = 10
NEW_LEVEL = 0.3
NEW_HOURS = 20.0
NEW_SLOTS = 1
PLACE = ("lat", "lon", "hours_per_week")


def level_fields(page: Page) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The workplace's level groups: (heading key, legend, [(field name, label)])."""
    vocabulary = page.state.pool.catalogue.vocabulary
    return [
        (
            "wp_tasks",
            page.t("wp_tasks"),
            [(f"task_{a}", capital(plain.task_text(a, page.lang))) for a in vocabulary.activities],
        ),
        (
            "wp_demands",
            page.t("wp_demands"),
            [(f"demand_{c}", capital(plain.context_text(c, page.lang))) for c in vocabulary.contexts],
        ),
    ]


def wp_label(page: Page, name: str) -> str:
    """A workplace field's label in the page's language."""
    for _, _, fields in level_fields(page):
        for field, text in fields:
            if field == name:
                return text
    if name.startswith("offers_"):
        return page.t(f"support_{name.removeprefix('offers_')}")
    return (
        page.t(f"wp_{name}")
        if name in (*PLACE, "workplace_id", "employer_id", "occupation_code", "slots", "active", "tutor_name")
        else name
    )


def problems_of_error(page: Page, error: Exception) -> dict[str, str]:
    """The API's refusals by field, each naming the field's label."""
    errors: Any = error.errors() if isinstance(error, RequestValidationError | ValidationError) else []
    return field_problems(page, errors, wp_label)


# Reading the form --------------------------------------------------------------------------------------------


def read_form(page: Page, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The workplace's fields the form gives, typed; and the ones it cannot read."""
    record: dict[str, Any] = {}
    problems: dict[str, str] = {}
    numbers = [*PLACE, *(f for _, _, fields in level_fields(page) for f, _ in fields)]
    for name in numbers:
        value = number_of(form.get(name, ""))
        if value is None:
            rule = page.t("rule_missing" if not form.get(name, "").strip() else "rule_number")
            problems[name] = page.t("field_problem", field=wp_label(page, name), rule=rule)
        record[name] = value
    try:
        record["slots"] = int(form.get("slots", "").strip())
    except ValueError:
        problems["slots"] = page.t("field_problem", field=wp_label(page, "slots"), rule=page.t("rule_number"))
    for support in page.state.pool.catalogue.vocabulary.supports:
        record[f"offers_{support}"] = f"offers_{support}" in form
    code = form.get("occupation_code", "").strip()
    if not code:
        problems["occupation_code"] = page.t(
            "field_problem", field=wp_label(page, "occupation_code"), rule=page.t("rule_missing")
        )
    record["occupation_code"] = code
    record["employer_id"] = form.get("employer_id", "").strip()
    record["tutor_name"] = form.get("tutor_name", "").strip() or None
    return record, problems


def stored_values(record: Mapping[str, Any]) -> dict[str, str]:
    """A stored workplace as the form's values."""
    out: dict[str, str] = {}
    for name, value in record.items():
        if isinstance(value, bool):
            out[name] = "on" if value else ""
        elif isinstance(value, float):
            out[name] = f"{value:g}"
        elif value is not None:
            out[name] = str(value)
    return out


# Pages ---------------------------------------------------------------------------------------------------------


def workplace_page(
    page: Page,
    workplace_id: str | None,
    entered: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The new-workplace form (`workplace_id` None) or a workplace's edit form, ranking and presented persons."""
    catalogue = page.state.pool.catalogue
    vocabulary = catalogue.vocabulary
    stored: dict[str, Any] = {}
    if workplace_id is not None:
        read = records.read_workplace(workplace_id, page.state, page.identity)
        stored = {**read.record, "tutor_name": read.tutor_name}
        with session_scope(page.state.engine, readonly=True) as session:
            if workplace_id not in workplaces_of_specialist(session, page.identity.name):
                raise HTTPException(status_code=403, detail="you do not work with this workplace")
    values = stored_values(stored) if stored else new_defaults(page)
    if entered is not None:
        values = {**values, **{k: v for k, v in entered.items() if k != "csrf_token"}}
        for support in vocabulary.supports:
            values[f"offers_{support}"] = "on" if f"offers_{support}" in entered else ""
        values["active"] = "on" if "active" in entered else ""
    query = page.request.query_params.get("q", "").strip()[:100]
    code = values.get("occupation_code", "")
    choices = occupation_matches(page, query, []) if query else []
    if code and code in catalogue.codes and all(c["code"] != code for c in choices):
        choices.insert(0, {"code": code, "title": catalogue.title(code, page.lang)})
    return render(
        page.request,
        "workplace.html",
        page,
        status=status,
        workplace_id=workplace_id,
        values=values,
        q=query,
        searched=bool(query),
        choices=choices,
        place=[(n, wp_label(page, n)) for n in PLACE],
        groups=level_fields(page),
        offers=[(f"offers_{s}", page.t(f"support_{s}")) for s in vocabulary.supports],
        field_problems=dict(problems or {}),
        problems=[page.t("workplace_not_saved")] if problems else [],
        ranking=ranking(page, workplace_id) if workplace_id is not None else None,
        presented=presented(page, workplace_id) if workplace_id is not None else [],
    )


def new_defaults(page: Page) -> dict[str, str]:
    vocabulary = page.state.pool.catalogue.vocabulary
    lat, lon = HOME_FALLBACK
    levels = {f"task_{a}": f"{NEW_LEVEL:g}" for a in vocabulary.activities}
    levels |= {f"demand_{c}": f"{NEW_LEVEL:g}" for c in vocabulary.contexts}
    return {
        "workplace_id": "",
        "employer_id": "",
        "occupation_code": "",
        "lat": f"{lat:g}",
        "lon": f"{lon:g}",
        "hours_per_week": f"{NEW_HOURS:g}",
        "slots": str(NEW_SLOTS),
        "active": "on",
        **levels,
    }


def ranking(page: Page, workplace_id: str) -> dict[str, Any]:
    """The reverse ranking (the API's own function): ids, distance and the score's place, nothing personal."""
    try:
        found = employer_api.workplace_candidates(
            workplace_id, CandidatesRequest(top_k=RANKED), page.state, page.identity
        )
    except HTTPException as error:
        if error.status_code != 409:
            raise
        return {"closed": True, "items": []}
    items = [
        {
            "candidate_id": item.candidate_id,
            "text": page.t("ranked_item", id=item.candidate_id, km=number_text(item.distance_km, page.lang, 1)),
            "score": number_text(item.score, page.lang),
        }
        for item in found.items
    ]
    gains = [
        page.t(
            "offer_gain",
            support=plain.support_name(g.support, page.lang),
            more=g.more_eligible,
            better=g.better_matched,
        )
        for g in found.supports_to_offer
    ]
    return {"closed": False, "items": items, "gains": gains}


def presented(page: Page, workplace_id: str) -> list[dict[str, Any]]:
    found = presentation_api.presented_persons(workplace_id, page.state, page.identity)
    return [
        {
            "candidate_id": p.candidate_id,
            "presented_on": page.t("presented_on", date=date_text(p.presented_at, page.lang)),
        }
        for p in found.persons
    ]


@router.get("/specialist")
def specialist_home(request: Request) -> Response:
    def show(page: Page) -> Response:
        catalogue = page.state.pool.catalogue
        with session_scope(page.state.engine, readonly=True) as session:
            stored = [workplace_record(session, w) for w in workplaces_of_specialist(session, page.identity.name)]
        rows = [
            {
                "id": str(w["workplace_id"]),
                "link": f"/app/workplaces/{quote(str(w['workplace_id']), safe='')}",
                "text": page.t(
                    "workplace_row",
                    id=w["workplace_id"],
                    title=catalogue.title(str(w["occupation_code"]), page.lang),
                    state=page.t("wp_open" if w.get("active") else "wp_closed"),
                    slots=w.get("slots"),
                ),
            }
            for w in stored
            if w is not None
        ]
        return render(request, "specialist.html", page, workplaces=rows)

    return run(request, show, ROLES)


@router.get("/workplaces/new")
def new_workplace(request: Request) -> Response:
    return run(request, lambda page: workplace_page(page, None), ROLES)


@router.get("/workplaces/{workplace_id}")
def show_workplace(request: Request, workplace_id: WorkplaceId) -> Response:
    return run(request, lambda page: workplace_page(page, workplace_id), ROLES)


@router.post("/workplaces")
def register_workplace(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        record, problems = read_form(page, form)
        record["workplace_id"] = form.get("workplace_id", "").strip() or f"w-{secrets.token_hex(5)}"
        record |= {"past_placements": 0, "past_hires": 0, "active": True}
        if not problems:
            try:
                body = WorkplaceIn.model_validate(record)
                records.create_workplace(body, page.state, page.identity, PlainResponse())
            except (ValidationError, RequestValidationError) as error:
                problems = problems_of_error(page, error)
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                rule = page.t("rule_registered")
                problems = {"workplace_id": page.t("field_problem", field=wp_label(page, "workplace_id"), rule=rule)}
        if problems:
            return workplace_page(page, None, form, problems, 422)
        return redirect(f"/app/workplaces/{quote(record['workplace_id'], safe='')}?done=workplace_created")

    return run(request, act, ROLES, form)


@router.post("/workplaces/{workplace_id}")
def change_workplace(request: Request, workplace_id: WorkplaceId, form: Form) -> Response:
    def act(page: Page) -> Response:
        read = records.read_workplace(workplace_id, page.state, page.identity)
        stored = {**read.record, "tutor_name": read.tutor_name}
        record, problems = read_form(page, form)
        record["active"] = "active" in form
        changes = {k: v for k, v in record.items() if stored.get(k) != v}
        if not problems and changes:
            try:
                body = WorkplaceChange.model_validate(changes)
                records.change_workplace(workplace_id, body, page.state, page.identity)
            except (ValidationError, RequestValidationError) as error:
                problems = problems_of_error(page, error)
        if problems:
            return workplace_page(page, workplace_id, form, problems, 422)
        done = "workplace" if changes else "unchanged"
        return redirect(f"/app/workplaces/{quote(workplace_id, safe='')}?done={done}")

    return run(request, act, ROLES, form)
