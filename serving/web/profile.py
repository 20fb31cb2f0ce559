"""The person's profile on the adviser's page: the display name, support needs (with the plain
description of each support), skills, tolerances, interests, wished occupations (searched by
title), desired hours, longest commute and consent; and the "new person" form.

Every save calls the JSON API's own function once with the logged-in identity:
`serving.api.records.change_candidate` (`PATCH /candidates/{id}`, only the fields that changed),
`serving.api.records.create_candidate` (`POST /candidates`); the page reads the person with
`serving.api.records.read_candidate` (`GET /candidates/{id}`), so the caseload rule (403) and an
unknown person (404) are the API's. A refusal (the contract's rules, 422) is shown next to its
field in the page's language, and nothing is saved."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.responses import Response as PlainResponse

from matching.occupations import occupation_index
from serving.api import records
from serving.paths import CandidateId
from serving.schemas.records import CandidateChange, CandidateIn, RecordOut
from serving.web.fields import (
    LEVEL_GROUPS,
    NUMBERS,
    field_label,
    number_of,
    refusals,
    support_description,
)
from serving.web.render import Form, Page, redirect, render, run

router = APIRouter()

MAX_MATCHES = 25
NEUTRAL_LEVEL = 0.5
DEFAULT_HOURS = 20.0
DEFAULT_COMMUTE_KM = 20.0
HOME_FALLBACK = (59.9139, 10.7522)  # Oslo, when the adviser has no one else to take a home from
# The profile as the page shows it ----------------------------------------------------------------------------


def _level_text(value: Any) -> str:
    return f"{float(value):g}" if value is not None else ""


def profile_view(page: Page, stored: RecordOut, entered: Mapping[str, str]) -> dict[str, Any]:
    """The person's record as the form shows it; `entered` (a refused form) wins over the stored values."""
    record = stored.record
    catalogue = page.state.pool.catalogue
    vocabulary = catalogue.vocabulary

    def shown(name: str, stored_text: str) -> str:
        return entered.get(name, stored_text)

    needs = [
        {
            "name": f"needs_{s}",
            "legend": page.t(f"support_{s}"),
            "description": support_description(page, s),
            "value": shown(f"needs_{s}", str(int(record.get(f"needs_{s}", 0)))),
        }
        for s in vocabulary.supports
    ]
    groups = [
        {
            "key": key,
            "heading": page.t(key),
            "help": page.t(f"{key}_help"),
            "fields": [
                {
                    "name": f"{prefix}{n}",
                    "label": field_label(page, f"{prefix}{n}"),
                    "value": shown(f"{prefix}{n}", _level_text(record.get(f"{prefix}{n}"))),
                }
                for n in getattr(vocabulary, part)
            ],
        }
        for key, prefix, part, _ in LEVEL_GROUPS
    ]
    numbers = [
        {"name": n, "label": field_label(page, n), "value": shown(n, _level_text(record.get(n)))} for n in NUMBERS
    ]
    codes = [str(c) for c in record.get("preferred_occupations") or []]
    consent = shown("consent", "yes" if record.get("consent") else "no")
    return {
        "id": str(record["candidate_id"]),
        "name": stored.display_name or str(record["candidate_id"]),
        "display_name": shown("display_name", stored.display_name or ""),
        "numbers": numbers,
        "needs": needs,
        "need_levels": [(str(level), page.t(f"need_level_{level}")) for level in (0, 1, 2)],
        "groups": groups,
        "occupations": [{"code": c, "title": catalogue.title(c, page.lang)} for c in codes],
        "consent": consent,
        "consent_stored": bool(record.get("consent")),
    }


def occupation_matches(page: Page, query: str, wished: Sequence[str]) -> list[dict[str, Any]]:
    """The catalogue's occupations whose Norwegian or English title holds every word of `query`, or
    whose code starts with one (`matching.occupations` search, as `GET /occupations`), with the
    title in the page's language."""
    found = occupation_index(page.state.pool.catalogue).search(query, MAX_MATCHES, page.lang)
    return [{"code": o.code, "title": o.title(page.lang), "wished": o.code in wished} for o in found]


