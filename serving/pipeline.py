"""One chunk of overnight scoring as a two-thread pipeline: while LightGBM predicts one slice of
the chunk's candidates (it releases the interpreter lock), a second thread generates the next
slice's pairs and features and cuts the previous slice's top-k; when the kept pairs are the final
suggestions (no allocation), it also explains them from the feature values already computed.

The results are those of scoring the whole chunk at once: every step works pair by pair or
candidate by candidate, and a slice holds whole candidates in the chunk's order. On two cores
the work beside predict is mostly hidden behind it; the time the main thread still waits for it
counts as that stage, the rest is kept as hidden work (`Stages.hidden`), so the split adds up to
the run's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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

    def prepare(self, rows: np.ndarray) -> Timed[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Pairs and features of candidates `rows` (as `Matcher.score_rows`), with their seconds."""
        started = time.perf_counter()
        arrays = self.candidates.arrays
        c_idx, w_idx = self.pool.generate_pairs(arrays, rows, self.exclude_unmet_required)
        generated = time.perf_counter()
        pairs = PairFrame(arrays, self.pool.arrays, c_idx, w_idx, self.pool.catalogue.vocabulary)
        matrix = self.ranker.features_of(pairs)
        seconds = {GENERATION: generated - started, FEATURES: time.perf_counter() - generated}
        return (c_idx, w_idx, matrix), seconds

    def cut(self, c_idx: np.ndarray, w_idx: np.ndarray, scores: np.ndarray, matrix: np.ndarray) -> Timed[pd.DataFrame]:
        """Each candidate's `keep` best pairs of a slice (positions and scores, and with `explain`
        their reasons from their rows of `matrix`), with the seconds."""
        started = time.perf_counter()
        chosen, _ = top_k_per_candidate(c_idx, scores, self.keep)
        part = pd.DataFrame(
            {
                "c_pos": c_idx[chosen].astype(np.int64),
                "w_pos": w_idx[chosen].astype(np.int64),
                "score": scores[chosen].astype(np.float64),
            }
        )
        seconds = {TOP_K: time.perf_counter() - started}
        if self.explain is not None:
            cut = time.perf_counter()
            for j, values in enumerate(self.explain(matrix[chosen])):
                part[f"reason_{j + 1}"] = values
            seconds[EXPLAINING] = time.perf_counter() - cut
        return part, seconds

    def run(self, parts: list[np.ndarray]) -> tuple[pd.DataFrame, int]:
        """Each candidate's best pairs over the slices `parts`, and the pairs scored."""
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return self.cut(empty, empty, np.zeros(0), np.zeros((0, len(self.ranker.features)), np.float32))[0], 0
        cuts: list[Future[Timed[pd.DataFrame]]] = []
        n_pairs = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-prepare") as worker:
            prepared = worker.submit(self.prepare, parts[0])
            for k in range(len(parts)):
                c_idx, w_idx, matrix = self._wait(prepared)
                if k + 1 < len(parts):
                    prepared = worker.submit(self.prepare, parts[k + 1])
                with self.stages.time(PREDICT):
                    scores = self.ranker.score(matrix)
                cuts.append(worker.submit(self.cut, c_idx, w_idx, scores, matrix))
                n_pairs += len(c_idx)
            kept = [self._wait(future) for future in cuts]
        return pd.concat(kept, ignore_index=True), n_pairs

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
