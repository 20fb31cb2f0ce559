"""The service's loaded state (dataset, workplace index, model) and its FastAPI dependencies."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from matching.candidates import CandidateTable, WorkplacePool
from matching.datasets import load_dataset
from matching.settings import Settings
from matching.shortlist import Matcher
from serving.loading import LoadedModel, ModelLoadError, load_ranker

log = logging.getLogger("jobmatch.serving")


@dataclass
class ServiceState:
    """What the API serves: one dataset and the model loaded at startup."""

    settings: Settings
    candidates: CandidateTable
    pool: WorkplacePool
    model: LoadedModel | None = None
    error: str | None = None
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> ServiceState:
        dataset = load_dataset(settings.data_dir)
        candidates = CandidateTable.build(dataset.candidates)
        state = cls(settings, candidates, WorkplacePool(dataset.workplaces), positions=candidates.positions())
        try:
            state.model = load_ranker(settings.model_uri, settings.tracking_uri)
            log.info("model %s version %s loaded", state.model.name, state.model.version)
        except ModelLoadError as error:
            state.error = str(error)
            log.error("no model is serving: %s", error)
        return state

    def matcher(self) -> Matcher:
        if self.model is None:
            raise HTTPException(status_code=503, detail=f"no model is loaded: {self.error}")
        return Matcher(self.model.ranker, self.candidates, self.pool, self.settings.exclude_unmet_required)


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(get_state)]
