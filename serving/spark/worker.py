"""What runs in Spark's Python workers: the registered model, loaded once per worker, scoring
pairs given as positions into the candidate and workplace tables.

The driver ships two things (`ship_model`, `ship_tables`): the registered model's files, as
downloaded from its registry URI, and the per-candidate and per-workplace arrays the features
read (`features.pairs.candidate_arrays` / `workplace_arrays`, the local engine's own). Each
worker unpacks the model and loads it with `mlflow.pyfunc.load_model` on first use, then keeps
it for every later batch, task and run of the same model (Spark reuses its Python workers).

`score_pairs` is the function `mapInPandas` runs: the Arrow batches of `(_c_pos, _w_pos)` pairs
are gathered into blocks of about `BLOCK_PAIRS`, each block's features are computed from the
positions (`PairFrame`, exactly the local engine's), scored by the model's ranker, and only
each candidate's `top_k` best pairs of the block leave the worker, with the number of pairs the
block held for that candidate. The driver's merge of these blocks (`merge_top_k`) is the exact
top-k: a candidate's best pairs are among the best of each block it appears in.
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.pairs import PairFrame, VocabularyLike
from matching.model import Ranker
from matching.shortlist import top_k_per_candidate

if TYPE_CHECKING:
    from pyspark import Accumulator, Broadcast
    from pyspark.sql import SparkSession

BLOCK_PAIRS = 200_000  # pairs scored at once in a worker (the Arrow batches are smaller)
OUTPUT_SCHEMA = "_c_pos long, _w_pos long, score double, _pairs long"
TIMERS = ("features", "predict", "top_k")  # seconds each worker spends, summed over workers


@dataclass(frozen=True)
class ShippedModel:
    """The registered model's files (a zip) and the URI they were downloaded from."""

    uri: str
    run_id: str
    archive: bytes

    @property
    def key(self) -> str:
        return f"{self.uri} {self.run_id}"


@dataclass(frozen=True)
class Tables:
    """What the features of a pair read: the candidates' and workplaces' arrays, by position."""

    candidates: dict[str, np.ndarray]
    workplaces: dict[str, np.ndarray]
    vocabulary: VocabularyLike


@dataclass(frozen=True)
class Shipped:
    """The broadcast handles and counters one scoring job needs in its workers."""

    model: Broadcast[ShippedModel]
    tables: Broadcast[Tables]
    loads: Accumulator[int]
    timers: dict[str, Accumulator[float]]
    top_k: int


def ship_model(uri: str, run_id: str) -> ShippedModel:
    """Download the model at `uri` (a pinned `models:/NAME/VERSION`, `runs:/` or a path) and pack it."""
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="jobmatch-ship-") as tmp:
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
    return ShippedModel(uri, run_id, buffer.getvalue())


def ship(spark: SparkSession, model: ShippedModel, tables: Tables, top_k: int) -> Shipped:
    """Broadcast the model and the tables, and make the counters the workers add to."""
    context = spark.sparkContext
    timers = {name: context.accumulator(0.0) for name in TIMERS}
    return Shipped(context.broadcast(model), context.broadcast(tables), context.accumulator(0), timers, top_k)


_RANKERS: dict[str, Ranker] = {}  # per worker process: model key -> its loaded ranker


def worker_ranker(shipped: Shipped) -> Ranker:
    """The shipped model's ranker, loaded by MLflow on this worker's first use and kept."""
    model = shipped.model.value
    ranker = _RANKERS.get(model.key)
    if ranker is not None:
        return ranker
    import mlflow.pyfunc

    from matching.errors import ModelLoadError
    from matching.model import RankerModel

    with tempfile.TemporaryDirectory(prefix="jobmatch-model-") as folder:  # loaded into memory, then removed
        with zipfile.ZipFile(io.BytesIO(model.archive)) as archive:
            archive.extractall(folder)
        python_model = mlflow.pyfunc.load_model(folder).unwrap_python_model()
    if not isinstance(python_model, RankerModel) or python_model.ranker is None:
        raise ModelLoadError(f"{model.uri} is not a jobmatch ranker")
    ranker = python_model.ranker
    ranker.check_compatible()
    _RANKERS.clear()  # one model at a time per worker
    _RANKERS[model.key] = ranker
    shipped.loads.add(1)
    return ranker