def profile_page(
    page: Page,
    candidate_id: str,
    entered: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    stored = records.read_candidate(candidate_id, page.state, page.identity)
    view = profile_view(page, stored, entered or {})
    query = page.request.query_params.get("q", "").strip()[:100]
    wished = [o["code"] for o in view["occupations"]]
    return render(
        page.request,
        "profile.html",
        page,
        status=status,
        person=view,
        field_problems=dict(problems or {}),
        problems=[page.t("profile_not_saved")] if problems else [],
        q=query,
        matches=occupation_matches(page, query, wished) if query else [],
    )


# Saving ------------------------------------------------------------------------------------------------------


def changes_of(page: Page, form: Mapping[str, str], stored: RecordOut) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields the form changes (only those), and the ones it cannot read."""
    record = stored.record
    changes: dict[str, Any] = {}
    problems: dict[str, str] = {}
    vocabulary = page.state.pool.catalogue.vocabulary
    if "display_name" in form and form["display_name"].strip() != (stored.display_name or ""):
        changes["display_name"] = form["display_name"].strip()
    numbers = [*NUMBERS, *(f"{p}{n}" for _, p, part, _ in LEVEL_GROUPS for n in getattr(vocabulary, part))]
    for name in numbers:
        if name not in form:
            continue
        value = number_of(form[name])
        if value is None:
            rule = page.t("rule_missing" if not form[name].strip() else "rule_number")
            problems[name] = page.t("field_problem", field=field_label(page, name), rule=rule)
        elif record.get(name) is None or value != float(record[name]):
            changes[name] = value
    for support in vocabulary.supports:
        name = f"needs_{support}"
        if name not in form:
            continue
        if form[name] not in ("0", "1", "2"):
            problems[name] = page.t("field_problem", field=field_label(page, name), rule=page.t("rule_choice"))
        elif int(form[name]) != int(record.get(name, 0)):
            changes[name] = int(form[name])
    if "consent" in form:
        if form["consent"] not in ("yes", "no"):
            problems["consent"] = page.t(
                "field_problem", field=field_label(page, "consent"), rule=page.t("rule_choice")
            )
        elif (form["consent"] == "yes") != bool(record.get("consent")):
            changes["consent"] = form["consent"] == "yes"
    return changes, problems


def save(page: Page, candidate_id: str, changes: dict[str, Any]) -> dict[str, str]:
    """One call of the API's change function with `changes`; the refusals by field (nothing saved)."""
    try:
        body = CandidateChange.model_validate(changes)
        records.change_candidate(candidate_id, body, page.state, page.identity)
    except (ValidationError, RequestValidationError) as error:
        return refusals(page, error) or {}
    return {}


@router.get("/persons/new")
def new_person(request: Request) -> Response:
    return run(request, lambda page: new_person_page(page), ("adviser",))


@router.get("/persons/{candidate_id}")
def person(request: Request, candidate_id: CandidateId) -> Response:
    return run(request, lambda page: profile_page(page, candidate_id), ("adviser",))


@router.post("/persons/{candidate_id}")
def change_person(request: Request, candidate_id: CandidateId, form: Form) -> Response:
    def act(page: Page) -> Response:
        stored = records.read_candidate(candidate_id, page.state, page.identity)
        changes, problems = changes_of(page, form, stored)
        if not problems and changes:
            problems = save(page, candidate_id, changes)
        if problems:
            return profile_page(page, candidate_id, form, problems, 422)
        return redirect(f"/app/persons/{candidate_id}?done={'profile' if changes else 'unchanged'}")

    return run(request, act, ("adviser",), form)


@router.post("/persons/{candidate_id}/occupations")
def change_occupations(request: Request, candidate_id: CandidateId, form: Form) -> Response:
    def act(page: Page) -> Response:
        stored = records.read_candidate(candidate_id, page.state, page.identity)
        codes = [str(c) for c in stored.record.get("preferred_occupations") or []]
        code = form.get("code", "").strip()
        if form.get("op") == "add" and code not in codes:
            codes.append(code)
        elif form.get("op") == "remove":
            codes = [c for c in codes if c != code]
        problems = save(page, candidate_id, {"preferred_occupations": codes})
        if problems:
            return profile_page(page, candidate_id, {}, problems, 422)
        query = form.get("q", "").strip()
        back = f"&q={_quoted(query)}" if query else ""
        return redirect(f"/app/persons/{candidate_id}?done=occupations{back}#occupations")

    return run(request, act, ("adviser",), form)


def _quoted(text: str) -> str:
    return quote(text[:100], safe="")


# A new person ---------------------------------------------------------------------------------------------


def _home_default(page: Page) -> tuple[float, float]:
    """A new person's home until the adviser sets it: the middle of the adviser's caseload."""
    frame = page.state.candidates.frame
    mine = frame[frame["adviser_id"].astype(str) == str(page.identity.adviser_id)]
    if mine.empty:
        return HOME_FALLBACK
    return round(float(mine["lat"].median()), 4), round(float(mine["lon"].median()), 4)


def new_person_page(
    page: Page, entered: Mapping[str, str] | None = None, problems: Mapping[str, str] | None = None, status: int = 200
) -> Response:
    lat, lon = _home_default(page)
    defaults = {
        "candidate_id": "",
        "display_name": "",
        "lat": f"{lat:g}",
        "lon": f"{lon:g}",
        "desired_hours": f"{DEFAULT_HOURS:g}",
        "max_commute_km": f"{DEFAULT_COMMUTE_KM:g}",
        "consent": "",
    }
    values = {name: (entered or {}).get(name, value) for name, value in defaults.items()}
    fields = [
        {"name": n, "label": field_label(page, n), "value": values[n]}
        for n in ("lat", "lon", "desired_hours", "max_commute_km")
    ]
    return render(
        page.request,
        "person_new.html",
        page,
        status=status,
        values=values,
        fields=fields,
        field_problems=dict(problems or {}),
        problems=[page.t("profile_not_saved")] if problems else [],
    )


def new_record(page: Page, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A whole record from the short form: what it gives, and neutral values for the rest."""
    vocabulary = page.state.pool.catalogue.vocabulary
    problems: dict[str, str] = {}
    record: dict[str, Any] = {
        "candidate_id": form.get("candidate_id", "").strip() or f"p-{secrets.token_hex(5)}",
        "adviser_id": page.identity.adviser_id,
        "display_name": form.get("display_name", "").strip() or None,
        "preferred_occupations": [],
        "active": True,
        **{f"{p}{n}": NEUTRAL_LEVEL for _, p, part, _ in LEVEL_GROUPS for n in getattr(vocabulary, part)},
        **{f"needs_{s}": 0 for s in vocabulary.supports},
    }
    for name in ("lat", "lon", *NUMBERS):
        value = number_of(form.get(name, ""))
        if value is None:
            rule = page.t("rule_missing" if not form.get(name, "").strip() else "rule_number")
            problems[name] = page.t("field_problem", field=field_label(page, name), rule=rule)
        record[name] = value
    if form.get("consent") not in ("yes", "no"):
        problems["consent"] = page.t("field_problem", field=field_label(page, "consent"), rule=page.t("rule_choice"))
    record["consent"] = form.get("consent") == "yes"
    return record, problems


@router.post("/persons")
def register_person(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        record, problems = new_record(page, form)
        if not problems:
            try:
                body = CandidateIn.model_validate(record)
                records.create_candidate(body, page.state, page.identity, PlainResponse())
            except (ValidationError, RequestValidationError) as error:
                problems = refusals(page, error) or {}
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                rule = page.t("rule_registered")
                problems = {"candidate_id": page.t("field_problem", field=field_label(page, "candidate_id"), rule=rule)}
        if problems:
            return new_person_page(page, form, problems, 422)
        return redirect(f"/app/persons/{_quoted(record['candidate_id'])}?done=created")

    return run(request, act, ("adviser",), form)
