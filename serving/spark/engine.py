"""Scoring on Spark (`score_caseload_spark`): the pairs scored by the registered pyfunc as a
Spark UDF, the top-k per candidate by a window, and the reasons computed on the driver by the
local engine's own code. How it runs, on one machine and on a cluster: `serving.spark`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.pairs import workplace_arrays
from features.support import workplace_only_supports
from matching.candidates import CandidateTable, eligible_candidates, enrich_workplaces, workplaces_with_history
from matching.datasets import Dataset
from matching.records import load_catalogue
from matching.tracking import configure_tracking
from serving.batch import COLUMNS, REASON_COLUMNS, batch_reasons
from serving.loading import MODELS_URI, LoadedModel, load_ranker
from serving.spark.pairs import (
    KM_PER_DEGREE,
    candidate_frame,
    cell_degrees,
    generate_pairs,
    record_sides,
    workplace_frame,
)
from serving.spark.session import build_spark_session, pandas3_quiet, require_pyspark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def score_caseload_spark(
    dataset: Dataset,
    model_uri: str,
    tracking_uri: str,
    top_k: int = 10,
    exclude_unmet_required: bool = True,
    master: str = "local[2]",
    progress: Callable[[str], None] | None = None,
    spark: SparkSession | None = None,
    partitions: int | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Shortlists for the whole caseload, scored on Spark; the frame `serving.batch.score_caseload` gives.

    Args:
        dataset: the validated dataset (read on the driver).
        model_uri: `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `runs:/...` or a path.
        tracking_uri: the MLflow store holding the registry.
        top_k: workplaces per candidate.
        exclude_unmet_required: as in candidate generation.
        master: the Spark master, used when `spark` is not given (the session is then stopped at the end).
        progress: called with a line at each step and every few seconds while Spark works.
        spark: a session to reuse (left running).
        partitions: how many partitions the candidates are spread over (default 2 x the cores).

    Returns:
        The shortlists (candidate_id, rank, workplace_id, score, reason_1..3, model_version) and
        run figures (candidates, pairs, seconds, pairs_per_second). `seconds` runs from handing
        the data to Spark to the explained frame: starting Spark and loading the model on the
        driver are not in it.

    Raises:
        SparkNotInstalledError: pyspark is missing.
        JavaNotFoundError: Java is missing.
        SparkStartError: Spark did not start.
        ModelLoadError: the model cannot be loaded.
    """
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    say = progress or (lambda _message: None)
    require_pyspark()
    model = load_ranker(model_uri, tracking_uri)
    say(f"model {model.name} version {model.version}")
    own = spark is None
    if spark is None:
        say(f"starting Spark ({master})")
        spark = build_spark_session(master)
    try:
        return _score(spark, dataset, model, tracking_uri, top_k, exclude_unmet_required, partitions, say)
    finally:
        if own:
            spark.stop()


def pinned_uri(model: LoadedModel) -> str:
    """`models:/NAME/VERSION` for a registered model (an alias may move while Spark runs), else the URI."""
    if MODELS_URI.match(model.uri) and model.version:
        return f"models:/{model.name}/{model.version}"
    return model.uri


