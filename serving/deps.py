"""The FastAPI dependencies on the service's state: `State` (the dataset, its indexes and the
store: `serving.state.ServiceState`), `Models` (the model in service:
`serving.model_service.ModelService`) and `Checked` (the state, and why the database did not
answer, for `/health`, which answers while the database is away)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from matching.store.db import reason, unavailable
from serving.model_service import ModelService
from serving.state import ServiceState


async def get_state(request: Request) -> ServiceState:
    """The service's state, its persons and workplaces brought up to the store's change log: on
    the event loop when nothing changed (`ServiceState.current_at_once`), else in a worker thread."""
    state: ServiceState = request.app.state.service
    if not state.current_at_once():
        await run_in_threadpool(state.refresh)
    return state


async def get_models(request: Request) -> ModelService:
    return (await get_state(request)).models


async def checked_state(request: Request) -> tuple[ServiceState, str | None]:
    """The state brought up to the store's change log when the database answers; else the state
    as last read, and why the database did not answer."""
    state: ServiceState = request.app.state.service
    try:
        if not state.current_at_once():
            await run_in_threadpool(state.refresh)
    except Exception as error:
        if not unavailable(error):
            raise
        return state, reason(error)
    return state, None


State = Annotated[ServiceState, Depends(get_state)]
Models = Annotated[ModelService, Depends(get_models)]
Checked = Annotated[tuple[ServiceState, str | None], Depends(checked_state)]
