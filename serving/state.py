"""The service's state: its settings and store, the dataset it serves with the indexes built on it
(candidate table and positions, workplace pool and positions, the employer side's candidate
pool, live suggestions per workplace), and `models`, the model in service
(`serving.model_service.ModelService`: reload, switch, polling).

The store is the record. `ServiceState.load` brings the store to the newest schema, imports the
dataset folder into it only while the store holds no persons and no workplaces (the first start;
later imports are `jobmatch load`'s), serves what the store holds (erased persons never) and
starts the model. Every change to a person or a workplace (through the API, a `load`, a slot taken
or given back, an erasure) is in the store's change log; `refresh`, called at the start of each
request, brings this worker's tables up to it, and takes the scoring switch and a model reload
another worker recorded (`matching.store.heads`: one read tells whether either changed), so every
worker serves the very next request with the change and no restart is needed. `prepare` makes
the store ready once, before `jobmatch serve` starts its workers. `forget` stops serving an erased person at once.
The employer history served is each workplace's recorded counts plus the store's outcomes (the
loaded `outcomes` table and the settled outcomes its decisions and placements imply;
`features.history`), read at the start and again whenever a table is read whole (an erasure, a
replaced store). The change log names no outcomes, and reading them all on every change of a
workplace (a trial taking a slot is one) would cost each worker's next request a read of the whole
record, so an outcome recorded while the service runs raises the served history at the next
restart or erasure (a slow lag next to training's, which counts an outcome twelve weeks after
its suggestion).
`scoring()`, `matcher()` and `model` are what a request scores with (see `models`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.congestion import Congestion
from matching.datasets import load_dataset
from matching.settings import Settings
from matching.shortlist import Matcher
from matching.store.audit import AuditBatcher
from matching.store.changes import ChangeSet, changes_since, latest_change
from matching.store.contract import load_dataset_into, outcomes_frame, served_records
from matching.store.db import make_engine, session_scope
from matching.store.heads import control_head, store_heads, store_heads_at_once
from matching.store.schema import upgrade
from serving.heap import Heap
from serving.loading import LoadedModel
from serving.model_service import ModelService
from serving.observability import Metrics
from serving.scoring import Scoring, Served

log = logging.getLogger("jobmatch.serving")


@dataclass
class ServiceState:
    """What the API serves: the persons and workplaces with their indexes (`served`), the store,
    and the model in service."""

    settings: Settings
    served: Served
    engine: Engine
    metrics: Metrics = field(default_factory=Metrics)
    seen_change: int = 0  # the newest change of the store's change log `served` holds
    heap: Heap | None = None  # a served worker's: settled again after `served` or the model changed
    congestion: Congestion = field(init=False)
    audits: AuditBatcher = field(init=False)
    models: ModelService = field(init=False)

    def __post_init__(self) -> None:
        self.congestion = Congestion(self.settings.suggestions_per_slot, self.settings.congestion_window_days)
        self.models = ModelService(self.settings, self.engine, self.served, self.metrics)
        self._refresh_lock = threading.Lock()  # one refresh at a time; requests read `served` as swapped
        self.audits = AuditBatcher(self.engine)  # reads' audit entries, committed together

    @classmethod
    def prepare(cls, settings: Settings) -> None:
        """Make the store ready to serve, once before any worker starts: the newest schema, and
        the dataset folder imported into a store holding no persons and no workplaces (bad data
        fails here, with the contract's message)."""
        engine = make_engine(settings.database_url)
        try:
            _prepared(engine, settings)
        finally:
            engine.dispose()

    @classmethod
    def load(cls, settings: Settings) -> ServiceState:
        engine = make_engine(settings.database_url)
        seen, candidates, workplaces = _prepared(engine, settings)
        served = Served.of(CandidateTable.build(candidates), WorkplacePool(workplaces, outcomes=_outcomes(engine)))
        state = cls(settings, served, engine, seen_change=seen)
        # what other workers set from now on is followed (`refresh`); the switch standing now, `start` reads
        state.models.begin_following(control_head(engine))
        state.models.start()
        return state

    # What is served (each read takes the current records whole) -----------------------------------

    @property
    def candidates(self) -> CandidateTable:
        return self.served.candidates

    @property
    def pool(self) -> WorkplacePool:
        return self.served.pool

    @property
    def positions(self) -> dict[str, int]:
        return self.served.positions

    @property
    def workplace_positions(self) -> dict[str, int]:
        return self.served.workplace_positions

    @property
    def candidate_pool(self) -> CandidatePool:
        return self.served.candidate_pool

    # Live records ----------------------------------------------------------------------------------

    def current_at_once(self) -> bool:
        """For the event loop, at the start of a request: True when this worker is known, without
        waiting, to be up to the store (an SQLite file's heads, read on the loop's own connection,
        show nothing new), so `refresh` has nothing to do; False when `refresh` must run, in a
        worker thread (something changed, or the store is PostgreSQL, whose read may wait on the
        network or on a server that does not answer). It saves most requests a hand-over to a
        worker thread and back."""
        if self.heap is not None:
            self.heap.tick(self.served, self.models.model)
        heads = store_heads_at_once(self.engine)
        return heads is not None and heads == (self.seen_change, self.models.followed)

    def refresh(self) -> bool:
        """Bring this worker up to the store, at the start of each request: what another worker
        set (the scoring switch, a reloaded model: `ModelService.follow`) and the served persons
        and workplaces (the records that changed since `seen_change` are read again, a table
        whole after an erasure or a replaced store, and the indexes rebuilt). One cheap read when
        nothing changed. Returns whether any record did."""
        if self.heap is not None:
            self.heap.tick(self.served, self.models.model)
        change, control = store_heads(self.engine)
        if control != self.models.followed:
            self.models.follow(control)
        if change == self.seen_change:
            return False
        with self._refresh_lock:
            served = self.served
            with session_scope(self.engine, readonly=True) as session:
                changes = changes_since(session, self.seen_change)
                if changes.latest == self.seen_change:
                    return False  # another request of this worker refreshed meanwhile
                candidates = _changed(session, "candidates", "candidate_id", served.candidates.frame, changes)
                workplaces = _changed(session, "workplaces", "workplace_id", served.pool.frame, changes)
            table = served.candidates if candidates is None else CandidateTable.build(candidates, served.pool.catalogue)
            pool = served.pool
            if workplaces is not None or changes.reload:
                # the employer history: the outcomes held, read again only with a table read whole
                outcomes = _outcomes(self.engine) if changes.reload else served.pool.outcomes
                frame = served.pool.frame if workplaces is None else workplaces
                pool = WorkplacePool(frame, served.pool.catalogue, outcomes=outcomes)
            self.served = Served.of(table, pool)
            self.models.serve(self.served)
            self.seen_change = changes.latest
        return True

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
        """Stop serving an erased person at once: no shortlist by id, and not eligible on the
        employer's side. (The store's change log has the erasure too, so the next `refresh` drops
        their row.) Returns whether they were being served."""
        with self._refresh_lock:
            served = self.served
            row = served.positions.get(candidate_id)
            if row is None:
                return False
            frame = served.candidates.frame.copy()
            frame.loc[row, ["consent", "active"]] = False
            self.served = Served.of(CandidateTable.build(frame, served.pool.catalogue), served.pool)
            positions = dict(self.served.positions)
            del positions[candidate_id]
            self.served = replace(self.served, positions=positions)
            self.models.serve(self.served)
        return True


def _prepared(engine: Engine, settings: Settings) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """The store at the newest schema and filled on its first start; the newest change and the
    persons and workplaces it holds."""
    # the store keeps the records behind every shortlist and decision: bring it to the newest schema
    upgrade(str(engine.url.render_as_string(hide_password=False)))
    seen, candidates, workplaces = _served_records(engine)
    if candidates.empty and workplaces.empty:
        # a new store: the dataset folder is its first content (later imports: `jobmatch load`)
        report = load_dataset_into(engine, load_dataset(settings.data_dir), settings.pseudonym_secret())
        log.info("store filled from the dataset folder: %s", "; ".join(report.lines()))
        seen, candidates, workplaces = _served_records(engine)
    else:
        log.info("serving the store's %d persons and %d workplaces", len(candidates), len(workplaces))
    return seen, candidates, workplaces


def _served_records(engine: Engine) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """The newest change and the persons and workplaces the store holds (erased persons never)."""
    with session_scope(engine, readonly=True) as session:
        seen = latest_change(session)
        return seen, served_records(session, "candidates"), served_records(session, "workplaces")


def _outcomes(engine: Engine) -> pd.DataFrame:
    """The store's outcomes, the employer history beyond the recorded counts."""
    with session_scope(engine, readonly=True) as session:
        return outcomes_frame(session)


def _changed(session: Session, table: str, key: str, served: pd.DataFrame, changes: ChangeSet) -> pd.DataFrame | None:
    """The table with the changes applied, or None when none of its records changed."""
    if table in changes.reload:
        return served_records(session, table)
    ids = changes.ids(table)
    if not ids:
        return None
    fresh = served_records(session, table, ids)
    columns = list(fresh.columns)
    kept = served.loc[~served[key].astype(str).isin(ids), columns]
    return pd.concat([kept, fresh], ignore_index=True) if len(kept) else fresh