def score_pairs(batches: Iterator[pd.DataFrame], shipped: Shipped) -> Iterator[pd.DataFrame]:
    """`mapInPandas` over `(_c_pos, _w_pos)` batches: each block's top-k pairs per candidate,
    with their scores and (on each candidate's first row of the block) its pairs in the block."""
    ranker = worker_ranker(shipped)
    tables = shipped.tables.value
    spent = dict.fromkeys(TIMERS, 0.0)
    held: list[pd.DataFrame] = []
    size = 0
    for batch in batches:
        held.append(batch)
        size += len(batch)
        if size >= BLOCK_PAIRS:
            yield _score_block(pd.concat(held, ignore_index=True), ranker, tables, shipped.top_k, spent)
            held, size = [], 0
    if size:
        yield _score_block(pd.concat(held, ignore_index=True), ranker, tables, shipped.top_k, spent)
    for name, seconds in spent.items():
        shipped.timers[name].add(seconds)


def _score_block(
    block: pd.DataFrame, ranker: Ranker, tables: Tables, top_k: int, spent: dict[str, float]
) -> pd.DataFrame:
    c_pos, w_pos = block["_c_pos"].to_numpy(np.int64), block["_w_pos"].to_numpy(np.int64)
    order = np.lexsort((w_pos, c_pos))  # the local engine's order: by candidate, then workplace
    c_pos, w_pos = c_pos[order], w_pos[order]
    started = time.perf_counter()
    matrix = ranker.features_of(PairFrame(tables.candidates, tables.workplaces, c_pos, w_pos, tables.vocabulary))
    featured = time.perf_counter()
    scores = ranker.score(matrix)
    scored = time.perf_counter()
    chosen, rank = top_k_per_candidate(c_pos, scores, top_k)
    first = np.r_[True, c_pos[1:] != c_pos[:-1]]
    counts = np.diff(np.r_[np.flatnonzero(first), len(c_pos)])
    pairs = np.zeros(len(chosen), dtype=np.int64)
    pairs[rank == 1] = counts  # chosen runs candidate by candidate, in the same order as `counts`
    out = pd.DataFrame({"_c_pos": c_pos[chosen], "_w_pos": w_pos[chosen], "score": scores[chosen], "_pairs": pairs})
    spent["features"] += featured - started
    spent["predict"] += scored - featured
    spent["top_k"] += time.perf_counter() - scored
    return out


def merge_top_k(blocks: pd.DataFrame, top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The exact top-k per candidate from the workers' blocks: `(c_pos, w_pos, score, rank)`,
    by candidate then rank, ties by workplace position (as the local engine); equal
    `(candidate, workplace)` rows cannot occur (each pair is generated once)."""
    c_pos = blocks["_c_pos"].to_numpy(np.int64)
    w_pos = blocks["_w_pos"].to_numpy(np.int64)
    score = blocks["score"].to_numpy(np.float64)
    order = np.lexsort((w_pos, c_pos))
    c_pos, w_pos, score = c_pos[order], w_pos[order], score[order]
    chosen, rank = top_k_per_candidate(c_pos, score, top_k)
    return c_pos[chosen], w_pos[chosen], score[chosen], rank


def timers(shipped: Shipped) -> dict[str, Any]:
    """The workers' seconds per step and the model loads, as figures."""
    return {f"worker_{name}_seconds": float(acc.value) for name, acc in shipped.timers.items()} | {
        "model_loads": float(shipped.loads.value)
    }
