"""The FastAPI dependencies on the service's state: `State` (the dataset, its indexes and the
store: `serving.state.ServiceState`) and `Models` (the model in service:
`serving.model_service.ModelService`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serving.model_service import ModelService
from serving.state import ServiceState


def get_state(request: Request) -> ServiceState:
    """The service's state, its persons and workplaces brought up to the store's change log."""
    state: ServiceState = request.app.state.service
    state.refresh()
    return state


def get_models(request: Request) -> ModelService:
    return get_state(request).models


State = Annotated[ServiceState, Depends(get_state)]
Models = Annotated[ModelService, Depends(get_models)]
