"""The FastAPI app factory: loads the dataset and the champion at startup."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from matching.settings import Settings, get_settings
from matching.store.db import limit_waits
from serving import limits, observability, outage, ratelimit, turns
from serving.api import ROUTERS
from serving.auth import load_keys
from serving.heap import Heap
from serving.state import ServiceState
from serving.web import STATIC_DIR
from serving.web import router as web_router

log = logging.getLogger("jobmatch.serving")

DESCRIPTION = """Ranked, explained shortlists of ordinary workplaces for job seekers with extensive
support needs. The model suggests; the adviser decides. Every response names the model version."""


def create_app(
    settings: Settings | None = None, state: ServiceState | None = None, heap: Heap | None = None
) -> FastAPI:
    """Build the app. The dataset and model load at startup (or come ready-made as `state`).
    With `heap` (a served worker: the process is the app's alone), what the startup loaded is
    frozen out of the garbage collector's passes (`serving.heap`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # JSON logs: set here, after uvicorn has configured its own loggers, so its lines are JSON too
        observability.configure_logging((settings or (state.settings if state else get_settings())).log_level)
        service = state or ServiceState.load(settings or get_settings())
        # a request meets an absent or stuck database with a 503 in seconds, never a hang
        limit_waits(
            service.engine,
            service.settings.database_connect_timeout_seconds,
            service.settings.database_statement_timeout_seconds,
        )
        app.state.service = service
        app.state.api_keys = load_keys(service.settings.api_keys_file)
        service.models.start_polling()
        if heap is not None:
            service.heap = heap
            heap.settle(service.served, service.models.model)
        try:
            yield
        finally:
            service.models.stop_polling()
            service.engine.dispose()

    app = FastAPI(title="jobmatch", version="1", description=DESCRIPTION, lifespan=lifespan)
    turns.install(app)  # SQLite: a worker's writes a few at a time, the rest waiting their turn
    limits.install(app)  # 413 for a body over max_body_bytes (inside the request log, so it is logged)
    ratelimit.document(app)  # 429 beside every 401: too many refused keys from one address
    app.add_middleware(observability.RequestLogMiddleware)  # request id, one JSON line and metrics per request

    outage.install(app)  # 503 with "nothing was saved" while the database is away

    for r in ROUTERS:
        app.include_router(r)
    app.include_router(web_router)  # the adviser's and employer's page, /app
    app.mount("/app/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    return app
