"""The servable ranker: registered as an MLflow pyfunc that takes raw candidate and workplace
records, computes the registry's features and scores them with the LightGBM booster (its raw
score: the log of the expected grade for a Poisson booster, so per-feature contributions add up to
it; plus the linear base when the booster was fitted on top of one).

Training builds it; the API and batch load it, so serving never imports training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel

from features.compute import feature_matrix
from features.pairs import PairFrame, candidate_arrays, workplace_arrays
from features.registry import feature_names, registry_fingerprint
from matching.candidates import enrich_workplaces
from matching.compiled import CompiledTrees, compile_trees
from matching.errors import ModelMismatchError
from matching.records import Catalogue, DataContractError, Problem, load_catalogue, table_schemas, validate_table

BOOSTER_FILE = "ranker.txt"
META_FILE = "ranker.json"
SHARED_COLUMNS = ("lat", "lon", "active")


@dataclass(frozen=True)
class LinearBase:
    """The linear part of the score: `sum_j weight_j * (x_j - mean_j) / scale_j`.

    The booster is fitted on top of it (LightGBM's init score), so the served score is
    `linear + booster`. Weights carry each feature's declared direction (or are 0).
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weight: tuple[float, ...]

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature linear contributions, one row per pair."""
        return (
            (np.asarray(matrix, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale) * np.array(self.weight)
        )

    def score(self, matrix: np.ndarray) -> np.ndarray:
        slope = np.array(self.weight) / np.array(self.scale)
        return np.asarray(matrix, dtype=np.float64) @ slope - float(np.dot(slope, self.mean))

    def as_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "scale": list(self.scale), "weight": list(self.weight)}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> LinearBase:
        return cls(tuple(data["mean"]), tuple(data["scale"]), tuple(data["weight"]))

    @classmethod
    def zero(cls, n: int) -> LinearBase:
        return cls((0.0,) * n, (1.0,) * n, (0.0,) * n)


@dataclass
class Ranker:
    """The booster with what it needs to score raw records: feature names, the linear base it
    was boosted from, and the catalogue."""

    booster: lgb.Booster
    features: list[str]
    registry: str
    catalogue: Catalogue
    meta: dict[str, Any] = field(default_factory=dict)
    linear: LinearBase | None = None
    _paths: tuple[list[np.ndarray], float] | None = field(default=None, init=False, repr=False, compare=False)
    # the trees as native code (`matching.compiled`), set for a loaded model when they give
    # LightGBM's scores exactly; None: `Booster.predict`
    compiled: CompiledTrees | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def base(self) -> LinearBase:
        """The linear base (all-zero weights for a booster fitted without one)."""
        return self.linear or LinearBase.zero(len(self.features))

    def check_compatible(self) -> None:
        """Raise `ModelMismatchError` unless the model's features are the code's features."""
        if self.features != feature_names():
            raise ModelMismatchError(f"model features {self.features} differ from the code's {feature_names()}")
        if list(self.booster.feature_name()) != self.features:
            raise ModelMismatchError("the booster's feature names differ from the model's metadata")

    def features_of(self, pairs: PairFrame) -> np.ndarray:
        """The feature matrix of `pairs` (registry order)."""
        return feature_matrix(pairs)

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """Ranking scores (higher is better; comparable within one candidate's list)."""
        if len(matrix) == 0:
            return np.zeros(0)
        values = np.asarray(matrix, dtype=np.float64)  # converted once for both parts (same values)
        return self.base.score(values) + self.tree_scores(values)

    def tree_scores(self, matrix: np.ndarray) -> np.ndarray:
        """The trees' part of `score`, row by row: the raw score (before a Poisson model's exp),
        what the contributions add up to less the linear base. Unlike the base's (one matrix
        product, whose rounding can depend on the rows it is given with), each row's tree score
        is the same whatever rows come with it, so batch jobs can predict in slices."""
        if len(matrix) == 0:
            return np.zeros(0)
        if self.compiled is not None:
            return self.compiled.predict(matrix)
        return np.asarray(self.booster.predict(matrix, raw_score=True, validate_features=False), dtype=np.float64)

    def expected_success(self, scores: np.ndarray) -> np.ndarray:
        """P(hired | score): the Platt calibration fitted at training, `1/(1+exp(-(slope*score+intercept)))`.

        Unlike ranking scores, these compare across candidates and workplaces (for capacity-aware
        allocation, congestion penalties). Fitted on logged (adviser-suggested) pairs, so it is
        P(hired) for a pair like those advisers suggest; see `meta["calibration"]`.

        Raises:
            ModelMismatchError: when the model was trained before calibration existed.
        """
        calibration = self.meta.get("calibration")
        if not isinstance(calibration, dict) or "slope" not in calibration or "intercept" not in calibration:
            raise ModelMismatchError(
                "the model predates calibration (no meta['calibration']): it has no expected success;"
                " retrain it (jobmatch train) to use expected_success"
            )
        z = float(calibration["slope"]) * np.asarray(scores, dtype=np.float64) + float(calibration["intercept"])
        return np.asarray(np.exp(-np.logaddexp(0.0, -z)), dtype=np.float64)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature contributions (TreeSHAP), last column the bias. Costly: only served rows."""
        if len(matrix) == 0:
            return np.zeros((0, len(self.features) + 1))
        out = np.asarray(self.booster.predict(matrix, pred_contrib=True), dtype=np.float64)
        out[:, : len(self.features)] += self.base.contributions(matrix)
        return out

    def path_contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature contributions by decision path (Saabas), last column the bias.

        Each split on a row's path credits its feature with the change in the tree's expected
        value. Like TreeSHAP the columns add up to the score; unlike it, the cost is one leaf
        lookup per tree, so batch jobs can explain every suggestion they write.
        """
        if len(matrix) == 0:
            return np.zeros((0, len(self.features) + 1))
        tables, bias = self._path_tables()
        leaves = np.asarray(self.booster.predict(matrix, pred_leaf=True), dtype=np.int64).reshape(len(matrix), -1)
        credit = self.base.contributions(matrix)
        for t, table in enumerate(tables):
            credit += table[leaves[:, t]]
        return np.column_stack([credit, np.full(len(matrix), bias)])

    def _path_tables(self) -> tuple[list[np.ndarray], float]:
        """Per tree, per leaf: the feature credits along the path to that leaf; and the bias."""
        if self._paths is not None:
            return self._paths
        n = len(self.features)
        tables: list[np.ndarray] = []
        bias = 0.0
        for tree in self.booster.dump_model()["tree_info"]:
            root = tree["tree_structure"]
            table = np.zeros((max(int(tree["num_leaves"]), 1), n))
            if "leaf_index" in root:  # a tree that is a single leaf
                bias += float(root["leaf_value"])
                tables.append(table)
                continue
            bias += float(root["internal_value"])
            stack: list[tuple[dict[str, Any], np.ndarray]] = [(root, np.zeros(n))]
            while stack:
                node, credit = stack.pop()
                value = float(node["internal_value"])
                for side in ("left_child", "right_child"):
                    child = node[side]
                    child_value = float(child["leaf_value"] if "leaf_index" in child else child["internal_value"])
                    step = credit.copy()
                    step[int(node["split_feature"])] += child_value - value
                    if "leaf_index" in child:
                        table[int(child["leaf_index"])] = step
                    else:
                        stack.append((child, step))
            tables.append(table)
        self._paths = (tables, bias)
        return self._paths

    def save(self, folder: Path) -> dict[str, str]:
        """Write the booster and metadata; returns the artifact map for `log_model`."""
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / BOOSTER_FILE))
        meta = {
            **self.meta,
            "features": self.features,
            "registry": self.registry,
            "linear": self.base.as_dict(),
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return {"booster": str(folder / BOOSTER_FILE), "meta": str(folder / META_FILE)}

    @classmethod
    def load(cls, booster_path: str | Path, meta_path: str | Path, catalogue_dir: str | Path | None) -> Ranker:
        meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
        booster = lgb.Booster(model_file=str(booster_path))
        catalogue = load_catalogue(Path(catalogue_dir) if catalogue_dir else None)
        linear = LinearBase.from_dict(meta["linear"]) if "linear" in meta else None
        ranker = cls(booster, list(meta["features"]), str(meta["registry"]), catalogue, meta, linear)
        ranker.compiled = compile_trees(booster)  # a served model scores many rows: compile it once
        return ranker

    @classmethod
    def from_booster(
        cls, booster: lgb.Booster, meta: dict[str, Any] | None = None, linear: LinearBase | None = None
    ) -> Ranker:
        return cls(booster, feature_names(), registry_fingerprint(), load_catalogue(), meta or {}, linear)


def pair_records(
    candidates: pd.DataFrame, workplaces: pd.DataFrame, c_idx: np.ndarray, w_idx: np.ndarray
) -> pd.DataFrame:
    """One row per pair with the candidate's and the workplace's contract columns.

    Columns both tables have (`lat`, `lon`, `active`) are prefixed `candidate_` / `workplace_`.
    """
    left = candidates.iloc[c_idx].reset_index(drop=True)
    right = workplaces.iloc[w_idx].reset_index(drop=True)
    left = left.rename(columns={c: f"candidate_{c}" for c in SHARED_COLUMNS if c in left})
    right = right.rename(columns={c: f"workplace_{c}" for c in SHARED_COLUMNS if c in right})
    right = right.drop(columns=[c for c in right.columns if c in left.columns or c.startswith("interest_")])
    return pd.concat([left, right], axis=1)


def split_pair_records(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inverse of `pair_records`: validated candidate and workplace frames, row i = pair i.

    Raises:
        DataContractError: naming the column and row of every bad value.
    """
    frames = {}
    problems: list[Problem] = []
    for table, prefix in (("candidates", "candidate_"), ("workplaces", "workplace_")):
        columns = {}
        for column in table_schemas()[table]:
            source = f"{prefix}{column.name}" if column.name in SHARED_COLUMNS else column.name
            if source in records.columns:
                columns[column.name] = records[source].to_numpy()
        frame = pd.DataFrame(columns, index=range(len(records)))
        if "active" not in frame:
            frame["active"] = True
        if table == "candidates" and "consent" not in frame:
            frame["consent"] = True
        if table == "candidates" and "candidate_id" not in frame:
            frame["candidate_id"] = [f"pair-{i}" for i in range(len(records))]
        if table == "workplaces" and "workplace_id" not in frame:
            frame["workplace_id"] = [f"pair-{i}" for i in range(len(records))]
        frame, found = validate_table(table, frame)
        unique_rule = "duplicate id"
        problems.extend(p for p in found if p.rule != unique_rule)
        frames[table] = frame
    if problems:
        raise DataContractError(problems)
    return frames["candidates"], frames["workplaces"]


class RankerModel(PythonModel):
    """MLflow pyfunc: pair records in (see `pair_records`), one score per pair out."""

    def __init__(self) -> None:
        self.ranker: Ranker | None = None

    def load_context(self, context: Any) -> None:
        artifacts = context.artifacts
        self.ranker = Ranker.load(artifacts["booster"], artifacts["meta"], artifacts.get("catalogue"))
        self.ranker.check_compatible()

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if self.ranker is None:
            self.load_context(context)
        ranker = self.ranker
        if ranker is None:
            raise ModelMismatchError("the model's artifacts did not load")
        return pd.DataFrame({"score": score_pair_records(ranker, model_input)})


def score_pair_records(ranker: Ranker, records: pd.DataFrame) -> np.ndarray:
    """Scores for pair records: the same features and booster as the API and batch use."""
    candidates, workplaces = split_pair_records(records)
    workplaces = enrich_workplaces(workplaces, ranker.catalogue)
    vocabulary = ranker.catalogue.vocabulary
    index = np.arange(len(records))
    pairs = PairFrame(
        candidate_arrays(candidates, vocabulary),
        workplace_arrays(workplaces, vocabulary),
        index,
        index,
        vocabulary,
    )
    return ranker.score(ranker.features_of(pairs))
