"""Recording a placement's next step and the end-of-trial assessments from the plan page: one form,
one call of `serving.api.placements.record_event` (`POST /placements/{id}/events`), so a step is
recorded whole or not at all. The adviser records the steps (contacted, trial started, trial
completed, hired, ended with a reason) and either side's assessment; the employer gives their own
assessment. A step the placement does not allow now (409), a trial without a free slot (409) or an
incomplete form (422) is shown on the plan page as a message in the page's language."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from matching.placements import AssessmentSource, EndReason, EventKind, WouldContinue
from matching.store.db import session_scope
from matching.store.errors import NotFoundError
from matching.store.placements import get_placement
from serving.api import placements as placement_api
from serving.paths import StoreId
from serving.schemas.plans import EventIn
from serving.web.messages import Problem
from serving.web.plans import plan_page
from serving.web.render import PAGE_ROLES, Form, Page, api, problems_of, redirect, run
from serving.web.timeline import STEPS, TASK_LEVELS, step_names

router = APIRouter()


def event_body(page: Page, form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The API's event body from the form, and what the form lacks (in the page's language)."""
    kind = form.get("kind", "")
    if page.identity.role == "employer" and kind != EventKind.ASSESSMENT.value:
        raise HTTPException(status_code=403, detail=Problem(page.t("employer_assessment_only")))
    if kind == EventKind.ASSESSMENT.value:
        return assessment_body(page, form)
    if kind not in STEPS:
        return {}, [page.t("choose_step")]
    body: dict[str, Any] = {"kind": kind}
    if kind != EventKind.ENDED.value:
        return body, []
    reason, text = form.get("reason", ""), form.get("reason_text", "").strip()
    if reason not in {r.value for r in EndReason}:
        return body, [page.t("choose_end_reason")]
    if reason == EndReason.OTHER.value and not text:
        return body, [page.t("end_other_needs_text")]
    return {**body, "reason": reason, "reason_text": text or None}, []


def assessment_body(page: Page, form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    source = AssessmentSource.EMPLOYER.value if page.identity.role == "employer" else form.get("source", "")
    problems = []
    if source not in {s.value for s in AssessmentSource}:
        problems.append(page.t("choose_assessment_source"))
    level = form.get("tasks_mastered", "")
    if level not in {str(n) for n in TASK_LEVELS}:
        problems.append(page.t("choose_tasks_mastered"))
    go_on = form.get("would_continue", "")
    if go_on not in {w.value for w in WouldContinue}:
        problems.append(page.t("choose_would_continue"))
    if problems:
        return {}, problems
    assessment = {
        "source": source,
        "tasks_mastered": int(level),
        "would_continue": go_on,
        "what_worked": form.get("what_worked", "").strip(),
        "what_to_change": form.get("what_to_change", "").strip(),
    }
    return {"kind": EventKind.ASSESSMENT.value, "assessment": assessment}, []


def refusal(page: Page, kind: str, content: dict[str, Any]) -> str:
    """A 409 of `record_event` in the page's language."""
    detail = str(content.get("detail", ""))
    if "free slot" in detail:
        return page.t("no_free_slot")
    if "interest" in detail:
        return page.t("contact_needs_interest")
    if "already recorded" in detail:
        return page.t("assessment_already_given")
    step = page.t(f"event_{kind}") if kind in {k.value for k in EventKind} else kind
    return page.t("impossible_step", step=step, allowed=step_names(page, list(content.get("allowed_next", []))))


def plan_of(page: Page, placement_id: int) -> int:
    with session_scope(page.state.engine, readonly=True) as session:
        try:
            return get_placement(session, placement_id).plan_id
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error


@router.post("/placements/{placement_id}/events")
def record_step(request: Request, placement_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        body, problems = event_body(page, form)
        if problems:
            placement_api.read_placement(placement_id, page.state, page.identity)  # 404/403 as the API
            return plan_page(page, plan_of(page, placement_id), 422, problems)
        event = api(page, lambda: EventIn.model_validate(body))
        try:
            done = placement_api.record_event(placement_id, event, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            return plan_page(
                page,
                plan_of(page, placement_id),
                422,
                [page.t("not_saved"), *problems_of(error.detail, page.lang, 422)],
            )
        if isinstance(done, Response):  # the API's 409: an impossible step, or no free slot
            content = json.loads(bytes(done.body))
            return plan_page(
                page, plan_of(page, placement_id), done.status_code, [refusal(page, body["kind"], content)]
            )
        what = "assessment" if body["kind"] == EventKind.ASSESSMENT.value else "event"
        return redirect(f"/app/plans/{done.plan_id}?done={what}#placement")

    return run(request, act, PAGE_ROLES, form)
