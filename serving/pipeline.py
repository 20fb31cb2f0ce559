"""One chunk of overnight scoring as a two-thread pipeline: while LightGBM predicts one slice of
the chunk's candidates (it releases the interpreter lock), a second thread generates the next
slice's pairs and features and narrows the previous slice to each candidate's best pairs; when
those are the final suggestions (no allocation), it also explains them from the feature values
already computed.

The results are those of scoring the whole chunk at once. Pairs, features and tree scores are
computed pair by pair and a slice holds whole candidates in the chunk's order. The linear base's
score is one matrix product whose last bits can depend on the rows it is given with, so the
chunk's scores are the base's over the whole chunk plus the slices' tree scores (as
`Ranker.score` on the chunk); a slice is narrowed on its own scores to the pairs within a
rounding margin of each candidate's `keep`-th best, and the exact top-k is cut from those.

On two cores the work beside predict is mostly hidden behind it. The time the main thread still
waits for that work counts as its stage; the rest is kept as hidden work (`Stages.hidden`), so
the split adds up to the run's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from features.pairs import PairFrame
from matching.candidates import CandidateTable, WorkplacePool
from matching.model import Ranker
from matching.shortlist import top_k_per_candidate
from matching.timing import Stages

# pairs per slice: small enough that the first slice (never hidden) is quick, large enough that
# each call's fixed cost stays small
SLICE_PAIRS = 25_000
# a slice keeps every pair within this (relative) margin of a candidate's keep-th best score: far
# above the rounding of the base's matrix product, far below any difference that ranks pairs
MARGIN = 1e-9
GENERATION = "candidate generation"
FEATURES = "features"
PREDICT = "predict"
TOP_K = "top-k"
EXPLAINING = "reasons"

T = TypeVar("T")
Timed = tuple[T, dict[str, float]]


def slices(rows: np.ndarray, pairs_per_candidate: float, slice_pairs: int = SLICE_PAIRS) -> list[np.ndarray]:
    """`rows` cut in order into slices of about `slice_pairs` pairs."""
    size = max(1, int(slice_pairs // max(pairs_per_candidate, 1.0)))
    return [rows[start : start + size] for start in range(0, len(rows), size)]


@dataclass
class Slice:
    """One slice's pairs, features and tree scores."""

    c_idx: np.ndarray
    w_idx: np.ndarray
    matrix: np.ndarray
    trees: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class Narrowed:
    """A slice's pairs that may be among their candidate's best (positions in the slice), and
    (with explaining) their reasons."""

    rows: np.ndarray
    reasons: list[np.ndarray]


def near_top(c_idx: np.ndarray, scores: np.ndarray, keep: int) -> np.ndarray:
    """Positions of the pairs within `MARGIN` of their candidate's `keep`-th best score, in order."""
    chosen, _ = top_k_per_candidate(c_idx, scores, keep)
    if len(chosen) == 0:
        return chosen
    candidates, inverse = np.unique(c_idx, return_inverse=True)
    floor = np.full(len(candidates), np.inf)
    np.minimum.at(floor, inverse[chosen], scores[chosen])
    bound = floor[inverse]
    return np.flatnonzero(scores >= bound - MARGIN * np.maximum(1.0, np.abs(bound)))


