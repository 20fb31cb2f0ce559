"""The service's loaded state (dataset, workplace and candidate indexes, model, store, live
suggestions per workplace) and its FastAPI dependencies."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.congestion import Congestion
from matching.datasets import load_dataset
from matching.settings import Settings
from matching.shortlist import Matcher
from matching.store.contract import load_dataset_into
from matching.store.db import make_engine
from matching.store.schema import upgrade
from serving.loading import LoadedModel, ModelLoadError, load_ranker

log = logging.getLogger("jobmatch.serving")


@dataclass
class ServiceState:
    """What the API serves: one dataset and the model loaded at startup."""

    settings: Settings
    candidates: CandidateTable
    pool: WorkplacePool
    engine: Engine
    model: LoadedModel | None = None
    error: str | None = None
    positions: dict[str, int] = field(default_factory=dict)
    workplace_positions: dict[str, int] = field(init=False)
    candidate_pool: CandidatePool = field(init=False)
    congestion: Congestion = field(init=False)

    def __post_init__(self) -> None:
        self.workplace_positions = self.pool.positions()
        self.candidate_pool = CandidatePool(self.candidates)
        self.congestion = Congestion(self.settings.suggestions_per_slot, self.settings.congestion_window_days)

    @classmethod
    def load(cls, settings: Settings) -> ServiceState:
        dataset = load_dataset(settings.data_dir)
        candidates = CandidateTable.build(dataset.candidates)
        engine = make_engine(settings.database_url)
        # the store keeps the records behind every shortlist and decision: bring it to the newest
        # schema and make sure it holds the served candidates and workplaces (idempotent)
        upgrade(str(engine.url.render_as_string(hide_password=False)))
        report = load_dataset_into(engine, dataset)
        log.info("store ready: %s", "; ".join(report.lines()))
        pool = WorkplacePool(dataset.workplaces)
        state = cls(settings, candidates, pool, engine, positions=candidates.positions())
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
