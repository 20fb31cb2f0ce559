"""The Spark engine (`jobmatch score --engine spark`) against the local engine: the same pairs, the
same shortlists, scores and reasons, on a subset of the session's trained dataset and model.

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

from features.support import workplace_only_supports
from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.datasets import Dataset
from matching.records import load_catalogue
from serving.batch import score_caseload
from serving.spark.engine import score_caseload_spark
from serving.spark.pairs import candidate_frame, cell_degrees, generate_pairs, record_sides, workplace_frame
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
TOP_K = 10


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        require_pyspark()
        find_java()
    except (SparkNotInstalledError, JavaNotFoundError) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{error} (CI=true: the Spark engine's tests must run)")
        pytest.skip(f"Spark engine not testable here: {error}")
    session = build_spark_session("local[2]", app_name="jobmatch-test")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def subset(trained: Trained) -> Dataset:
    """The first candidates of the trained dataset, against every workplace."""
    candidates = trained.dataset.candidates.iloc[:SUBSET].reset_index(drop=True)
    return dataclasses.replace(trained.dataset, candidates=candidates, outcomes=None, audit=None, truth=None)


@pytest.fixture(scope="module")
def both(
    spark: Any, trained: Trained, subset: Dataset
) -> tuple[tuple[pd.DataFrame, dict[str, float]], tuple[pd.DataFrame, dict[str, Any]]]:
    messages: list[str] = []
    on_spark = score_caseload_spark(
        subset, MODEL_URI, trained.tracking_uri, top_k=TOP_K, spark=spark, progress=messages.append
    )
    assert messages, "the Spark engine reports its progress"
    local = score_caseload(subset, trained.model, top_k=TOP_K)
    return on_spark, local


def test_same_shortlists_scores_and_reasons(both: Any, trained: Trained) -> None:
    (frame, _), (expected, _) = both
    assert len(expected) > 1000 and expected["candidate_id"].nunique() > 200  # a real comparison
    assert list(frame.columns) == list(expected.columns)
    assert frame.dtypes.to_dict() == expected.dtypes.to_dict()
    exact = [c for c in expected.columns if c != "score"]
    pd.testing.assert_frame_equal(frame[exact].reset_index(drop=True), expected[exact].reset_index(drop=True))
    np.testing.assert_allclose(frame["score"].to_numpy(), expected["score"].to_numpy(), rtol=1e-9, atol=0)
    assert set(frame["model_version"]) == {trained.model.version}


def test_same_pairs_and_candidates_counted(both: Any) -> None:
    (_, figures), (_, expected) = both
    assert figures["pairs"] == expected["pairs"] > 0
    assert figures["candidates"] == expected["candidates"]
    assert figures["pairs_per_second"] > 0


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
    left, right = record_sides(table.frame, workplaces)
    cell = cell_degrees(table.arrays["max_commute_km"][rows])
    c_frame = candidate_frame(spark, table.frame, left, cell, 4)
    w_frame = workplace_frame(spark, workplaces, right, cell)
    for exclude in (True, False):
        c_idx, w_idx = pool.generate_pairs(table.arrays, rows, exclude)
        supports = workplace_only_supports(load_catalogue().vocabulary)
        with pandas3_quiet():
            got = generate_pairs(c_frame, w_frame, supports, exclude).select("_c_pos", "_w_pos").toPandas()
        pairs = list(zip(got["_c_pos"].tolist(), got["_w_pos"].tolist(), strict=True))
        assert len(pairs) == len(set(pairs)), "a pair came out of two grid cells"
        assert set(pairs) == set(zip(c_idx.tolist(), w_idx.tolist(), strict=True))
        assert len(c_idx) > 1000
