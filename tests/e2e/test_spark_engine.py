"""The Spark engine (`jobmatch score --engine spark`) against the local engine: the same pairs, the
same shortlists, scores (to the bit), ranks, tie-breaks and reasons, on a subset of the session's
trained dataset and model with copied workplaces (so scores tie); the model loaded once per Python
worker; the grid join's pairs equal to the ball tree's also where a grid goes wrong.

Without pyspark or Java the tests skip and say why, except under CI=true, where they fail: CI
installs the dev extras (pyspark) and has Java, so a missing one is a broken run."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates, meets_required_supports
from matching.datasets import Dataset
from serving.batch import score_caseload
from serving.spark.engine import score_caseload_spark
from serving.spark.pairs import candidate_frame, cell_degrees, generate_pairs, support_masks, workplace_frame
from serving.spark.session import (
    JavaNotFoundError,
    SparkNotInstalledError,
    build_spark_session,
    find_java,
    pandas3_quiet,
    require_pyspark,
)
from tests.conftest import Trained

pytestmark = pytest.mark.slow

MODEL_URI = "models:/jobmatch-ranker@champion"
SUBSET = 300
COPIES = 300  # workplaces copied under new ids: equal features, equal scores, a tie to break
TOP_K = 10
CORES = 2


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        require_pyspark()
        find_java()
    except (SparkNotInstalledError, JavaNotFoundError) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{error} (CI=true: the Spark engine's tests must run)")
        pytest.skip(f"Spark engine not testable here: {error}")
    session = build_spark_session(f"local[{CORES}]", app_name="jobmatch-test")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def subset(trained: Trained) -> Dataset:
    """The first candidates of the trained dataset, against every workplace and copies of some,
    with the dataset's outcomes (the employer history up to now both engines score with)."""
    candidates = trained.dataset.candidates.iloc[:SUBSET].reset_index(drop=True)
    workplaces = trained.dataset.workplaces
    history = set() if trained.dataset.outcomes is None else set(trained.dataset.outcomes["workplace_id"].astype(str))
    quiet = workplaces[~workplaces["workplace_id"].astype(str).isin(history)]  # same history as their copies
    copies = quiet.iloc[:COPIES].assign(workplace_id=lambda f: f["workplace_id"].astype(str) + "-copy")
    workplaces = pd.concat([copies, workplaces], ignore_index=True)  # the copies first: they win the ties
    return dataclasses.replace(trained.dataset, candidates=candidates, workplaces=workplaces, audit=None, truth=None)


@pytest.fixture(scope="module")
def runs(spark: Any, trained: Trained, subset: Dataset) -> list[tuple[pd.DataFrame, dict[str, float]]]:
    """Two Spark runs on one session: the second finds the model already loaded in the workers."""
    messages: list[str] = []
    out = [
        score_caseload_spark(
            subset, MODEL_URI, trained.tracking_uri, top_k=TOP_K, spark=spark, progress=messages.append
        )
        for _ in range(2)
    ]
    assert messages, "the Spark engine reports its progress"
    return out


@pytest.fixture(scope="module")
def local(trained: Trained, subset: Dataset) -> tuple[pd.DataFrame, dict[str, Any]]:
    return score_caseload(subset, trained.model, top_k=TOP_K)


def test_same_shortlists_scores_and_reasons(runs: Any, local: Any, trained: Trained) -> None:
    expected = local[0]
    assert len(expected) > 1000 and expected["candidate_id"].nunique() > 200  # a real comparison
    for frame, _ in runs:
        assert list(frame.columns) == list(expected.columns)
        assert frame.dtypes.to_dict() == expected.dtypes.to_dict()
        # everything equal, the scores to the bit: the same features from the same arrays, the same booster
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True)
        assert set(frame["model_version"]) == {trained.model.version}


def test_ties_are_broken_as_the_local_engine_does(runs: Any, local: Any) -> None:
    """A copied workplace scores as its original; the local engine ranks the one earlier in the
    table (the copy) first, and the Spark engine's lists equal the local engine's (above)."""
    expected = local[0]
    copies = expected[expected["workplace_id"].str.endswith("-copy")]
    copies = copies.assign(workplace_id=copies["workplace_id"].str.removesuffix("-copy"))
    tied = copies.merge(expected, on=["candidate_id", "workplace_id"], suffixes=("_copy", ""))
    assert len(tied) > 10, "copies reach the shortlists beside their originals"
    assert (tied["score_copy"] == tied["score"]).all()
    assert (tied["rank"] == tied["rank_copy"] + 1).all()
    for frame, _ in runs:
        pd.testing.assert_frame_equal(
            frame[["candidate_id", "rank", "workplace_id", "score"]],
            expected[["candidate_id", "rank", "workplace_id", "score"]],
        )


