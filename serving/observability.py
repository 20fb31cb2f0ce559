"""What the API tells its operators: structured JSON logs, one line per request, and Prometheus
metrics at `GET /metrics`.

Logs. Every line is one JSON object (python-json-logger) with `time`, `level`, `logger`,
`message` and `request_id` (the request's `X-Request-ID`, or one made here and returned in the
response's `X-Request-ID` header; null outside requests). Every response also names the worker
process that answered in `X-Worker` (its process id: `jobmatch serve --workers N` runs several).
The request line (logger `jobmatch.requests`) adds `method`, `route` (the route template, e.g.
`/shortlists/{shortlist_id}/decisions`), `status`, `duration_ms`, and the `model_version` and
`scored_by` ("model" or "rule") that served the request. Nothing else about a request is logged:
no bodies, no query strings, no raw paths, no candidate fields. Uvicorn's access log (client
address, raw path and query) is replaced by the request line; SQLAlchemy's loggers but the pool's
(SQL parameters, result rows, mapped personal columns) are held at WARNING whatever level is
asked for; an unhandled error is logged by its type and stack only, as exception messages can quote
record values. The level of the `jobmatch.*` loggers is `JOBMATCH_LOG_LEVEL` (default INFO).

Metrics (text exposition, unauthenticated like /health: counts and versions, no personal data):
`jobmatch_http_requests_total` and `jobmatch_http_request_duration_seconds` by method, route
template and status; `jobmatch_model_info` (the model loaded: name, version, run); `jobmatch_scoring_mode`
(1 for the mode in use: model or rule); `jobmatch_shortlist_size` and `jobmatch_served_score` (and
`jobmatch_served_expected_success`) of served shortlists, by side and scorer;
`jobmatch_model_reloads_total` by outcome (loaded, refused) and trigger (api, poll).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("jobmatch.serving")
request_log = logging.getLogger("jobmatch.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_HANDLER_MARK = "_jobmatch_json_handler"
# loggers whose records below WARNING carry stored records (SQL parameters, result rows), held at
# WARNING even before SQLAlchemy has made them
RECORD_CARRYING_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.orm.path_registry", "sqlalchemy.orm.loading")


# Request context ---------------------------------------------------------------------------------


@dataclass
class RequestContext:
    """One request as the logs and the scoring see it. `scoring` is the model (or rule) snapshot
    the request scores with, taken once (`serving.model_service.ModelService.scoring`)."""

    request_id: str
    model_version: str | None = None
    scored_by: str | None = None
    scoring: Any = None


_current: ContextVar[RequestContext | None] = ContextVar("jobmatch_request", default=None)


def current_request() -> RequestContext | None:
    """The request being served in this context (None outside requests)."""
    return _current.get()


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The caller's `X-Request-ID` when it is a short token of safe characters, else a new one
    (a header is never logged as sent: it could carry anything)."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SAFE_REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


# Logging -------------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Gives every record the `request_id` of the request it was logged in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = _current.get()
            record.request_id = context.request_id if context is not None else None
        return True


class BelowWarningDropped(logging.Filter):
    """Drops a logger's records below WARNING, whatever level the logger is set to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler assigns it; the live sys.stderr wins
        pass


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def guard_personal_data() -> None:
    """Keep the store's records out of any log, whatever level a logger is set to: SQLAlchemy's
    engine logs SQL parameters and result rows at INFO and DEBUG, its ORM logs the mapped
    columns (the personal fields' names) and instance state at DEBUG. Every SQLAlchemy logger but
    the connection pool's is held at WARNING by a filter on the logger itself."""
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if (name == "sqlalchemy" or name.startswith("sqlalchemy.")) and not name.startswith("sqlalchemy.pool")
    ]
    for name in {*names, *RECORD_CARRYING_LOGGERS}:
        logger = logging.getLogger(name)
        if not any(isinstance(f, BelowWarningDropped) for f in logger.filters):
            logger.addFilter(BelowWarningDropped())
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.orm").setLevel(logging.WARNING)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the service (idempotent; handlers others added are left alone).

    One JSON handler on the root logger, so the service's own lines, uvicorn's and any library's
    warnings come out alike; `jobmatch.*` at `level`; uvicorn's access log off (the request line
    replaces it); SQLAlchemy's record-carrying logger muted below WARNING.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    logging.getLogger("jobmatch").setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
    guard_personal_data()


# Metrics -----------------------------------------------------------------------------------------

