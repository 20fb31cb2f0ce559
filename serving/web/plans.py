"""The inclusion plan's page: the plan as the adviser (editable) or the employer (their part) sees
it, saving the adviser's changes as a revision, and recording approvals. Each action calls the JSON
API's own function (`serving.api.plans`), so the employer gets the same 404 on the page as in the
API for a person not yet interested or not presented to the workplace."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from matching import plain
from matching.inclusion import Area, Purpose
from matching.plain import Lang, plan_texts
from matching.store.db import session_scope
from matching.store.errors import NotFoundError
from matching.store.plans import get_plan
from matching.store.records import adviser_of
from matching.store.shortlists import shortlist_of_item
from serving.api import plans as plan_api
from serving.auth import check_caseload
from serving.paths import StoreId
from serving.schemas.plans import ApprovalIn, RevisionIn
from serving.web.i18n import HTML_LANG, label
from serving.web.messages import Problem
from serving.web.render import PAGE_ROLES, Form, Page, api, date_text, need_text, problems_of, redirect, render, run
from serving.web.timeline import placement_view

OUTSIDE_PREFIX = "outside_"
ARRANGE_PREFIX = "arrange_"
ARRANGE_FORM = "arrange_shown"

router = APIRouter()


def shown_texts(page: Page, draft: Mapping[str, Any]) -> dict[str, str]:
    """The plan's drafted texts in the page's language (`matching.plain.plan_texts`); a text the
    adviser wrote themself as written."""
    title = page.state.pool.catalogue.title(str(draft["tasks"]["occupation_code"]), page.lang)
    return {
        "purpose_reason": plan_texts.drafted_text(str(draft.get("purpose_reason") or ""), page.lang),
        "training": plan_texts.drafted_text(str(draft["workplace"]["training"]), page.lang, title),
    }


def plan_form_values(draft: Mapping[str, Any], shown: Mapping[str, str] | None = None) -> dict[str, str]:
    """The plan's editable fields as the form shows them (the drafted texts as `shown`)."""
    outside = {str(n.get("area")): str(n.get("description", "")) for n in draft["support_system"]["needs_outside_work"]}
    values = {
        "purpose": str(draft["purpose"]),
        "purpose_reason": str(draft.get("purpose_reason") or ""),
        "hours_per_week": plain.number(float(draft["hours_per_week"]), "en", 1),
        "start_date": str(draft["start_date"]),
        "end_date": str(draft["end_date"]),
        "training": str(draft["workplace"]["training"]),
        **(shown or {}),
        "tutor_name": str(draft.get("tutor_name") or ""),
        "first_contact_days": str(draft["first_contact_days"]),
        "followup_interval_days": str(draft["followup_interval_days"]),
    }
    for area in Area:
        values[f"{OUTSIDE_PREFIX}{area.value}"] = outside.get(area.value, "")
    return values


def plan_changes(
    draft: Mapping[str, Any], form: Mapping[str, str], shown: Mapping[str, str] | None = None, lang: Lang = "en"
) -> tuple[dict[str, Any], list[str]]:
    """The fields the form changed (dotted names, as `POST /plans/{id}/revisions` takes them), and
    the values that could not be read (in `lang`). A drafted text left as the page showed it
    (`shown`, in the page's language) is no change."""
    shown = shown or {}
    changes: dict[str, Any] = {}
    problems: list[str] = []

    def number(name: str, kind: Callable[[str], float | int]) -> float | int | None:
        raw = form.get(name, "").strip().replace(",", ".")
        try:
            value = kind(raw)
        except ValueError:
            problems.append(label("must_be_number", lang, field=name, value=repr(raw)))
            return None
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(label("must_be_finite", lang, field=name))
            return None
        return value

    if form.get("purpose", draft["purpose"]) != draft["purpose"]:
        changes["purpose"] = form["purpose"]
    reason = form.get("purpose_reason", "").strip()
    if reason not in (draft.get("purpose_reason") or "", shown.get("purpose_reason")):
        changes["purpose_reason"] = reason
    hours = number("hours_per_week", float)
    if hours is not None and hours != float(draft["hours_per_week"]):
        changes["hours_per_week"] = hours
    for name in ("start_date", "end_date"):
        value = form.get(name, "").strip()
        if value != str(draft[name]):
            changes[name] = value
    training = form.get("training", "").strip()
    if training not in (draft["workplace"]["training"], shown.get("training")):
        changes["workplace.training"] = training
    tutor = form.get("tutor_name", "").strip() or None
    if tutor != (draft.get("tutor_name") or None):
        changes["tutor_name"] = tutor
    for name in ("first_contact_days", "followup_interval_days"):
        days = number(name, int)
        if days is not None and days != int(draft[name]):
            changes[name] = days
    outside = [
        {"area": area.value, "description": form.get(f"{OUTSIDE_PREFIX}{area.value}", "").strip()}
        for area in Area
        if form.get(f"{OUTSIDE_PREFIX}{area.value}", "").strip()
    ]
    current = [
        {"area": str(n.get("area")), "description": str(n.get("description", ""))}
        for n in draft["support_system"]["needs_outside_work"]
    ]
    if sorted(outside, key=str) != sorted(current, key=str):
        changes["support_system.needs_outside_work"] = outside
    if ARRANGE_FORM in form:  # the form showed the supports the support system could arrange
        arrangeable = [
            str(s["support"])
            for s in draft["support_system"]["unmet_support_needs"]
            if s.get("arranged_by") == "support_system"
        ]
        chosen = [name for name in arrangeable if f"{ARRANGE_PREFIX}{name}" in form]
        if sorted(chosen) != sorted(draft["support_system"].get("to_arrange", ())):
            changes["support_system.to_arrange"] = chosen
    return changes, problems


