"""Logging in to the page and out of it: the login form (with its pre-login CSRF token), the
audited login that opens a cookie session for an adviser or an employer, and the logout.
The sessions themselves live in `serving.web.session`.

A key the key file does not hold counts as a refused key for the browser's address, together with
the API's (`serving.ratelimit`); after too many, the form answers 429 with `Retry-After` and says
when to try again, without checking the key. An expired key is told it expired (not counted).
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import Response

from matching.plain import Lang
from matching.store.audit import record_audit
from matching.store.db import session_scope
from serving.auth import Identity, key_hash
from serving.ratelimit import client_address, limiter_of
from serving.state import ServiceState
from serving.web import session as web_session
from serving.web.i18n import label
from serving.web.render import LOGIN_ROLES, Form, error_page, redirect, render, request_lang

router = APIRouter()

# the login's own refusals (both languages here, beside the code that gives them)
LOGIN_TEXTS: dict[str, dict[Lang, str]] = {
    "too_many_failures": {
        "no": "For mange ukjente nøkler fra denne adressen. Prøv igjen om {wait}.",
        "en": "Too many unknown keys from this address. Try again in {wait}.",
    },
    "key_expired": {
        "no": "Nøkkelen din gikk ut {date}. Be om en ny nøkkel.",
        "en": "Your key expired on {date}. Ask for a new key.",
    },
}


def wait_text(seconds: int, lang: Lang) -> str:
    """`seconds` as the page says it: seconds under two minutes, else whole minutes (rounded up)."""
    if seconds < 120:
        unit = {"no": ("sekund", "sekunder"), "en": ("second", "seconds")}[lang]
        return f"{seconds} {unit[seconds != 1]}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} {({'no': 'minutter', 'en': 'minutes'})[lang]}"


def expired_text(identity: Identity, lang: Lang) -> str:
    when = identity.expires.strftime("%d.%m.%Y" if lang == "no" else "%Y-%m-%d") if identity.expires else ""
    return LOGIN_TEXTS["key_expired"][lang].format(date=when)


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
    limiter, address = limiter_of(request), client_address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        refused = login_page(request, 429, LOGIN_TEXTS["too_many_failures"][lang].format(wait=wait_text(wait, lang)))
        refused.headers["Retry-After"] = str(wait)
        return refused
    key = form.get("api_key", "").strip()
    identity = web_session.identity_for_key(request, key)
    if identity is None:
        if key:
            limiter.failed(address)
        return login_page(request, 401, label("login_failed", lang))
    if identity.expired():
        return login_page(request, 401, expired_text(identity, lang))
    if identity.role not in LOGIN_ROLES:
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
