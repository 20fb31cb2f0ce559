"""What the service answers while its database is away (stopped, restarting, unreachable, stuck).

A request that needs the database then gets 503 with `Retry-After` within the waits the service
allows (`database_connect_timeout_seconds`, `database_statement_timeout_seconds`; see
`matching.store.db.limit_waits`), never a hang. The message is in Norwegian, or in English with
`?lang=en` or the page's language cookie, as the page's own messages are; a write is told that
nothing was saved (its transaction did not commit), a read that it cannot be shown now. A page
under `/app` gets the same words as an error page. The routes need no change: SQLAlchemy's errors
for a refused or lost connection, a timeout or an exhausted pool reach the handler `install`s.

As soon as the database answers again, so does the service: the engine checks pooled connections
before use and drops the pool at the first disconnect, so no restart is needed.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from matching.plain import Lang
from matching.settings import Settings
from matching.store.db import reason
from matching.store.errors import DatabaseUnavailableError
from serving.web.messages import Problem
from serving.web.render import error_page, request_lang

log = logging.getLogger("jobmatch.serving")

RETRY_AFTER_SECONDS = 2
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    DatabaseUnavailableError,
)
TEXTS: dict[str, dict[Lang, str]] = {
    "write": {
        "no": "Databasen svarte ikke, så ingenting ble lagret. Prøv igjen om litt.",
        "en": "The database did not answer, so nothing was saved. Try again shortly.",
    },
    "read": {
        "no": "Databasen svarte ikke, så dette kan ikke vises nå. Prøv igjen om litt.",
        "en": "The database did not answer, so this cannot be shown now. Try again shortly.",
    },
    "waits": {
        "no": "Tjenesten venter høyst {connect} s på kontakt med databasen og {statement} s på hver spørring.",
        "en": "The service waits at most {connect} s to reach the database and {statement} s for each query.",
    },
}


def seconds(value: float, lang: Lang) -> str:
    """A number of seconds as the language writes it: 3, 2.5 or 2,5."""
    written = f"{value:g}"
    return written.replace(".", ",") if lang == "no" else written


def message(lang: Lang, write: bool, settings: Settings | None = None) -> str:
    """What a request that needed the database is told: nothing saved (a write) or nothing to
    show (a read), and, with `settings` (PostgreSQL), how long the service waits at most."""
    text = TEXTS["write" if write else "read"][lang]
    if settings is None:
        return text
    waits = TEXTS["waits"][lang].format(
        connect=seconds(settings.database_connect_timeout_seconds, lang),
        statement=seconds(settings.database_statement_timeout_seconds, lang),
    )
    return f"{text} {waits}"


def install(app: FastAPI) -> None:
    """Answer the database's absence with 503 and the message, for every route."""

    async def database_away(request: Request, error: Exception) -> Response:
        return answer(request, error)

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, database_away)


def answer(request: Request, error: Exception) -> Response:
    """The 503 for `request`, whose database work failed with `error` (logged by type and the
    driver's first line: no SQL, no values, no raw path)."""
    route = getattr(request.scope.get("route"), "path", "?")
    log.warning("database unavailable on %s %s: %s: %s", request.method, route, type(error).__name__, reason(error))
    service = getattr(request.app.state, "service", None)
    limited = service.settings if service is not None and service.engine.dialect.name == "postgresql" else None
    lang = request_lang(request)
    text = message(lang, request.method not in READ_METHODS, limited)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.url.path.startswith("/app"):
        page = error_page(request, None, 503, Problem(text))
        page.headers.update(headers)
        return page
    return JSONResponse(status_code=503, content={"detail": text}, headers=headers)