def plan_page(
    page: Page,
    plan_id: int,
    status: int = 200,
    problems: list[str] | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    plan = plan_api.read_plan(plan_id, page.state, page.identity)
    draft = plan.draft
    lang = page.lang
    shortlist_id = None
    with session_scope(page.state.engine, readonly=True) as session:
        stored = get_plan(session, plan_id)
        shortlist_id = shortlist_of_item(session, stored["shortlist_item_id"])
    values = plan_form_values(draft, shown_texts(page, draft))
    if form is not None:
        values.update({k: v for k, v in form.items() if k in values})
    parties = {p: page.t(f"party_{p}") for p in ("person", "employer", "adviser")}
    adviser = page.identity.role == "adviser"
    vocabulary = page.state.pool.catalogue.vocabulary
    support = draft["support_system"]
    if adviser:
        open_points = list(
            plan_texts.plan_open_points(
                bool(draft.get("tutor_name")),
                support["unmet_support_needs"],
                support.get("to_arrange", ()),
                lang,
                lambda s: vocabulary.scheme(s, lang),
            )
        )
    else:  # the employer's side: what is theirs to settle, not the person's required supports
        open_points = [page.t("tutor_open_point")] if not draft.get("tutor_name") else []
    return render(
        page.request,
        "plan.html",
        page,
        status=status,
        plan=plan,
        plan_id=plan_id,
        draft=draft,
        values=values,
        shortlist_id=shortlist_id if adviser else None,
        editable=adviser,
        purposes=[(p.value, page.t(f"purpose_{p.value}")) for p in Purpose],
        areas=[(a.value, plain.area_text(a.value, lang)) for a in Area],
        adaptations=[need_text(s, page, adviser) for s in draft["workplace"]["adaptations"]],
        unmet=[need_text(s, page, adviser) for s in support["unmet_support_needs"]],
        arrangeable=[
            (
                str(s["support"]),
                f"{need_text(s, page, adviser)} ({vocabulary.scheme(str(s['support']), lang) or ''})",
                s["support"] in support.get("to_arrange", ()),
            )
            for s in support["unmet_support_needs"]
            if s.get("arranged_by") == "support_system"
        ],
        open_points=open_points,
        points_lang=HTML_LANG[lang],
        training_tasks=[plain.task_text(str(t["task"]), lang) for t in draft["workplace"]["tasks_needing_training"]],
        occupation=page.state.pool.catalogue.title(str(draft["tasks"]["occupation_code"]), lang),
        schedule=[
            {"day": date_text(dt.date.fromisoformat(f["due"]), lang), "with": page.t(f"party_{f['contact']}")}
            for f in draft["followups"]
        ],
        approvals=[
            page.t(
                "approved_by",
                party=parties[a["party"]],
                who=a["approved_by"],
                date=date_text(a["approved_at"], lang),
            )
            for a in plan.approvals
        ],
        awaiting=", ".join(parties[p] for p in plan.awaiting),
        placement=placement_view(page, plan.placement_id) if plan.placement_id is not None else None,
        problems=problems or [],
    )


@router.get("/plans/{plan_id}")
def show_plan(request: Request, plan_id: StoreId) -> Response:
    return run(request, lambda page: plan_page(page, plan_id))


def _own_plan(page: Page, plan_id: int) -> dict[str, Any]:
    """The stored plan, for its adviser only (the same rule as the API: 404 unknown, 403 not yours)."""
    with session_scope(page.state.engine, readonly=True) as session:
        try:
            stored = get_plan(session, plan_id)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        check_caseload(page.identity, adviser_of(session, stored["candidate_id"]))
        return stored


@router.post("/plans/{plan_id}/revisions")
def save_plan(request: Request, plan_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        stored = _own_plan(page, plan_id)
        if form.get("revision") != str(stored["revision"]):
            message = Problem(
                page.t("stale_revision", revision=stored["revision"]),
                "" if page.lang == "en" else f"revision: the plan is now at revision {stored['revision']}",
            )
            return plan_page(page, plan_id, 409, [message], form)
        changes, problems = plan_changes(stored["body"], form, shown_texts(page, stored["body"]), page.lang)
        if problems:
            return plan_page(page, plan_id, 422, problems, form)
        if not changes:
            return plan_page(page, plan_id, 200, [page.t("no_change")])
        body = api(page, lambda: RevisionIn(changes=changes, note=form.get("note", "").strip()))
        try:
            plan_api.revise_plan(plan_id, body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            return plan_page(page, plan_id, 422, problems_of(error.detail, page.lang, 422), form)
        return redirect(f"/app/plans/{plan_id}?done=revision")

    return run(request, act, ("adviser",), form)


@router.post("/plans/{plan_id}/approvals")
def approve_plan(request: Request, plan_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            revision = int(form.get("revision", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="revision: must be a whole number") from error
        if page.identity.role == "employer":
            parties = ["employer"]
        else:
            parties = ["adviser"] + (["person"] if form.get("person_approved") == "yes" else [])
        for party in parties:
            fields = {"party": party, "revision": revision}
            body = api(page, partial(ApprovalIn.model_validate, fields))
            try:
                plan_api.approve(plan_id, body, page.state, page.identity)
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                return plan_page(page, plan_id, 409, problems_of(error.detail, page.lang, 409))
        return redirect(f"/app/plans/{plan_id}?done=approval")

    return run(request, act, PAGE_ROLES, form)
