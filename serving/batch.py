"""Overnight scoring: a shortlist for every active, consenting candidate, with the same model and
functions as the API.

Candidates are scored in chunks of roughly `chunk_pairs` eligible pairs, so memory stays bounded
whatever the caseload: a chunk's pairs, features and scores are dropped once its candidates'
best pairs are kept. `score_to_file` writes each finished chunk to a folder beside the output
(`.NAME.parts/`), writes the output through a temporary file renamed only when complete, and
then removes the folder. A run killed midway and started again with the same data, model and
options resumes from its finished chunks and writes the same file as an uninterrupted run.

Scores are exactly the API's. The three reasons per suggestion come from decision-path
contributions (`Ranker.path_contributions`), which add up to the score like the API's TreeSHAP
values but cost one leaf lookup per tree instead of a TreeSHAP pass (tens of times slower), so a
whole caseload can be explained overnight. The two agree on the strongest reason for most pairs;
an adviser opening a suggestion in the API sees the TreeSHAP explanation.

With `allocate`, each candidate's `pool` best pairs are kept instead of `top_k`, and the final
shortlists are chosen for the whole caseload at once so that no workplace is suggested to more
than `per_slot x slots` candidates (`matching.allocation`).

Every run records where its time went (`matching.timing.Stages`, in `scorer.stages` and the
figures' `stages`): preparing the tables, candidate generation, features, predict, top-k, writing
and reading the finished chunks, allocation, reasons and writing the output.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.pairs import PairFrame
from matching.allocation import allocate, capacities, summarise
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset
from matching.explain import top_reasons
from matching.model import Ranker
from matching.records import Vocabulary
from matching.shortlist import Matcher, top_k_per_candidate
from matching.timing import Stages
from serving.loading import LoadedModel
from serving.pipeline import EXPLAINING, SLICE_PAIRS, TOP_K, ChunkPipeline, slices

DEFAULT_CHUNK_PAIRS = 500_000
DEFAULT_POOL = 50
DEFAULT_FLOOR = 3
REASONS = 3
REASON_COLUMNS = [f"reason_{j + 1}" for j in range(REASONS)]
COLUMNS = ["candidate_id", "rank", "workplace_id", "score", *REASON_COLUMNS, "model_version"]
EXPLAIN_SLICE = 200_000  # pairs per slice when explaining the chosen suggestions
PARTS_VERSION = 2  # 2: without allocation, the parts carry their pairs' reasons
# the stages of a run, as printed
PREPARING = "preparing tables"
WRITING_PARTS = "writing chunks"
READING_PARTS = "reading chunks"
ALLOCATION = "allocation"
WRITING = "writing output"


@dataclass(frozen=True)
class BatchOptions:
    """How a caseload is scored.

    top_k: suggestions per candidate.
    exclude_unmet_required: as in candidate generation.
    chunk_pairs: roughly how many pairs to score at once (bounds memory).
    allocate: choose shortlists for the whole caseload under workplace capacity.
    per_slot: with `allocate`, the most suggestions per free slot of a workplace.
    pool: with `allocate`, how many of each candidate's best pairs the allocation chooses from.
    floor: with `allocate`, suggestions every candidate gets first, where capacity allows.
    """

    top_k: int = 10
    exclude_unmet_required: bool = True
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS
    allocate: bool = False
    per_slot: float = 3.0
    pool: int = DEFAULT_POOL
    floor: int = DEFAULT_FLOOR

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.chunk_pairs < 1:
            raise ValueError("top_k and chunk_pairs must be at least 1")
        if self.allocate and (self.per_slot <= 0 or self.pool < self.top_k):
            raise ValueError("allocation needs per_slot > 0 and a pool of at least top_k pairs per candidate")

    @property
    def keep(self) -> int:
        """Pairs kept per candidate from each chunk."""
        return self.pool if self.allocate else self.top_k


class CaseloadScorer:
    """One caseload, one model, one set of options: the chunks to score and how to finish."""

    def __init__(
        self, dataset: Dataset, model: LoadedModel, options: BatchOptions, stages: Stages | None = None
    ) -> None:
        self.dataset = dataset
        self.model = model
        self.options = options
        self.stages = stages if stages is not None else Stages()
        self.pairs_per_candidate = 1.0
        self.slice_pairs = SLICE_PAIRS  # pairs per pipeline slice (`serving.pipeline`)
        with self.stages.time(PREPARING):
            self.candidates = CandidateTable.build(dataset.candidates)
            self.pool = WorkplacePool(dataset.workplaces, outcomes=dataset.outcomes)  # employer history up to now
            self.matcher = Matcher(model.ranker, self.candidates, self.pool, options.exclude_unmet_required)
            self.rows = eligible_candidates(self.candidates.frame)
            self.bounds = self._plan()

    def _plan(self) -> list[tuple[int, int]]:
        """Chunk boundaries over `rows`, sized from the pairs of an even sample of candidates."""
        rows = self.rows
        if len(rows) == 0:
            return []
        sample = rows[:: max(1, len(rows) // 50)][:50]
        pairs = self.pool.generate_pairs(self.candidates.arrays, sample, self.options.exclude_unmet_required)[0]
        self.pairs_per_candidate = per_candidate = max(len(pairs) / len(sample), 1.0)
        size = max(1, int(self.options.chunk_pairs // per_candidate))
        return [(start, min(start + size, len(rows))) for start in range(0, len(rows), size)]

    def key(self) -> str:
        """What a resumed run must share with the run it resumes."""
        order = hashlib.sha256()
        for column in (self.candidates.frame["candidate_id"], self.pool.frame["workplace_id"]):
            order.update("\n".join(map(str, column)).encode())
        content = {
            "version": PARTS_VERSION,
            "dataset": self.dataset.fingerprint(),
            "row_order": order.hexdigest(),
            "model": [self.model.uri, self.model.version, self.model.run_id],
            "options": asdict(self.options),
            "bounds": self.bounds,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def score_chunk(self, i: int) -> tuple[pd.DataFrame, int]:
        """Each candidate's best pairs in chunk `i` (positions and scores), and the pairs scored.

        The steps of `Matcher.score_rows` (candidate generation, features, scores) and the cut to
        each candidate's best, run as a pipeline over slices of the chunk (`serving.pipeline`)
        so the work beside predict is hidden behind it; each step is timed as a stage."""
        start, stop = self.bounds[i]
        options = self.options
        ranker = self.model.ranker
        # without allocation each chunk's kept pairs are final: explained as they are cut
        explain = None if options.allocate else (lambda matrix: explain_matrix(ranker, matrix))
        pipeline = ChunkPipeline(
            ranker, self.candidates, self.pool, options.exclude_unmet_required, options.keep, self.stages, explain
        )
        return pipeline.run(slices(self.rows[start:stop], self.pairs_per_candidate, self.slice_pairs))

    def finish(self, kept: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The shortlists from every chunk's kept pairs, explained; with figures on capacity."""
        c_pos, w_pos = kept["c_pos"].to_numpy(np.int64), kept["w_pos"].to_numpy(np.int64)
        score = kept["score"].to_numpy(np.float64)
        top_k = self.options.top_k
        with self.stages.time(TOP_K):
            independent, _ = top_k_per_candidate(c_pos, score, top_k)
        figures: dict[str, Any] = {}
        if self.options.allocate:
            with self.stages.time(ALLOCATION):
                final, figures["allocation"] = self._allocate(c_pos, w_pos, score, independent)
        else:
            final = independent
        with self.stages.time(TOP_K):
            order, ranks = top_k_per_candidate(c_pos[final], score[final], top_k)
            final = final[order]
            frame = pd.DataFrame(
                {
                    "candidate_id": self.candidates.frame["candidate_id"].to_numpy()[c_pos[final]],
                    "rank": ranks.astype(np.int32),
                    "workplace_id": self.pool.frame["workplace_id"].to_numpy()[w_pos[final]],
                    "score": score[final],
                }
            )
        with self.stages.time(EXPLAINING):
            if all(column in kept.columns for column in REASON_COLUMNS):
                reasons = [kept[column].to_numpy(dtype=object)[final] for column in REASON_COLUMNS]
            else:
                reasons = self._reasons(c_pos[final], w_pos[final])
            for j, column in enumerate(REASON_COLUMNS):
                frame[column] = reasons[j]
        frame["model_version"] = self.model.version
        return frame, figures

    def _allocate(
        self, c_pos: np.ndarray, w_pos: np.ndarray, score: np.ndarray, independent: np.ndarray
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The kept pairs chosen for the whole caseload under capacity, and the allocation's figures."""
        top_k = self.options.top_k
        value = self.model.ranker.expected_success(score)
        slots = self.pool.arrays["slots"]
        solved = allocate(c_pos, w_pos, value, top_k, capacities(slots, self.options.per_slot), self.options.floor)
        picked = np.zeros(len(score), dtype=bool)
        picked[independent] = True
        context = (top_k, slots, len(self.rows), len(self.pool.open_rows))
        figures = {
            "solve_seconds": solved.seconds,
            "arcs": solved.arcs,
            "per_slot": self.options.per_slot,
            "floor": self.options.floor,
            "independent": summarise(c_pos, w_pos, value, picked, *context),
            "allocated": summarise(c_pos, w_pos, value, solved.chosen, *context),
        }
        return np.flatnonzero(solved.chosen), figures

    def _reasons(self, c_idx: np.ndarray, w_idx: np.ndarray) -> list[np.ndarray]:
        ranker, vocabulary = self.model.ranker, self.pool.catalogue.vocabulary
        return batch_reasons(ranker, self.candidates.arrays, self.pool.arrays, vocabulary, c_idx, w_idx)


def batch_reasons(
    ranker: Ranker,
    candidate_arrays: dict[str, np.ndarray],
    workplace_arrays: dict[str, np.ndarray],
    vocabulary: Vocabulary,
    c_idx: np.ndarray,
    w_idx: np.ndarray,
) -> list[np.ndarray]:
    """The three strongest reasons of each chosen pair, by decision-path contributions, in
    slices of `EXPLAIN_SLICE` pairs (the local and the Spark engine alike)."""
    out: list[list[np.ndarray]] = [[] for _ in range(REASONS)]
    for start in range(0, len(c_idx), EXPLAIN_SLICE):
        window = slice(start, start + EXPLAIN_SLICE)
        matrix = ranker.features_of(
            PairFrame(candidate_arrays, workplace_arrays, c_idx[window], w_idx[window], vocabulary)
        )
        for j, values in enumerate(explain_matrix(ranker, matrix)):
            out[j].append(values)
    return [np.concatenate(parts) if parts else np.zeros(0, dtype=object) for parts in out]


def explain_matrix(ranker: Ranker, matrix: np.ndarray) -> list[np.ndarray]:
    """The three strongest reasons of each row of a feature matrix, by decision-path contributions."""
    return [
        np.asarray(values, dtype=object) for values in top_reasons(matrix, ranker.path_contributions(matrix), REASONS)
    ]


def score_caseload(
    dataset: Dataset,
    model: LoadedModel,
    top_k: int = 10,
    exclude_unmet_required: bool = True,
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS,
    progress: Callable[[str], None] | None = None,
    allocate: bool = False,
    per_slot: float = 3.0,
    pool: int = DEFAULT_POOL,
    floor: int = DEFAULT_FLOOR,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Shortlists for the whole caseload, in memory (see `score_to_file` for the resumable run).

    Returns:
        The shortlists (candidate_id, rank, workplace_id, score, reason_1..3, model_version) and
        run figures (candidates, pairs, seconds, pairs_per_second, and with `allocate` the
        allocation's figures).
    """
    options = BatchOptions(top_k, exclude_unmet_required, chunk_pairs, allocate, per_slot, pool, floor)
    scorer = CaseloadScorer(dataset, model, options)
    started = time.perf_counter()
    kept, pairs = [], 0
    for i, (_, stop) in enumerate(scorer.bounds):
        part, n = scorer.score_chunk(i)
        kept.append(part)
        pairs += n
        if progress:
            rate = pairs / max(time.perf_counter() - started, 1e-9)
            progress(f"scored {stop}/{len(scorer.rows)} candidates, {pairs:,} pairs ({rate:,.0f} pairs/s)")
    return _finish(scorer, kept, pairs, started)


def _finish(
    scorer: CaseloadScorer, kept: list[pd.DataFrame], pairs: int, started: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    empty = pd.DataFrame({"c_pos": np.zeros(0, np.int64), "w_pos": np.zeros(0, np.int64), "score": np.zeros(0)})
    frame, extra = scorer.finish(pd.concat(kept, ignore_index=True) if kept else empty)
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "candidates": float(len(scorer.rows)),
        "pairs": float(pairs),
        "seconds": seconds,
        "pairs_per_second": pairs / max(seconds, 1e-9),
        "peak_memory_mb": peak_memory_mb(),
        **extra,
        **stage_figures(scorer.stages),
    }
    return frame[COLUMNS], figures


def stage_figures(stages: Stages) -> dict[str, Any]:
    """The run's wall seconds so far (`stages_seconds`, from preparing the tables on, or from
    where the caller's `Stages` started), their split by stage (`stages`, with "other") and the
    seconds of work hidden on the second thread (`hidden`, not in the total)."""
    total = stages.elapsed()
    return {"stages_seconds": total, "stages": stages.split(total), "hidden": dict(stages.hidden)}


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MB.

    On Linux from `VmHWM` (the peak of this program's own address space; `ru_maxrss` would carry
    over the peak of a parent that forked it), elsewhere from `getrusage`."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 1024 / 1024


def parts_folder(out: Path) -> Path:
    """Where a run keeps its finished chunks until the output is complete."""
    return out.with_name(f".{out.name}.parts")


def score_to_file(
    scorer: CaseloadScorer,
    out: Path,
    say: Callable[[str], None] = print,
    bar: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score every chunk not already finished, then write the shortlists to `out`.

    Each finished chunk is saved under `parts_folder(out)` with a manifest naming the run's data,
    model and options; a later run with the same key skips those chunks, one with another key
    starts over. The output goes through a temporary file renamed when complete, and the parts
    folder is removed after.
    """
    out = Path(out)
    parts = parts_folder(out)
    manifest_path = parts / "manifest.json"
    key = scorer.key()
    done: dict[str, int] = {}
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        if manifest.get("key") == key:
            done = {i: n for i, n in manifest.get("done", {}).items() if (parts / chunk_name(int(i))).exists()}
            say(f"resuming: {len(done)} of {len(scorer.bounds)} chunks already finished in {parts}")
        else:
            say(f"{parts} holds chunks of another run (data, model or options differ): starting over")
    if not done and parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)

    def save_manifest() -> None:
        _write_atomic(manifest_path, json.dumps({"key": key, "chunks": len(scorer.bounds), "done": done}).encode())

    save_manifest()
    started = time.perf_counter()
    todo = [i for i in range(len(scorer.bounds)) if str(i) not in done]
    new_pairs = 0
    with _progress(len(scorer.rows), bar) as progress:
        progress.update(sum(stop - start for i, (start, stop) in enumerate(scorer.bounds) if str(i) in done))
        for i in todo:
            part, n = scorer.score_chunk(i)
            with scorer.stages.time(WRITING_PARTS):
                tmp = parts / f".{chunk_name(i)}.tmp"
                part.to_parquet(tmp, index=False)
                tmp.replace(parts / chunk_name(i))
                done[str(i)] = n
                save_manifest()
            new_pairs += n
            start, stop = scorer.bounds[i]
            progress.update(stop - start)
            rate = new_pairs / max(time.perf_counter() - started, 1e-9)
            progress.set_postfix_str(f"{sum(done.values()):,} pairs, {rate:,.0f} pairs/s", refresh=False)
    with scorer.stages.time(READING_PARTS):
        kept = [pd.read_parquet(parts / chunk_name(i)) for i in range(len(scorer.bounds))]
    frame, figures = _finish(scorer, kept, sum(done.values()), started)
    figures["pairs_this_run"] = float(new_pairs)
    figures["pairs_per_second"] = new_pairs / max(figures["seconds"], 1e-9)
    with scorer.stages.time(WRITING):
        write_shortlists(frame, out)
        shutil.rmtree(parts, ignore_errors=True)
    figures.update(stage_figures(scorer.stages))
    return frame, figures


def chunk_name(i: int) -> str:
    return f"chunk-{i:06d}.parquet"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress(total: int, bar: bool) -> Any:
    """A progress bar over candidates on stderr (none when `bar` is False)."""
    if not bar:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="cand", desc="scoring", file=sys.stderr, mininterval=1.0, dynamic_ncols=True)


def write_shortlists(frame: pd.DataFrame, out: Path) -> Path:
    """Write to `out` through a temporary file in the same folder, renamed when complete."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    frame.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out