SCORE_BUCKETS = (-4.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
PROBABILITY_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SIZE_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per service state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "jobmatch_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "jobmatch_http_request_duration_seconds",
            "HTTP request latency by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.model = Info("jobmatch_model", "the model loaded for scoring (empty when none is)", registry=r)
        self.scoring_mode = Gauge(
            "jobmatch_scoring_mode",
            "1 for the scoring in use: the model, or the rule score (model off)",
            ["mode"],
            registry=r,
        )
        self.shortlist_size = Histogram(
            "jobmatch_shortlist_size",
            "items per served shortlist (side: candidate = a person's workplaces, workplace = an opening's persons)",
            ["side", "scored_by"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.scores = Histogram(
            "jobmatch_served_score",
            "ranking scores of served items",
            ["side", "scored_by"],
            buckets=SCORE_BUCKETS,
            registry=r,
        )
        self.expected_success = Histogram(
            "jobmatch_served_expected_success",
            "calibrated P(hired) of served items (model scoring only)",
            buckets=PROBABILITY_BUCKETS,
            registry=r,
        )
        self.reloads = Counter(
            "jobmatch_model_reloads",
            "model reloads by outcome (loaded, refused) and trigger (api, poll)",
            ["outcome", "trigger"],
            registry=r,
        )
        self.frozen = Gauge(
            "jobmatch_gc_frozen_objects",
            "objects this process has frozen out of the garbage collector's passes (serving.heap)",
            registry=r,
        )
        self.frozen.set_function(gc.get_freeze_count)
        for mode in ("model", "rule"):
            self.scoring_mode.labels(mode).set(0)
        for outcome in ("loaded", "refused"):  # counted from 0, so rates and alerts see the first one
            for trigger in ("api", "poll"):
                self.reloads.labels(outcome, trigger)
        self.model.info({"name": "", "version": "", "run_id": ""})

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def observe_shortlist(self, side: str, scored_by: str, items: Iterable[Mapping[str, Any]]) -> None:
        items = list(items)
        self.shortlist_size.labels(side, scored_by).observe(len(items))
        scores = self.scores.labels(side, scored_by)
        for item in items:
            scores.observe(float(item["score"]))
            if item.get("expected_success") is not None:
                self.expected_success.observe(float(item["expected_success"]))

    def set_model(self, name: str | None, version: str | None, run_id: str | None) -> None:
        self.model.info({"name": name or "", "version": version or "", "run_id": run_id or ""})

    def set_scoring_mode(self, mode: str) -> None:
        for each in ("model", "rule"):
            self.scoring_mode.labels(each).set(1 if each == mode else 0)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition"}},
    summary="Prometheus metrics (unauthenticated, like /health: counts and versions only)",
)
def metrics(request: Request) -> Response:
    service = getattr(request.app.state, "service", None)
    body = service.metrics.exposition() if service is not None else b""
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


# The request middleware ----------------------------------------------------------------------------


def scope_service(scope: Scope) -> Any:
    """The running service (`ServiceState`) of the app answering `scope`, or None before it has
    started."""
    return getattr(getattr(scope.get("app"), "state", None), "service", None)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (e.g. `/plans/{plan_id}`), `unmatched` for none.

    FastAPI leaves the route it chose in the scope (with an included router's prefix in its
    effective route context); otherwise the app's routes are matched again."""
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    for chosen in (effective, scope.get("route")):
        path = getattr(chosen, "path", None)
        if isinstance(path, str) and path:
            return path
    router_ = getattr(scope.get("app"), "router", None)
    partial = None
    for route in getattr(router_, "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
        if match == Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", "unmatched"))
    return partial or "unmatched"


class RequestLogMiddleware:
    """One JSON line and the request metrics per HTTP request; the request id in and out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id_from(scope.get("headers", [])))
        token = _current.set(context)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                headers = [
                    *message.get("headers", []),
                    (b"x-request-id", context.request_id.encode()),
                    (b"x-worker", str(os.getpid()).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:  # noqa: BLE001  (answered here: the message may quote record values)
            log.error(
                "unhandled %s",
                type(error).__name__,
                extra={"error_type": type(error).__name__, "stack": "".join(traceback.format_tb(error.__traceback__))},
            )
            if not response_started:
                body = json.dumps({"detail": f"internal error; quote request id {context.request_id}"}).encode()
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_with_id({"type": "http.response.body", "body": body})
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            service = scope_service(scope)
            if context.model_version is None and service is not None:
                context.model_version, context.scored_by = service.models.in_service()
            request_log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %d",
                scope.get("method", ""),
                route,
                status,
                extra={
                    "method": scope.get("method", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "model_version": context.model_version,
                    "scored_by": context.scored_by,
                },
            )
            if service is not None:
                service.metrics.observe_request(str(scope.get("method", "")), route, status, seconds)
            _current.reset(token)