def test_same_pairs_and_candidates_counted(runs: Any, local: Any) -> None:
    for _, figures in runs:
        assert figures["pairs"] == local[1]["pairs"] > 0
        assert figures["candidates"] == local[1]["candidates"]
        assert figures["pairs_per_second"] > 0
        assert figures["worker_features_seconds"] > 0 and figures["worker_predict_seconds"] > 0


def test_the_model_is_loaded_once_per_worker(runs: Any) -> None:
    """At most one load per Python worker (local[2]: two), over eight partitions and two runs."""
    loads = [figures["model_loads"] for _, figures in runs]
    assert 1 <= loads[0] <= CORES
    assert sum(loads) <= CORES + 1  # a worker Spark retires between the runs loads it again


def test_same_pairs_as_the_ball_tree_on_the_subset(spark: Any, subset: Dataset) -> None:
    table = CandidateTable.build(subset.candidates)
    pool = WorkplacePool(subset.workplaces, outcomes=subset.outcomes)
    rows = eligible_candidates(table.frame)
    for exclude in (True, False):
        c_idx, w_idx = pool.generate_pairs(table.arrays, rows, exclude)
        got = _spark_pairs(spark, table, pool, rows, exclude)
        assert len(got) == len(c_idx) > 10_000
        assert got == set(zip(c_idx.tolist(), w_idx.tolist(), strict=True))


def test_pairs_match_the_ball_tree_across_the_antimeridian_and_poles(spark: Any, trained: Trained) -> None:
    """Grid join + exact filter give exactly `WorkplacePool.generate_pairs`' pairs, also where a
    grid goes wrong: near the poles, across longitude +-180, commutes longer than half the globe."""
    rng = np.random.default_rng(11)
    candidates = trained.dataset.candidates.iloc[:500].reset_index(drop=True).copy()
    workplaces = trained.dataset.workplaces.iloc[:1500].reset_index(drop=True).copy()

    def scatter(n: int) -> tuple[np.ndarray, np.ndarray]:
        kind = rng.integers(0, 4, n)
        polar = [rng.uniform(85, 90, n), rng.uniform(-90, -85, n)]
        lat = np.select([kind == 0, kind == 1], polar, rng.uniform(-30, 30, n))
        lon = np.where(kind == 2, rng.choice([-1.0, 1.0], n) * rng.uniform(178, 180, n), rng.uniform(-180, 180, n))
        return lat, lon

    candidates["lat"], candidates["lon"] = scatter(len(candidates))
    workplaces["lat"], workplaces["lon"] = scatter(len(workplaces))
    n = len(candidates)
    candidates["max_commute_km"] = np.where(rng.random(n) < 0.05, rng.uniform(1000, 25000, n), rng.uniform(1, 400, n))
    table, pool = CandidateTable.build(candidates), WorkplacePool(workplaces)
    rows = eligible_candidates(table.frame)
    for exclude in (True, False):
        c_idx, w_idx = pool.generate_pairs(table.arrays, rows, exclude)
        assert _spark_pairs(spark, table, pool, rows, exclude) == set(zip(c_idx.tolist(), w_idx.tolist(), strict=True))
        assert len(c_idx) > 1000


def _spark_pairs(
    spark: Any, table: CandidateTable, pool: WorkplacePool, rows: np.ndarray, exclude: bool
) -> set[tuple[int, int]]:
    """The grid join's pairs, checked to hold each pair once."""
    required, offered = support_masks(table.arrays["needs"], pool.arrays["offers"], pool.workplace_only, exclude)
    cell = cell_degrees(table.arrays["max_commute_km"][rows])
    c_frame = candidate_frame(spark, table.arrays, rows, required, cell, 4)
    w_frame = workplace_frame(spark, pool.arrays, pool.open_rows, offered, cell)
    with pandas3_quiet():
        got = generate_pairs(c_frame, w_frame).toPandas()
    pairs = list(zip(got["_c_pos"].tolist(), got["_w_pos"].tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a pair came out of two grid cells"
    return set(pairs)


@pytest.mark.parametrize("supports", [9, 70])
def test_support_masks_keep_the_pairs_meets_required_supports_keeps(supports: int) -> None:
    """The bit masks (one word per 62 supports) decide every pair as `meets_required_supports`."""
    rng = np.random.default_rng(supports)
    needs = rng.choice([0, 1, 2], size=(40, supports), p=[0.8, 0.1, 0.1]).astype(np.float64)
    offers = (rng.random((60, supports)) < 0.7).astype(np.float64)
    only = rng.random(supports) < 0.7
    c_idx, w_idx = (g.ravel() for g in np.meshgrid(np.arange(40), np.arange(60), indexing="ij"))
    for exclude in (True, False):
        required, offered = support_masks(needs, offers, only, exclude)
        kept = ((required[c_idx] & ~offered[w_idx]) == 0).all(axis=1)
        expected = meets_required_supports(needs, offers, c_idx, w_idx, only) if exclude else np.ones(len(c_idx), bool)
        np.testing.assert_array_equal(kept, expected)
        assert 0 < kept.sum() < len(kept) or not exclude
