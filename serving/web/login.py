"""Logging in to the page and out of it: the login form (with its pre-login CSRF token), the
audited login that opens a cookie session for an adviser or an employer, and the logout.
The sessions themselves live in `serving.web.session`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from matching.store.audit import record_audit
from matching.store.db import session_scope
from serving.auth import key_hash
from serving.state import ServiceState
from serving.web import session as web_session
from serving.web.i18n import label
from serving.web.render import LOGIN_ROLES, Form, error_page, redirect, render, request_lang

router = APIRouter()


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
