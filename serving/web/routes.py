"""The adviser's page and the employer contact's mirror page, server-rendered (Jinja2, plain forms,
no JavaScript), under `/app`.

Every action calls the same functions as the JSON API, with the logged-in identity, so shortlists,
decisions, plans, revisions, approvals, follow-ups and audit entries are recorded exactly as the
API records them:

| page route | API function it calls |
| --- | --- |
| `POST /app/shortlists` | `serving.routes.create_shortlist` (`POST /shortlists`) |
| `GET /app/shortlists/{id}` | `serving.review.read_shortlist` (`GET /shortlists/{id}`) |
| `POST /app/shortlists/{id}/decisions` | `serving.review.record_decisions` |
| `GET /app/plans/{id}` | `serving.plans.read_plan` |
| `POST /app/plans/{id}/revisions` | `serving.plans.revise_plan` (only the fields changed) |
| `POST /app/plans/{id}/approvals` | `serving.plans.approve` (adviser: own and person's; employer contact: employer's) |
| `POST /app/followups` | `serving.plans.record_contact` |
| `GET /app` (adviser) | `serving.plans.due_follow_ups` for the follow-ups due and overdue |
| `GET /app/employer` | `serving.employer.workplace_candidates` |

Login and CSRF: `serving.web.session`. Labels: `serving.web.i18n` (Norwegian by default; `?lang=en`
switches and is remembered in a cookie).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import jinja2
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from matching import plain
from matching.errors import ModelMismatchError
from matching.inclusion import Area, Purpose
from matching.plain import Lang
from matching.review import REASON_CODES
from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.errors import NotFoundError
from matching.store.models import Candidate, InclusionPlan, ShortlistItem, Workplace
from matching.store.models import Shortlist as ShortlistRow
from matching.store.plans import get_plan
from serving import employer, plans, review
from serving import routes as api_routes
from serving.auth import Identity, check_caseload, key_hash
from serving.schemas import CandidatesRequest, ShortlistRequest
from serving.state import ServiceState
from serving.web import session as web_session
from serving.web.i18n import HTML_LANG, LABELS, label, lang_or_default

HERE = FilePath(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
LANG_COOKIE = "jobmatch_lang"
PAGE_ROLES = ("adviser", "employer_contact")
TOP_K_CHOICES = (3, 5, 10, 20)
DEFAULT_TOP_K = 5
MAX_FORM_BYTES = 64 * 1024
RECENT_SHORTLISTS = 10
DONE_MESSAGES = {
    "decision": "saved_decision",
    "revision": "saved_revision",
    "approval": "saved_approval",
    "followup": "saved_followup",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # the pages show personal data: never cached
}

router = APIRouter(prefix="/app", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]  # ids are 32-bit integers in the store (PostgreSQL)


# Forms ---------------------------------------------------------------------------------------------


async def form_fields(request: Request) -> dict[str, str]:
    """An URL-encoded form (what a plain HTML form sends), at most 64 KiB; the last value of a
    repeated field wins."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=415, detail="send the form as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(status_code=413, detail="the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPException(status_code=400, detail="the form cannot be read") from error
    return dict(pairs)


Form = Annotated[dict[str, str], Depends(form_fields)]


# Pages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One request of a logged-in user: who, their session, the language, the service."""

    request: Request
    identity: Identity
    session: web_session.WebSession
    lang: Lang

    @property
    def state(self) -> ServiceState:
        state: ServiceState = self.request.app.state.service
        return state

    def t(self, key: str, **values: object) -> str:
        return label(key, self.lang, **values)


class Stop(Exception):
    """End the request with this response (a redirect, or an error page)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def request_lang(request: Request) -> Lang:
    return lang_or_default(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def render(
    request: Request,
    template: str,
    page: Page | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A template with the page's common context, its security headers, and the language cookie
    when `?lang=` chose one."""
    lang = page.lang if page is not None else request_lang(request)
    switch = {}
    for code in HTML_LANG:
        query = dict(request.query_params)
        query["lang"] = code
        switch[code] = f"{request.url.path}?{urlencode(query)}"
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    context.setdefault("problems", [])
    html = TEMPLATES.get_template(template).render(
        t=lambda key, **values: label(key, lang, **values),
        lang=lang,
        html_lang=HTML_LANG[lang],
        lang_links=switch,
        identity=page.identity if page is not None else None,
        csrf=page.session.csrf if page is not None else "",
        done=label(done, lang) if done else None,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    chosen = request.query_params.get("lang")
    if chosen in HTML_LANG:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path=web_session.COOKIE_PATH, samesite="strict"
        )
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def problems_of(detail: Any) -> list[str]:
    """An API error's detail as lines: FastAPI's validation list, or a message."""
    if isinstance(detail, list):
        lines = []
        for entry in detail:
            if isinstance(entry, Mapping):
                where = ".".join(str(part) for part in entry.get("loc", ()) if part != "body")
                lines.append(f"{where}: {entry.get('msg', '')}" if where else str(entry.get("msg", "")))
            else:
                lines.append(str(entry))
        return lines
    return [str(detail)]


def error_page(request: Request, page: Page | None, status: int, detail: Any) -> HTMLResponse:
    lang = page.lang if page is not None else request_lang(request)
    heading = {403: "forbidden", 404: "not_found"}.get(status, "error")
    return render(
        request, "error.html", page, status=status, heading=label(heading, lang), problems=problems_of(detail)
    )


def run(
    request: Request,
    action: Callable[[Page], Response],
    roles: tuple[str, ...] = PAGE_ROLES,
    form: Mapping[str, str] | None = None,
) -> Response:
    """Resolve the login (to the login page without one), check the role and, for a form, its CSRF
    token; then run `action`, showing an API error as an error page."""
    found = web_session.current(request)
    if found is None:  # not logged in, or the session ended: log in (a form's input is not kept)
        return redirect("/app/login")
    identity, session = found
    page = Page(request, identity, session, request_lang(request))
    if form is not None and not web_session.same_token(session.csrf, form.get("csrf_token")):
        return error_page(request, page, 403, page.t("csrf_failed"))
    if identity.role not in roles:
        return error_page(request, page, 403, page.t("wrong_role"))
    try:
        return action(page)
    except Stop as stop:
        return stop.response
    except HTTPException as error:
        return error_page(request, page, error.status_code, error.detail)


def api(page: Page, call: Callable[[], Any]) -> Any:
    """Call an API function; its pydantic input errors become a 422 like the API's."""
    try:
        return call()
    except ValidationError as error:
        raise HTTPException(
            status_code=422,
            detail=[{"loc": e["loc"], "msg": e["msg"]} for e in error.errors(include_url=False)],
        ) from error


# Login -------------------------------------------------------------------------------------------------


def login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = web_session.login_token(request)
    response = render(request, "login.html", status=status, error=error, login_token=token)
    web_session.set_login_cookie(request, response, token)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if web_session.current(request) is not None:
        return redirect("/app")
    return login_page(request)


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    lang = request_lang(request)
    if not web_session.same_token(request.cookies.get(web_session.LOGIN_COOKIE), form.get("login_token")):
        return login_page(request, 403, label("csrf_failed", lang))
    key = form.get("api_key", "").strip()
    identity = web_session.identity_for_key(request, key)
    if identity is None:
        return login_page(request, 401, label("login_failed", lang))
    if identity.role not in PAGE_ROLES:
        return login_page(request, 403, label("wrong_role", lang))
    session_id, _ = web_session.sessions_of(request).open(key_hash(key))
    state: ServiceState = request.app.state.service
    with session_scope(state.engine) as session:
        record_audit(session, identity.name, identity.role, "web_login", "service", "web")
    response = redirect("/app")
    web_session.set_session_cookie(request, response, session_id)
    response.delete_cookie(web_session.LOGIN_COOKIE, path=web_session.COOKIE_PATH)
    return response


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    found = web_session.current(request)
    if found is not None and not web_session.same_token(found[1].csrf, form.get("csrf_token")):
        return error_page(request, None, 403, label("csrf_failed", request_lang(request)))
    web_session.sessions_of(request).close(request.cookies.get(web_session.SESSION_COOKIE))
    response = redirect("/app/login")
    web_session.clear_session_cookie(request, response)
    return response


# The adviser's page ----------------------------------------------------------------------------------


@router.get("")
def home(request: Request) -> Response:
    def show(page: Page) -> Response:
        if page.identity.role == "employer_contact":
            return redirect("/app/employer")
        return adviser_page(page)

    return run(request, show)


def caseload(page: Page) -> list[str]:
    """The adviser's consenting, active candidates that the service serves (pseudonymous ids)."""
    frame = page.state.candidates.frame
    mine = frame[
        (frame["adviser_id"].astype(str) == str(page.identity.adviser_id))
        & frame["consent"].astype(bool)
        & frame["active"].astype(bool)
    ]
    served = page.state.positions
    return sorted(str(c) for c in mine["candidate_id"] if str(c) in served)


def recent_shortlists(page: Page, candidate_ids: list[str]) -> list[dict[str, Any]]:
    if not candidate_ids:
        return []
    with session_scope(page.state.engine, readonly=True) as session:
        rows = session.execute(
            select(ShortlistRow.id, ShortlistRow.candidate_id, ShortlistRow.created_at)
            .where(ShortlistRow.candidate_id.in_(candidate_ids))
            .order_by(ShortlistRow.created_at.desc(), ShortlistRow.id.desc())
            .limit(RECENT_SHORTLISTS)
        ).all()
    return [{"id": r.id, "candidate_id": r.candidate_id, "day": plain.day(r.created_at, page.lang)} for r in rows]


def followups(page: Page) -> dict[str, list[dict[str, Any]]]:
    lists = plans.due_follow_ups(str(page.identity.adviser_id), page.state, page.identity, None)
    return {
        name: [
            {
                **row,
                "day": plain.day(row["due_on"], page.lang),
                "iso": row["due_on"].isoformat(),
                "with": page.t(f"party_{row['party']}"),
            }
            for row in rows
        ]
        for name, rows in lists.items()
    }


def adviser_page(
    page: Page, shortlist: dict[str, Any] | None = None, status: int = 200, problems: list[str] | None = None
) -> Response:
    ids = caseload(page)
    chosen = shortlist["candidate_id"] if shortlist else None
    return render(
        page.request,
        "adviser.html",
        page,
        status=status,
        caseload=ids,
        chosen=chosen,
        top_k_choices=TOP_K_CHOICES,
        top_k=shortlist["top_k"] if shortlist else DEFAULT_TOP_K,
        recent=recent_shortlists(page, ids),
        followups=followups(page),
        shortlist=shortlist,
        reason_codes=[(code, page.t(f"reason_{code}")) for code in REASON_CODES],
        problems=problems or [],
    )


@router.post("/shortlists")
def make_shortlist(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            top_k = int(form.get("top_k", DEFAULT_TOP_K))
        except ValueError:
            top_k = DEFAULT_TOP_K
        body = api(page, lambda: ShortlistRequest(candidate_id=form.get("candidate_id") or None, top_k=top_k))
        served = api_routes.create_shortlist(body, page.state, page.identity)
        return redirect(f"/app/shortlists/{served.shortlist_id}")

    return run(request, act, ("adviser",), form)


def bar_step(share: float) -> int:
    """A score bar's width in percent, in steps of 5 (the stylesheet's classes `w0` ... `w100`)."""
    share = min(1.0, max(0.0, share)) if math.isfinite(share) else 0.0
    return int(round(share * 20)) * 5


def score_bars(scores: list[float], chances: list[Any], page: Page) -> list[tuple[int, str]]:
    """Each suggestion's bar (width in percent) and its text equivalent.

    With the model's calibrated chance of a hire for every item (`expected_success`, what the
    adviser's shortlist is ranked by), the bar is that chance; otherwise (the rule score, or an
    uncalibrated model) the bar places the score between the lowest and the highest in the list.
    """
    count = len(scores)
    if count and all(isinstance(c, int | float) and math.isfinite(c) for c in chances):
        out = []
        for rank, (score, chance) in enumerate(zip(scores, chances, strict=True), start=1):
            percent = float(chance) * 100
            shown = "<1" if 0 < percent < 0.5 else plain.number(percent, page.lang, 0)
            text = page.t("chance_text", chance=shown, score=_number(score, page.lang), rank=rank, count=count)
            out.append((bar_step(float(chance)), text))
        return out
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    return [
        (
            bar_step((score - low) / (high - low) if high > low else 1.0),
            page.t("score_relative", score=_number(score, page.lang), rank=rank, count=count),
        )
        for rank, score in enumerate(scores, start=1)
    ]


def _number(value: float, lang: Lang, digits: int = 2) -> str:
    return plain.number(value, lang, digits)


def shortlist_view(page: Page, record: review.ShortlistRecord) -> dict[str, Any]:
    """The recorded shortlist as the page shows it, in the page's language."""
    lang = page.lang
    bars = score_bars(
        [item.score for item in record.items], [item.item.get("expected_success") for item in record.items], page
    )
    items = []
    for entry, (bar, score_text) in zip(record.items, bars, strict=True):
        item = entry.item
        explanation = item.get("explanation") or {}
        code = str(item.get("occupation_code", ""))
        title = page.state.pool.catalogue.title(code, lang) if code else str(item.get("occupation_title", ""))
        decision = None
        if entry.decision is not None:
            d = entry.decision
            when = plain.day(d.decided_at, lang)
            if d.decision == "accept":
                decision = {"kind": "accept", "text": page.t("accepted_by", who=d.decided_by, date=when)}
            else:
                reason = page.t(f"reason_{d.reason_code}") if d.reason_code in REASON_CODES else str(d.reason_code)
                if d.reason_text:
                    reason = f"{reason} ({d.reason_text})"
                decision = {
                    "kind": "reject",
                    "text": page.t("rejected_by", who=d.decided_by, date=when, reason=reason),
                }
        distance = item.get("distance_km")
        items.append(
            {
                "rank": entry.rank,
                "workplace_id": entry.workplace_id,
                "title": title,
                "score_percent": bar,
                "score_text": score_text,
                "distance": page.t("km_from_home", km=_number(float(distance), lang, 1))
                if distance is not None
                else "?",
                "speaks_for": [_reason(r, True, lang) for r in explanation.get("speaks_for", [])],
                "speaks_against": [_reason(r, False, lang) for r in explanation.get("speaks_against", [])],
                "needs_met": [_need(s, page) for s in explanation.get("support_needs_met", [])],
                "needs_unmet": [_need(s, page) for s in explanation.get("support_needs_unmet", [])],
                "training": [
                    {
                        "task": plain.task_text(str(t.get("task", "")), lang),
                        "levels": page.t(
                            "task_levels",
                            required=_number(float(t.get("required_level", 0)), lang),
                            skill=_number(float(t.get("skill_level", 0)), lang),
                        ),
                    }
                    for t in explanation.get("tasks_needing_training", [])
                ],
                "decision": decision,
                "plan_id": entry.plan_id,
            }
        )
    return {
        "id": record.shortlist_id,
        "candidate_id": record.candidate_id,
        "top_k": record.top_k,
        "made_by": page.t(
            "made_by_model",
            date=plain.day(record.created_at, lang),
            who=record.requested_by,
            model=record.model_name,
            version=record.model_version,
        ),
        "items": items,
    }


def _reason(reason: Mapping[str, Any], positive: bool, lang: Lang) -> dict[str, str]:
    """The adviser's sentence (with its number) in English; the plain sentence in Norwegian."""
    if lang == "en":
        return {"text": str(reason.get("sentence", "")), "lang": "en"}
    return {"text": plain.reason_sentence(str(reason.get("feature", "")), positive, lang), "lang": lang}


def _need(need: Mapping[str, Any], page: Page, with_level: bool = True) -> str:
    """A support need in words; with whether it is required or helps (never on the employer's side,
    which is told which adaptations to give, not how strong a need is)."""
    text = plain.support_text(str(need.get("support", "")), page.lang)
    if not with_level:
        return text
    return f"{text} ({page.t('need_required' if need.get('need') == 'required' else 'need_helps')})"


@router.get("/shortlists/{shortlist_id}")
def shortlist_page(request: Request, shortlist_id: Id) -> Response:
    def show(page: Page) -> Response:
        record = review.read_shortlist(shortlist_id, page.state, page.identity)
        return adviser_page(page, shortlist_view(page, record))

    return run(request, show, ("adviser",))


@router.post("/shortlists/{shortlist_id}/decisions")
def decide(request: Request, shortlist_id: Id, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            rank = int(form.get("rank", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="rank: must be a whole number") from error
        verdict = form.get("decision", "")
        decision: dict[str, Any] = {"rank": rank, "decision": verdict}
        if verdict == "reject":
            decision["reason_code"] = form.get("reason_code") or None
            decision["reason_text"] = form.get("reason_text", "").strip() or None
        body = api(page, lambda: review.DecisionsIn.model_validate({"decisions": [decision]}))
        try:
            record = review.record_decisions(shortlist_id, body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            again = review.read_shortlist(shortlist_id, page.state, page.identity)
            return adviser_page(page, shortlist_view(page, again), 422, problems_of(error.detail))
        item = next(i for i in record.items if i.rank == rank)
        if verdict == "accept" and item.plan_id is not None:
            return redirect(f"/app/plans/{item.plan_id}?done=decision")
        return redirect(f"/app/shortlists/{shortlist_id}?done=decision#suggestion-{rank}")

    return run(request, act, ("adviser",), form)


@router.post("/followups")
def followup_done(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            placement_id = int(form.get("placement_id", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="placement_id: must be a whole number") from error
        fields = {"party": form.get("party", ""), "due_on": form.get("due_on", "")}
        body = api(page, lambda: plans.FollowUpIn.model_validate(fields))
        plans.record_contact(placement_id, body, page.state, page.identity)
        return redirect("/app?done=followup")

    return run(request, act, ("adviser",), form)


# The inclusion plan ----------------------------------------------------------------------------------

OUTSIDE_PREFIX = "outside_"


def plan_form_values(draft: Mapping[str, Any]) -> dict[str, str]:
    """The plan's editable fields as the form shows them."""
    outside = {str(n.get("area")): str(n.get("description", "")) for n in draft["support_system"]["needs_outside_work"]}
    values = {
        "purpose": str(draft["purpose"]),
        "purpose_reason": str(draft.get("purpose_reason") or ""),
        "hours_per_week": plain.number(float(draft["hours_per_week"]), "en", 1),
        "start_date": str(draft["start_date"]),
        "end_date": str(draft["end_date"]),
        "training": str(draft["workplace"]["training"]),
        "tutor_name": str(draft.get("tutor_name") or ""),
        "first_contact_days": str(draft["first_contact_days"]),
        "followup_interval_days": str(draft["followup_interval_days"]),
    }
    for area in Area:
        values[f"{OUTSIDE_PREFIX}{area.value}"] = outside.get(area.value, "")
    return values


def plan_changes(draft: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The fields the form changed (dotted names, as `POST /plans/{id}/revisions` takes them), and
    the values that could not be read."""
    changes: dict[str, Any] = {}
    problems: list[str] = []

    def number(name: str, kind: Callable[[str], float | int]) -> float | int | None:
        raw = form.get(name, "").strip().replace(",", ".")
        try:
            value = kind(raw)
        except ValueError:
            problems.append(f"{name}: must be a number, got {raw!r}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{name}: must be a finite number")
            return None
        return value

    if form.get("purpose", draft["purpose"]) != draft["purpose"]:
        changes["purpose"] = form["purpose"]
    reason = form.get("purpose_reason", "").strip()
    if reason != (draft.get("purpose_reason") or ""):
        changes["purpose_reason"] = reason
    hours = number("hours_per_week", float)
    if hours is not None and hours != float(draft["hours_per_week"]):
        changes["hours_per_week"] = hours
    for name in ("start_date", "end_date"):
        value = form.get(name, "").strip()
        if value != str(draft[name]):
            changes[name] = value
    training = form.get("training", "").strip()
    if training != draft["workplace"]["training"]:
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
    return changes, problems


def plan_page(
    page: Page,
    plan_id: int,
    status: int = 200,
    problems: list[str] | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    plan = plans.read_plan(plan_id, page.state, page.identity)
    draft = plan.draft
    lang = page.lang
    shortlist_id = None
    with session_scope(page.state.engine, readonly=True) as session:
        stored = get_plan(session, plan_id)
        shortlist_id = session.scalar(
            select(ShortlistItem.shortlist_id).where(ShortlistItem.id == stored["shortlist_item_id"])
        )
    values = plan_form_values(draft)
    if form is not None:
        values.update({k: v for k, v in form.items() if k in values})
    parties = {p: page.t(f"party_{p}") for p in ("person", "employer", "adviser")}
    adviser = page.identity.role == "adviser"
    if adviser:
        open_points, points_lang = list(draft["open_points"]), "en"  # the plan's own sentences
    else:  # the employer's side: what is theirs to settle, not the person's required supports
        open_points = [page.t("tutor_open_point")] if not draft.get("tutor_name") else []
        points_lang = HTML_LANG[lang]
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
        adaptations=[_need(s, page, adviser) for s in draft["workplace"]["adaptations"]],
        unmet=[_need(s, page, adviser) for s in draft["support_system"]["unmet_support_needs"]],
        open_points=open_points,
        points_lang=points_lang,
        training_tasks=[plain.task_text(str(t["task"]), lang) for t in draft["workplace"]["tasks_needing_training"]],
        occupation=page.state.pool.catalogue.title(str(draft["tasks"]["occupation_code"]), lang),
        schedule=[
            {"day": plain.day(dt.date.fromisoformat(f["due"]), lang), "with": page.t(f"party_{f['contact']}")}
            for f in draft["followups"]
        ],
        approvals=[
            page.t(
                "approved_by",
                party=parties[a["party"]],
                who=a["approved_by"],
                date=plain.day(a["approved_at"], lang),
            )
            for a in plan.approvals
        ],
        awaiting=", ".join(parties[p] for p in plan.awaiting),
        problems=problems or [],
    )


@router.get("/plans/{plan_id}")
def show_plan(request: Request, plan_id: Id) -> Response:
    return run(request, lambda page: plan_page(page, plan_id))


def _own_plan(page: Page, plan_id: int) -> dict[str, Any]:
    """The stored plan, for its adviser only (the same rule as the API: 404 unknown, 403 not yours)."""
    with session_scope(page.state.engine, readonly=True) as session:
        try:
            stored = get_plan(session, plan_id)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        candidate = session.get(Candidate, stored["candidate_id"])
        check_caseload(page.identity, candidate.adviser_id if candidate is not None else None)
        return stored


@router.post("/plans/{plan_id}/revisions")
def save_plan(request: Request, plan_id: Id, form: Form) -> Response:
    def act(page: Page) -> Response:
        stored = _own_plan(page, plan_id)
        if form.get("revision") != str(stored["revision"]):
            message = f"revision: the plan is now at revision {stored['revision']}; your changes were not saved"
            return plan_page(page, plan_id, 409, [message], form)
        changes, problems = plan_changes(stored["body"], form)
        if problems:
            return plan_page(page, plan_id, 422, problems, form)
        if not changes:
            return plan_page(page, plan_id, 200, [page.t("no_change")])
        body = api(page, lambda: plans.RevisionIn(changes=changes, note=form.get("note", "").strip()))
        try:
            plans.revise_plan(plan_id, body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            return plan_page(page, plan_id, 422, problems_of(error.detail), form)
        return redirect(f"/app/plans/{plan_id}?done=revision")

    return run(request, act, ("adviser",), form)


@router.post("/plans/{plan_id}/approvals")
def approve_plan(request: Request, plan_id: Id, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            revision = int(form.get("revision", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="revision: must be a whole number") from error
        if page.identity.role == "employer_contact":
            parties = ["employer"]
        else:
            parties = ["adviser"] + (["person"] if form.get("person_approved") == "yes" else [])
        for party in parties:
            fields = {"party": party, "revision": revision}
            body = api(page, partial(plans.ApprovalIn.model_validate, fields))
            try:
                plans.approve(plan_id, body, page.state, page.identity)
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                return plan_page(page, plan_id, 409, problems_of(error.detail))
        return redirect(f"/app/plans/{plan_id}?done=approval")

    return run(request, act, PAGE_ROLES, form)


# The employer contact's mirror page ----------------------------------------------------------------


def employer_workplaces(page: Page) -> list[dict[str, Any]]:
    pool = page.state.pool
    frame = pool.frame
    rows = frame.index[frame["employer_id"].astype(str) == str(page.identity.employer_id)]
    out = []
    for row in rows:
        position = frame.index.get_loc(row)
        code = str(frame.at[row, "occupation_code"])
        out.append(
            {
                "id": str(frame.at[row, "workplace_id"]),
                "title": pool.catalogue.title(code, page.lang),
                "open": bool(pool.is_open[position]),
            }
        )
    return sorted(out, key=lambda w: w["id"])


def workplace_plans(page: Page, workplace_id: str) -> list[dict[str, Any]]:
    with session_scope(page.state.engine, readonly=True) as session:
        workplace = session.get(Workplace, workplace_id)
        if workplace is None or workplace.employer_id != page.identity.employer_id:
            raise HTTPException(status_code=403, detail="this workplace is not your employer's")
        ids = session.scalars(
            select(InclusionPlan.id).where(InclusionPlan.workplace_id == workplace_id).order_by(InclusionPlan.id)
        ).all()
        found = []
        for plan_id in ids:
            stored = get_plan(session, plan_id)
            found.append(
                {
                    "id": plan_id,
                    "candidate_id": stored["candidate_id"],
                    "revision": stored["revision"],
                    "agreed": stored["agreed"],
                    "awaiting": ", ".join(page.t(f"party_{p}") for p in stored["awaiting"]),
                }
            )
    return found


def expected_success(page: Page, scores: list[float]) -> list[float | None]:
    """The calibrated chance of a hire of each score, by the model that scored them (the one this
    request took); None each for the rule score or a model without calibration."""
    ranker = page.state.scoring().model.ranker
    try:
        return [float(p) for p in ranker.expected_success(np.asarray(scores, dtype=np.float64))]
    except ModelMismatchError:  # no calibration: the bar compares within the list instead
        return [None] * len(scores)


@router.get("/employer")
def employer_page(request: Request) -> Response:
    def show(page: Page) -> Response:
        workplaces = employer_workplaces(page)
        chosen = request.query_params.get("workplace_id") or None
        try:
            top_k = int(request.query_params.get("top_k", DEFAULT_TOP_K * 2))
        except ValueError:
            top_k = DEFAULT_TOP_K * 2
        top_k = top_k if top_k in TOP_K_CHOICES else DEFAULT_TOP_K * 2
        result, problems, found_plans = None, [], []
        if chosen is not None:
            found_plans = workplace_plans(page, chosen)
            try:
                result = employer.workplace_candidates(
                    chosen, CandidatesRequest(top_k=top_k), page.state, page.identity
                )
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                problems = problems_of(error.detail)
        candidates = []
        if result is not None:
            scores = [i.score for i in result.items]
            bars = score_bars(scores, expected_success(page, scores), page)
            for item, (bar, score_text) in zip(result.items, bars, strict=True):
                x = item.explanation
                candidates.append(
                    {
                        "rank": item.rank,
                        "candidate_id": item.candidate_id,
                        "score_percent": bar,
                        "score_text": score_text,
                        "distance": page.t("km_from_home", km=_number(item.distance_km, page.lang, 1)),
                        "speaks_for": [r.sentence for r in x.speaks_for],
                        "speaks_against": [r.sentence for r in x.speaks_against],
                        "gives": [plain.support_text(s.support, page.lang) for s in x.supports_the_workplace_gives],
                        "elsewhere": [
                            plain.support_text(s.support, page.lang) for s in x.supports_to_arrange_elsewhere
                        ],
                        "train": [plain.task_text(t.task, page.lang) for t in x.tasks_to_train],
                    }
                )
        return render(
            request,
            "employer.html",
            page,
            status=409 if problems else 200,
            workplaces=workplaces,
            chosen=chosen,
            top_k=top_k,
            top_k_choices=TOP_K_CHOICES,
            eligible=result.eligible_candidates if result is not None else None,
            candidates=candidates,
            plans=found_plans,
            problems=problems,
        )

    return run(request, show, ("employer_contact",))


def all_labels_complete() -> list[str]:
    """Labels missing a language (for the tests): empty when every label has both."""
    return [key for key, texts in LABELS.items() if set(texts) != set(HTML_LANG)]
