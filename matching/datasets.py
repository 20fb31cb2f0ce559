"""Load, validate and write contract datasets (a folder of parquet or CSV tables)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matching.records import (
    REQUIRED_TABLES,
    Catalogue,
    DataContractError,
    Problem,
    check_references,
    load_catalogue,
    table_schemas,
    validate_table,
)

TABLES = ("workplaces", "candidates", "outcomes", "audit")
TRUTH_TABLE = "truth"


@dataclass
class Dataset:
    """A validated contract dataset. `truth` exists only for synthetic data; training never fits on it."""

    workplaces: pd.DataFrame
    candidates: pd.DataFrame
    outcomes: pd.DataFrame | None = None
    audit: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    path: Path | None = None

    def fingerprint(self) -> str:
        """A sha256 over the contract tables' contents (not their file format, nor row order)."""
        digest = hashlib.sha256()
        for name in TABLES:
            frame = getattr(self, name)
            if frame is None:
                continue
            digest.update(name.encode())
            digest.update(",".join(frame.columns).encode())
            digest.update(np.sort(hash_frame(frame)).tobytes())  # row order does not matter
        return digest.hexdigest()


def join_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with list cells (e.g. `preferred_occupations`) joined by `;`, as in CSV."""
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].dtype != object:
            continue
        values = flat[column]
        first = values.dropna().head(50)
        if any(isinstance(v, list | tuple | np.ndarray) for v in first):
            flat[column] = values.map(
                lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple | np.ndarray) else v
            )
    return flat


def hash_frame(frame: pd.DataFrame) -> np.ndarray:
    """Row hashes of a table, with list cells joined by `;` so they can be hashed."""
    return pd.util.hash_pandas_object(join_lists(frame), index=False).to_numpy()


def find_table(folder: Path, name: str) -> Path | None:
    """The file holding table `name` in `folder`, or None if there is none.

    Raises:
        DataContractError: when both a parquet and a CSV file hold the table.
    """
    found = [folder / f"{name}.{ext}" for ext in ("parquet", "csv") if (folder / f"{name}.{ext}").exists()]
    if len(found) > 1:
        raise DataContractError([Problem(name, "", None, f"both {name}.parquet and {name}.csv exist; keep one")])
    return found[0] if found else None


def read_table(path: Path) -> pd.DataFrame:
    """Read one table file as raw values (validation gives them their contract types).

    Raises:
        DataContractError: when the file cannot be read as parquet or CSV.
    """
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=True)
    except Exception as error:  # any reader failure is bad input, reported as such
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise DataContractError([Problem(path.stem, "", None, f"cannot read {path.name}: {reason}")]) from error


def load_dataset(folder: str | Path, catalogue: Catalogue | None = None, with_truth: bool = True) -> Dataset:
    """Load and validate a dataset folder.

    Args:
        folder: a folder with `workplaces` and `candidates` tables and optionally `outcomes`
            and `audit`, each as `NAME.parquet` or `NAME.csv`.
        catalogue: the reference catalogue; defaults to the project's copy.
        with_truth: read a synthetic dataset's truth file too (one row per eligible pair: tens
            of millions of rows for a national caseload, so scoring leaves it unread).

    Returns:
        The dataset with contract types.

    Raises:
        DataContractError: listing every problem found, when the folder breaks the contract.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataContractError([Problem("dataset", "", None, f"no such folder: {folder}")])
    catalogue = catalogue or load_catalogue()
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        try:
            path = find_table(folder, name)
        except DataContractError as error:
            problems.extend(error.problems)
            continue
        if path is None:
            if name in REQUIRED_TABLES:
                problems.append(Problem(name, "", None, f"missing table: expected {name}.parquet or {name}.csv"))
            continue
        try:
            raw = read_table(path)
        except DataContractError as error:
            problems.extend(error.problems)
            continue
        tables[name], found = validate_table(name, raw, catalogue)
        problems.extend(found)
    if all(name in tables for name in REQUIRED_TABLES):
        problems.extend(check_references(tables))
    truth_path = None
    try:
        truth_path = find_table(folder, TRUTH_TABLE)
    except DataContractError as error:
        problems.extend(error.problems)
    if problems:
        raise DataContractError(problems)
    truth = None if truth_path is None or not with_truth else read_truth(truth_path)
    return Dataset(
        workplaces=tables["workplaces"],
        candidates=tables["candidates"],
        outcomes=tables.get("outcomes"),
        audit=tables.get("audit"),
        truth=truth,
        path=folder,
    )


def read_truth(path: Path) -> pd.DataFrame:
    """The synthetic truth file: the true expected grade of every eligible pair (evaluation only).

    Raises:
        DataContractError: when a column is missing or an expected grade is not a number in [0, 4].
    """
    truth = read_table(path)
    missing = [c for c in ("candidate_id", "workplace_id", "expected_grade") if c not in truth.columns]
    if missing:
        raise DataContractError([Problem(TRUTH_TABLE, c, None, "missing column") for c in missing])
    grade = pd.to_numeric(truth["expected_grade"], errors="coerce")
    bad = np.flatnonzero(~grade.between(0, 4).to_numpy())
    if len(bad):
        raise DataContractError(
            [Problem(TRUTH_TABLE, "expected_grade", int(r), "must be a number in [0, 4]") for r in bad[:50]]
        )
    truth["candidate_id"] = truth["candidate_id"].astype(str)
    truth["workplace_id"] = truth["workplace_id"].astype(str)
    truth["expected_grade"] = grade.astype(float)
    return truth


def write_table(frame: pd.DataFrame, folder: Path, name: str, fmt: str = "parquet") -> Path:
    """Write one table in contract form (CSV lists joined by `;`), via a temporary file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{fmt}"
    tmp = folder / f".{name}.{fmt}.tmp"
    if fmt == "csv":
        join_lists(frame).to_csv(tmp, index=False)
    else:
        frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def contract_columns(name: str) -> list[str]:
    """The contract's column names for table `name`, in contract order."""
    return [column.name for column in table_schemas()[name]]
