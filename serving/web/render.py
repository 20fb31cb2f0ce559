"""The page's common room: templates and rendering, the plain form reader, the logged-in `Page`,
the request runner (login, role and CSRF checks, API errors as error pages), and the score bars and
wordings that more than one page shows."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from matching import plain
from matching.plain import Lang
from matching.plain.adviser import wish_sentence
from serving.auth import Identity
from serving.state import ServiceState
from serving.web import session as web_session
from serving.web.i18n import HTML_LANG, label, lang_or_default
from serving.web.messages import Problem, page_problems

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
PAGE_ROLES = ("adviser", "employer")
LOGIN_ROLES = (*PAGE_ROLES, "job_specialist")  # the job specialist has a page of their own
TOP_K_CHOICES = (3, 5, 10, 20)
DEFAULT_TOP_K = 5
MAX_FORM_BYTES = 64 * 1024
DONE_MESSAGES = {
    "decision": "saved_decision",
    "revision": "saved_revision",
    "approval": "saved_approval",
    "followup": "saved_followup",
    "answer": "saved_answer",
    "presentation": "saved_presentation",
    "event": "saved_event",
    "assessment": "saved_assessment",
    "profile": "saved_profile",
    "unchanged": "nothing_changed",
    "occupations": "saved_occupations",
    "created": "saved_person",
    "workplace": "saved_workplace",
    "workplace_created": "created_workplace",
}
LOCAL_TIME = "Europe/Oslo"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # the pages show personal data: never cached
}


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
        """The service's state (brought up to the store's change log once per page request)."""
        state: ServiceState = self.request.app.state.service
        if not getattr(self.request.state, "refreshed", False):
            state.refresh()
            self.request.state.refreshed = True
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


def problems_of(detail: Any, lang: Lang = "en", status: int | None = None) -> list[str]:
    """An API error's detail as the page's lines in `lang` (`serving.web.messages`)."""
    return page_problems(detail, lang, status)


def error_page(request: Request, page: Page | None, status: int, detail: Any) -> HTMLResponse:
    lang = page.lang if page is not None else request_lang(request)
    heading = {403: "forbidden", 404: "not_found"}.get(status, "error")
    return render(
        request,
        "error.html",
        page,
        status=status,
        heading=label(heading, lang),
        problems=problems_of(detail, lang, status),
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
        return error_page(request, page, 403, Problem(page.t("csrf_failed")))
    if identity.role not in roles:
        return error_page(request, page, 403, Problem(page.t("wrong_role")))
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


# Wordings and score bars shared by the pages ---------------------------------------------------------


def number_text(value: float, lang: Lang, digits: int = 2) -> str:
    return plain.number(value, lang, digits)


def date_text(when: dt.datetime | dt.date | str, lang: Lang) -> str:
    """A date as the page shows it: dd.mm.yyyy in Norwegian, "27 November 2026" in English; a
    moment is taken on Norway's calendar (a trial started just after midnight is that day's)."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        try:
            when = when.astimezone(zoneinfo.ZoneInfo(LOCAL_TIME))
        except zoneinfo.ZoneInfoNotFoundError:  # no time zone data: the day in UTC
            pass
        when = when.date()
    return when.strftime("%d.%m.%Y") if lang == "no" else plain.day(when, lang)


def need_text(need: Mapping[str, Any], page: Page, with_level: bool = True) -> str:
    """A support need in words; with whether it is required or helps (never on the employer's side,
    which is told which adaptations to give, not how strong a need is)."""
    text = plain.support_text(str(need.get("support", "")), page.lang, for_staff=True)
    if not with_level:
        return text
    return f"{text} ({page.t('need_required' if need.get('need') == 'required' else 'need_helps')})"


def unmet_need_text(need: Mapping[str, Any], page: Page) -> str:
    """A need the workplace does not meet, with what the support system can do about it (arrange
    it, through which scheme; a required one before the trial starts)."""
    text = need_text(need, page)
    if need.get("arranged_by") != "support_system":
        return text
    support = str(need.get("support", ""))
    scheme = page.state.pool.catalogue.vocabulary.scheme(support, page.lang)
    return f"{text}: {plain.arranged_text(need.get('need') == 'required', scheme, page.lang)}"


def option_texts(item: Mapping[str, Any], page: Page) -> list[str]:
    """The suggestion's support options (`support_options`) in the page's words, best first."""
    return [
        plain.option_text(
            str(o["support"]), float(o["expected_success"]), float(o["expected_success_if_arranged"]), page.lang
        )
        for o in item.get("support_options") or []
    ]


def wish_text(explanation: Mapping[str, Any], page: Page) -> str | None:
    """The adviser's sentence when the suggestion is like one of the person's wishes
    (`Explanation.similar_to_wish`), with the wish's title in the page's language; else None."""
    similar = explanation.get("similar_to_wish")
    if not isinstance(similar, Mapping) or not similar.get("code"):
        return None
    code = str(similar["code"])
    title = page.state.pool.catalogue.title(code, page.lang)
    return wish_sentence(title if title != code else str(similar.get("title") or code), page.lang)


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
            text = page.t("chance_text", chance=shown, score=number_text(score, page.lang), rank=rank, count=count)
            out.append((bar_step(float(chance)), text))
        return out
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    return [
        (
            bar_step((score - low) / (high - low) if high > low else 1.0),
            page.t("score_relative", score=number_text(score, page.lang), rank=rank, count=count),
        )
        for rank, score in enumerate(scores, start=1)
    ]
