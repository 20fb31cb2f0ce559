"""The trees compiled to machine code (lleaves), used only where they give LightGBM's scores to
the bit.

`Booster.predict` turns every row into LightGBM's sparse row format and walks each tree through
generic node arrays; a forest compiled to native code walks the same splits as straight-line
comparisons: the served champion's 20,000 rows in 2.4 ms on one thread against LightGBM's
13.5 ms on two. The forest is compiled without cache blocking, so it adds the trees in
LightGBM's order, and values LightGBM reads as zero (within 1e-35 of it) are given as zero, so its
raw scores are LightGBM's exactly. `compile_trees` checks that before the compiled forest is
used, on rows placed at, just below and just above every split threshold the model holds (and on
missing values), and returns None, so the caller keeps `Booster.predict`, when lleaves is not
installed, cannot compile the model, or differs from LightGBM in a single bit.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

log = logging.getLogger("jobmatch.matching")

CHECK_ROWS = 4096  # rows of the check against LightGBM (a few milliseconds)
# LightGBM reads a value within this distance of zero as zero (`kZeroThreshold`, a C float)
ZERO = float(np.float32(1e-35))
# compile time grows faster than the forest once its trees are inlined into one function (100
# trees of 3 leaves 0.2 s; 20 of 31 leaves 0.5 s; 200 of 31 leaves 20-40 s here), so larger
# forests are compiled tree by tree (200 of 31 leaves 1.7 s, still 1.5x LightGBM on two threads)
INLINE_LEAVES = 1_500
MAX_LEAVES = 30_000  # beyond this the compile would hold up a start for long: LightGBM scores


class CompiledTrees:
    """A booster's trees as native code: `predict(matrix)` gives `Booster.predict(matrix,
    raw_score=True)` on one thread, releasing the interpreter lock while it runs."""

    def __init__(self, model: Any, n_features: int) -> None:
        self._model = model
        self.n_features = n_features

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} feature values, got shape {matrix.shape}")
        values = np.ascontiguousarray(matrix, dtype=np.float64)
        magnitude = np.abs(matrix)
        near_zero = magnitude <= ZERO
        # LightGBM reads a value within 1e-35 of zero as 0; only one that is not 0 already (rare:
        # counted, not searched for) needs rewriting, in a copy (-0.0 compares as 0.0 anyway)
        if np.count_nonzero(near_zero) != np.count_nonzero(magnitude == 0):
            values = np.where(near_zero, 0.0, values)
        return np.asarray(self._model.predict(values, n_jobs=1))


def compile_trees(booster: lgb.Booster) -> CompiledTrees | None:
    """The booster's trees compiled and checked against LightGBM, or None (with the reason in the
    log) when they cannot be used."""
    try:
        import lleaves
    except ImportError:
        log.info("lleaves is not installed: the trees are scored by LightGBM")
        return None
    trees = booster.dump_model()["tree_info"]  # read once: for the size and the check's rows
    leaves = sum(int(tree["num_leaves"]) for tree in trees)
    if leaves > MAX_LEAVES:
        log.info("%d leaves are too many to compile quickly: the trees are scored by LightGBM", leaves)
        return None
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="jobmatch-trees-") as folder:
            path = Path(folder) / "model.txt"
            path.write_text(booster.model_to_string(), encoding="utf-8")
            model = lleaves.Model(model_file=str(path))
            # no cache blocking: the trees are added one after another, as LightGBM adds them
            model.compile(raw_score=True, fblocksize=max(1, booster.num_trees()), finline=leaves <= INLINE_LEAVES)
    except Exception as error:  # any failure leaves LightGBM's own predict in place
        log.warning("the trees could not be compiled (%s); they are scored by LightGBM", error)
        return None
    compiled = CompiledTrees(model, booster.num_feature())
    rows = check_rows(booster, trees=trees)
    expected = np.asarray(booster.predict(rows, raw_score=True, validate_features=False), dtype=np.float64)
    if not np.array_equal(compiled.predict(rows), expected, equal_nan=True):
        log.warning("the compiled trees differ from LightGBM's scores; they are scored by LightGBM")
        return None
    log.info("%d trees compiled and checked in %.2f s", booster.num_trees(), time.perf_counter() - started)
    return compiled


def check_rows(
    booster: lgb.Booster, n: int = CHECK_ROWS, seed: int = 0, trees: list[dict[str, Any]] | None = None
) -> np.ndarray:
    """Rows (float32, as feature matrices are) whose every value is one of its feature's split
    thresholds, LightGBM's zero bounds or zero, or the float32 value next to one either side, or
    missing: each tree's every comparison is met at its edges. `trees`: the booster's
    `dump_model()["tree_info"]` when already read."""
    values: list[set[float]] = [{0.0, ZERO, -ZERO} for _ in range(booster.num_feature())]

    def visit(node: dict[str, Any]) -> None:
        if "split_feature" in node:
            threshold = node["threshold"]
            if isinstance(threshold, int | float):
                values[int(node["split_feature"])].add(float(threshold))
            visit(node["left_child"])
            visit(node["right_child"])

    for tree in booster.dump_model()["tree_info"] if trees is None else trees:
        visit(tree["tree_structure"])
    rng = np.random.default_rng(seed)
    limit = float(np.finfo(np.float32).max)  # a larger threshold is beyond every float32 value
    columns = []
    for found in values:
        edges = np.clip(np.array(sorted(found)), -limit, limit).astype(np.float32)
        with np.errstate(over="ignore"):  # next to the largest float32 is infinity: a value too
            below, above = np.nextafter(edges, np.float32(-np.inf)), np.nextafter(edges, np.float32(np.inf))
        column = np.concatenate([edges, below, above, [np.nan]]).astype(np.float32)
        columns.append(rng.choice(column, size=n))
    return np.column_stack(columns).astype(np.float32)