def _score(
    spark: SparkSession,
    dataset: Dataset,
    model: LoadedModel,
    tracking_uri: str,
    top_k: int,
    exclude_unmet_required: bool,
    partitions: int | None,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, dict[str, float]]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    catalogue = load_catalogue()
    candidates = CandidateTable.build(dataset.candidates, catalogue)
    raw_workplaces = workplaces_with_history(dataset.workplaces, dataset.outcomes)  # employer history up to now
    workplaces = enrich_workplaces(raw_workplaces, catalogue)
    w_arrays = workplace_arrays(workplaces, catalogue.vocabulary)
    rows = eligible_candidates(candidates.frame)
    n_open = int(np.sum(raw_workplaces["active"].to_numpy(dtype=bool) & (w_arrays["slots"] > 0)))
    started = time.perf_counter()
    configure_tracking(tracking_uri)
    udf = model_udf(spark, pinned_uri(model))
    left, right = record_sides(candidates.frame, raw_workplaces)
    inputs = model_inputs(udf, left + right)
    cell = cell_degrees(candidates.arrays["max_commute_km"][rows])
    partitions = partitions or max(2, 2 * spark.sparkContext.defaultParallelism)
    say(
        f"{len(rows)} active, consenting candidates against {n_open} open workplaces; grid cells of "
        f"{cell:.3f} degrees ({cell * KM_PER_DEGREE:.0f} km north-south), {partitions} partitions"
    )
    if len(rows) and n_open:
        c_frame = candidate_frame(spark, candidates.frame, [c for c in left if c in inputs], cell, partitions)
        w_frame = workplace_frame(spark, raw_workplaces, [c for c in right if c in inputs], cell)
        only = workplace_only_supports(catalogue.vocabulary)
        pairs = generate_pairs(c_frame, w_frame, only, exclude_unmet_required)
        scored = pairs.select("_c_pos", "_w_pos", udf(F.struct(*[F.col(c) for c in inputs])).alias("score"))
        best = Window.partitionBy("_c_pos").orderBy(F.desc("score"), F.asc("_w_pos"))
        chosen = scored.select(
            "_c_pos",
            "_w_pos",
            "score",
            F.row_number().over(best).alias("rank"),
            F.count(F.lit(1)).over(Window.partitionBy("_c_pos")).alias("_pairs"),
        ).where(F.col("rank") <= top_k)
        say("generating and scoring pairs on Spark")
        with _reporting(spark, say), pandas3_quiet():
            top = chosen.toPandas()
    else:
        top = pd.DataFrame({name: np.zeros(0, np.int64) for name in ("_c_pos", "_w_pos", "rank", "_pairs")})
        top["score"] = np.zeros(0)
    c_pos, rank = top["_c_pos"].to_numpy(np.int64), top["rank"].to_numpy(np.int64)
    order = np.lexsort((rank, c_pos))
    c_pos, rank = c_pos[order], rank[order]
    w_pos = top["_w_pos"].to_numpy(np.int64)[order]
    score = top["score"].to_numpy(np.float64)[order]
    n_pairs = int(top["_pairs"].to_numpy(np.int64)[order][rank == 1].sum())
    say(f"scored {n_pairs:,} pairs; explaining {len(c_pos):,} suggestions on the driver")
    frame = pd.DataFrame(
        {
            "candidate_id": candidates.frame["candidate_id"].to_numpy()[c_pos],
            "rank": rank.astype(np.int32),
            "workplace_id": workplaces["workplace_id"].to_numpy()[w_pos],
            "score": score,
        }
    )
    for column, values in zip(
        REASON_COLUMNS,
        batch_reasons(model.ranker, candidates.arrays, w_arrays, load_catalogue().vocabulary, c_pos, w_pos),
        strict=True,
    ):
        frame[column] = values
    frame["model_version"] = model.version
    seconds = time.perf_counter() - started
    figures = {
        "candidates": float(len(rows)),
        "pairs": float(n_pairs),
        "seconds": seconds,
        "pairs_per_second": n_pairs / max(seconds, 1e-9),
    }
    return frame[COLUMNS], figures


def model_udf(spark: SparkSession, uri: str) -> Any:
    """The registered pyfunc as a Spark UDF returning the score (a double per pair record)."""
    import mlflow.pyfunc

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its advice on env_manager="local" is answered in serving.spark's docstring
    try:
        with pandas3_quiet():
            return mlflow.pyfunc.spark_udf(spark, uri, result_type="double", env_manager="local")
    finally:
        logger.setLevel(level)


def model_inputs(udf: Any, columns: list[str]) -> list[str]:
    """The pair-record columns the model takes: its signature's, or every one when it has none.

    Raises:
        ValueError: when the signature requires a column the pair records lack.
    """
    metadata = getattr(udf, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is None or not schema.has_input_names():
        return columns
    missing = [name for name in schema.required_input_names() if name not in columns]
    if missing:
        raise ValueError(f"the model takes pair-record columns this dataset does not have: {', '.join(missing)}")
    return [name for name in schema.input_names() if name in columns]


@contextmanager
def _reporting(spark: SparkSession, say: Callable[[str], None], every: float = 15.0) -> Iterator[None]:
    """While the block runs, report the running Spark stages' tasks every `every` seconds."""
    tracker = spark.sparkContext.statusTracker()
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every):
            running = []
            for stage in tracker.getActiveStageIds():
                info = tracker.getStageInfo(stage)
                if info is not None:
                    running.append(f"stage {stage} {info.numCompletedTasks}/{info.numTasks} tasks")
            if running:
                say("spark: " + ", ".join(running))

    thread = threading.Thread(target=report, name="jobmatch-spark-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
