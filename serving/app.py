"""The FastAPI app factory: loads the dataset and the champion at startup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from matching.settings import Settings, get_settings
from serving import plans, review
from serving.auth import load_keys
from serving.deps import ServiceState
from serving.routes import router

DESCRIPTION = """Ranked, explained shortlists of ordinary workplaces for job seekers with extensive
support needs. The model suggests; the adviser decides. Every response names the model version."""


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    """Build the app. The dataset and model load at startup (or come ready-made as `state`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = state or ServiceState.load(settings or get_settings())
        app.state.service = service
        app.state.api_keys = load_keys(service.settings.api_keys_file)
        try:
            yield
        finally:
            service.engine.dispose()

    app = FastAPI(title="jobmatch", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.include_router(router)
    app.include_router(review.router)
    app.include_router(plans.router)
    return app
