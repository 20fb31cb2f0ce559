"""What one request scores with: the model (or, switched off, the rule) and its matcher, taken
once per request and pinned to it (`serving.model_service.ModelService.scoring`), and the matcher
that counts what it serves in the metrics; and `Served`, the persons and workplaces a worker
serves with their indexes, swapped whole when the store's records change and pinned to a request
with its scoring, so a request never mixes two versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matching.candidates import CandidatePool, CandidateTable, WorkplacePool
from matching.model import Ranker
from matching.shortlist import Matcher, Shortlist
from serving.loading import LoadedModel
from serving.observability import Metrics
from serving.switch import Mode


class ObservedMatcher(Matcher):
    """The matcher of one request, counting what it serves in the metrics."""

    def __init__(
        self,
        ranker: Ranker,
        candidates: CandidateTable,
        pool: WorkplacePool,
        exclude_unmet_required: bool,
        metrics: Metrics,
        scored_by: str,
    ) -> None:
        super().__init__(ranker, candidates, pool, exclude_unmet_required)
        self.metrics = metrics
        self.scored_by = scored_by

    def shortlist(self, *args: Any, **kwargs: Any) -> Shortlist:
        result = super().shortlist(*args, **kwargs)
        self.metrics.observe_shortlist("candidate", self.scored_by, result.items)
        return result

    def workplace_shortlist(self, *args: Any, **kwargs: Any) -> Shortlist:
        result = super().workplace_shortlist(*args, **kwargs)
        self.metrics.observe_shortlist("workplace", self.scored_by, result.items)
        return result


@dataclass(frozen=True)
class Served:
    """The persons and workplaces served, and their indexes: row positions by id, the workplace
    pool for candidate generation, the employer side's candidate pool."""

    candidates: CandidateTable
    pool: WorkplacePool
    positions: dict[str, int]
    workplace_positions: dict[str, int]
    candidate_pool: CandidatePool

    @classmethod
    def of(cls, candidates: CandidateTable, pool: WorkplacePool) -> Served:
        return cls(candidates, pool, candidates.positions(), pool.positions(), CandidatePool(candidates))


@dataclass(frozen=True)
class Scoring:
    """What one request scores with, start to finish: the model (or the rule), its matcher, and
    the records served when it was taken."""

    model: LoadedModel
    matcher: Matcher
    served: Served

    @property
    def scored_by(self) -> Mode:
        return self.model.scored_by
