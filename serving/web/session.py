"""Logging in to the page: a cookie session over the API keys, with a CSRF token per session.

The login form takes an API key; the key is checked against the same key file as every API call
(`serving.auth`: only SHA-256 hashes), and the browser gets a random session id in a cookie that
is HttpOnly and SameSite=Strict, and Secure when the service is behind HTTPS (`behind_https`,
`JOBMATCH_BEHIND_HTTPS=true`: a TLS-terminating proxy in front, so the app itself sees http) or
the request came over https; off by default, for local http on the loopback address. The server
keeps, per session, the key's hash (so a key revoked from the key file, or expired, ends its
sessions at the next request too), a CSRF token and an expiry; sessions live in the app's memory,
so a restart logs everyone out. The JSON API does not accept the cookie:
it keeps taking the key in a header only, so no browser can be made to call it with a session.

CSRF: besides SameSite=Strict (the browser sends no session cookie with a request started by
another site), every form carries the session's token, compared in constant time. The login form
itself carries a token bound to a short-lived pre-login cookie (double submit), so another site
cannot log a browser in under its own key.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from matching.clock import utc_now
from serving.auth import Identity, key_hash, known_keys

SESSION_COOKIE = "jobmatch_session"
LOGIN_COOKIE = "jobmatch_login"
COOKIE_PATH = "/app"
SESSION_HOURS = 8
LOGIN_FORM_MINUTES = 30
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class WebSession:
    """One logged-in browser: whose key, the form token, and when it ends."""

    key_sha256: str
    csrf: str
    expires: dt.datetime


class Sessions:
    """The app's page sessions (in memory, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, WebSession] = {}

    def open(self, key_sha256: str) -> tuple[str, WebSession]:
        now = utc_now()
        session = WebSession(key_sha256, secrets.token_urlsafe(32), now + dt.timedelta(hours=SESSION_HOURS))
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._by_id = {k: v for k, v in self._by_id.items() if v.expires > now}
            if len(self._by_id) >= MAX_SESSIONS:  # the oldest go first
                for old in sorted(self._by_id, key=lambda k: self._by_id[k].expires)[: len(self._by_id) // 10 + 1]:
                    del self._by_id[old]
            self._by_id[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> WebSession | None:
        if not session_id:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
            if session is not None and session.expires <= utc_now():
                del self._by_id[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._by_id.pop(session_id, None)


_init_lock = threading.Lock()


def sessions_of(request: Request) -> Sessions:
    """The app's session store (made on first use)."""
    state: Any = request.app.state
    with _init_lock:
        store: Sessions | None = getattr(state, "web_sessions", None)
        if store is None:
            store = Sessions()
            state.web_sessions = store
    return store


def identity_for_key(request: Request, key: str) -> Identity | None:
    """The identity behind an API key (expired or not): the same lookup as
    `serving.auth.current_identity`."""
    return known_keys(request).get(key_hash(key)) if key else None


def current(request: Request) -> tuple[Identity, WebSession] | None:
    """The logged-in identity and its session, or None (no cookie, the session ended, or its key
    was revoked or has expired)."""
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    identity = known_keys(request).get(session.key_sha256)
    return (identity, session) if identity is not None and not identity.expired() else None


def _secure(request: Request) -> bool:
    """Cookies are Secure behind HTTPS (the `behind_https` setting) or on a request that came over https."""
    settings = getattr(getattr(request.app.state, "service", None), "settings", None)
    return bool(getattr(settings, "behind_https", False)) or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_HOURS * 3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request))


def login_token(request: Request) -> str:
    """The login form's token: the pre-login cookie's while it lasts, else a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    """Bind the login form's token to the browser (double submit)."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_FORM_MINUTES * 60,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing side never matches."""
    return bool(expected) and bool(given) and secrets.compare_digest(str(expected), str(given))