class ChunkPipeline:
    """Scores the candidates of one chunk, slice by slice, on two threads."""

    def __init__(
        self,
        ranker: Ranker,
        candidates: CandidateTable,
        pool: WorkplacePool,
        exclude_unmet_required: bool,
        keep: int,
        stages: Stages,
        explain: Callable[[np.ndarray], list[np.ndarray]] | None = None,
    ) -> None:
        self.ranker = ranker
        self.candidates = candidates
        self.pool = pool
        self.exclude_unmet_required = exclude_unmet_required
        self.keep = keep
        self.stages = stages
        self.explain = explain

    def prepare(self, rows: np.ndarray) -> Timed[Slice]:
        """Pairs and features of candidates `rows` (as `Matcher.score_rows`), with their seconds."""
        started = time.perf_counter()
        arrays = self.candidates.arrays
        c_idx, w_idx = self.pool.generate_pairs(arrays, rows, self.exclude_unmet_required)
        generated = time.perf_counter()
        matrix = self.ranker.features_of(
            PairFrame(arrays, self.pool.arrays, c_idx, w_idx, self.pool.catalogue.vocabulary)
        )
        return Slice(c_idx, w_idx, matrix), {GENERATION: generated - started, FEATURES: time.perf_counter() - generated}

    def narrow(self, part: Slice) -> Timed[Narrowed]:
        """The slice's pairs that may be among their candidate's `keep` best, and with `explain`
        their reasons, with the seconds."""
        started = time.perf_counter()
        rows = near_top(part.c_idx, self.ranker.base.score(part.matrix) + part.trees, self.keep)
        seconds = {TOP_K: time.perf_counter() - started}
        reasons: list[np.ndarray] = []
        if self.explain is not None:
            explaining = time.perf_counter()
            reasons = self.explain(part.matrix[rows])
            seconds[EXPLAINING] = time.perf_counter() - explaining
        return Narrowed(rows, reasons), seconds

    def run(self, parts: list[np.ndarray]) -> tuple[pd.DataFrame, int]:
        """Each candidate's best pairs over the slices `parts` (positions, scores and with
        `explain` reasons), and the pairs scored."""
        done: list[Slice] = []
        narrowing: list[Future[Timed[Narrowed]]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-prepare") as worker:
            prepared = worker.submit(self.prepare, parts[0]) if parts else None
            for k in range(len(parts)):
                assert prepared is not None
                part = self._wait(prepared)
                if k + 1 < len(parts):
                    prepared = worker.submit(self.prepare, parts[k + 1])
                with self.stages.time(PREDICT):
                    part.trees = self.ranker.tree_scores(part.matrix)
                done.append(part)
                narrowing.append(worker.submit(self.narrow, part))
            narrowed = [self._wait(future) for future in narrowing]
        return self._cut(done, narrowed), sum(len(part.c_idx) for part in done)

    def _cut(self, done: list[Slice], narrowed: list[Narrowed]) -> pd.DataFrame:
        """The exact top-k of the chunk, from the scores `Ranker.score` gives the whole chunk."""
        width = len(self.ranker.features)
        c_idx = np.concatenate([np.zeros(0, np.int64)] + [part.c_idx for part in done])
        w_idx = np.concatenate([np.zeros(0, np.int64)] + [part.w_idx for part in done])
        with self.stages.time(PREDICT):
            matrix = np.concatenate([np.zeros((0, width), np.float32)] + [part.matrix for part in done])
            scores = self.ranker.base.score(matrix) + np.concatenate([np.zeros(0)] + [part.trees for part in done])
        with self.stages.time(TOP_K):
            offsets = np.cumsum([0] + [len(part.c_idx) for part in done])
            near = np.concatenate([np.zeros(0, np.int64)] + [n.rows + offsets[i] for i, n in enumerate(narrowed)])
            chosen, _ = top_k_per_candidate(c_idx[near], scores[near], self.keep)
            rows = near[chosen]
            frame = pd.DataFrame(
                {
                    "c_pos": c_idx[rows].astype(np.int64),
                    "w_pos": w_idx[rows].astype(np.int64),
                    "score": scores[rows].astype(np.float64),
                }
            )
        if self.explain is not None:
            with self.stages.time(EXPLAINING):
                for j in range(len(narrowed[0].reasons) if narrowed else 0):
                    frame[f"reason_{j + 1}"] = np.concatenate([n.reasons[j] for n in narrowed])[chosen]
        return frame

    def _wait(self, future: Future[Timed[T]]) -> T:
        """The result of work done on the second thread. The seconds the main thread waited are
        that work's stages, shared in proportion to its own seconds; the rest ran hidden."""
        started = time.perf_counter()
        result, seconds = future.result()
        waited = time.perf_counter() - started
        busy = sum(seconds.values())
        for name, spent in seconds.items():
            share = waited * spent / busy if busy > 0 else waited / len(seconds)
            self.stages.add(name, share)
            self.stages.add_hidden(name, max(spent - share, 0.0))
        return result
