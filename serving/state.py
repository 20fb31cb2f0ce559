"""The service's state: its settings and store, the dataset it serves with the indexes built on it
(candidate table and positions, workplace pool and positions, the employer side's candidate
pool, live suggestions per workplace), and `models`, the model in service
(`serving.model_service.ModelService`: reload, switch, polling).

`ServiceState.load` reads the dataset, brings the store to the newest schema, loads the dataset
into it (erased persons are left out) and starts the model. `forget` stops serving an erased
person. `scoring()`, `matcher()` and `model` are what a request scores with (see `models`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.congestion import Congestion
from matching.datasets import load_dataset
from matching.settings import Settings
from matching.shortlist import Matcher
from matching.store.contract import load_dataset_into
from matching.store.db import make_engine
from matching.store.schema import upgrade
from serving.loading import LoadedModel
from serving.model_service import ModelService
from serving.observability import Metrics
from serving.scoring import Scoring

log = logging.getLogger("jobmatch.serving")


@dataclass
class ServiceState:
    """What the API serves: one dataset and its indexes, the store, and the model in service."""

    settings: Settings
    candidates: CandidateTable
    pool: WorkplacePool
    engine: Engine
    positions: dict[str, int] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    workplace_positions: dict[str, int] = field(init=False)
    candidate_pool: CandidatePool = field(init=False)
    congestion: Congestion = field(init=False)
    models: ModelService = field(init=False)

    def __post_init__(self) -> None:
        self.workplace_positions = self.pool.positions()
        self.candidate_pool = CandidatePool(self.candidates)
        self.congestion = Congestion(self.settings.suggestions_per_slot, self.settings.congestion_window_days)
        self.models = ModelService(self.settings, self.engine, self.candidates, self.pool, self.metrics)

    @classmethod
    def load(cls, settings: Settings) -> ServiceState:
        dataset = load_dataset(settings.data_dir)
        engine = make_engine(settings.database_url)
        # the store keeps the records behind every shortlist and decision: bring it to the newest
        # schema and make sure it holds the served candidates and workplaces (idempotent)
        upgrade(str(engine.url.render_as_string(hide_password=False)))
        report = load_dataset_into(engine, dataset, settings.pseudonym_secret())
        log.info("store ready: %s", "; ".join(report.lines()))
        if report.erased_ids:  # erased persons are not served, whatever the dataset file still holds
            keep = ~dataset.candidates["candidate_id"].astype(str).isin(report.erased_ids)
            dataset.candidates = dataset.candidates.loc[keep].reset_index(drop=True)
            log.info("%d erased persons in the dataset file are not served", len(report.erased_ids))
        candidates = CandidateTable.build(dataset.candidates)
        pool = WorkplacePool(dataset.workplaces)
        state = cls(settings, candidates, pool, engine, positions=candidates.positions())
        state.models.start()
        return state

    # What a request scores with (the model in service decides) -----------------------------------

    @property
    def model(self) -> LoadedModel | None:
        """Inside a request that has taken its scoring: the model (or rule) it scores with.
        Elsewhere: the model loaded (which may be switched off)."""
        return self.models.model

    def scoring(self) -> Scoring:
        """The model (or the rule) this request scores with, the same for all of it; 503 when
        neither can score."""
        return self.models.scoring()

    def matcher(self) -> Matcher:
        return self.models.scoring().matcher

    # Erasure ---------------------------------------------------------------------------------------

    def forget(self, candidate_id: str) -> bool:
        """Stop serving an erased person: no shortlist by id (`positions`), and not eligible on the
        employer's side (`candidate_pool` rebuilt without them). Their row stays in the in-memory
        table until restart, unreachable. Returns whether they were being served."""
        row = self.positions.pop(candidate_id, None)
        if row is None:
            return False
        frame = self.candidates.frame
        frame.loc[row, ["consent", "active"]] = False
        self.candidate_pool = CandidatePool(self.candidates)
        return True
