"""Data contract v1: the vocabulary, the table schemas and their validation.

A dataset is a folder with up to four tables (`workplaces`, `candidates`, `outcomes`, `audit`).
Every rule here reports every problem it finds, each naming table, column, row and rule, so that
a data owner can fix a whole file in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from matching.paths import reference_dir

CONTRACT_VERSION = "1"


@dataclass(frozen=True)
class Vocabulary:
    """The names behind the contract's columns, fixed by the reference catalogue."""

    riasec: tuple[str, ...]
    activities: tuple[str, ...]
    contexts: tuple[str, ...]
    supports: tuple[str, ...]
    support_descriptions: dict[str, str] = field(hash=False, compare=False)
    # who can arrange each support: "workplace" (only the workplace can give it) or
    # "support_system" (the support system can bring it, through `schemes[support][lang]`)
    arranged_by: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    schemes: dict[str, dict[str, str]] = field(default_factory=dict, hash=False, compare=False)

    def support_system_can_arrange(self, support: str) -> bool:
        """Whether the support system can bring `support` itself (a grant, aids, a job coach);
        otherwise only the workplace can give it. A catalogue that does not say: the workplace."""
        return self.arranged_by.get(support, "workplace") == "support_system"

    def scheme(self, support: str, lang: str = "en") -> str | None:
        """The scheme the support usually comes from, in `lang` ("en" or "no"), or None."""
        return self.schemes.get(support, {}).get(lang)


@dataclass(frozen=True)
class Catalogue:
    """The vocabulary plus the occupations with their O*NET-derived levels."""

    vocabulary: Vocabulary
    occupations: pd.DataFrame = field(hash=False, compare=False)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.occupations["occupation_code"])

    def title(self, code: str, language: str = "en") -> str:
        """The occupation's title in `language` ("en" or "no"), or the code if unknown."""
        return self._titles(language).get(code, code)

    @cache  # noqa: B019  (one catalogue per process; the cache lives as long as it does)
    def _titles(self, language: str) -> dict[str, str]:
        return dict(
            zip(
                self.occupations["occupation_code"],
                self.occupations[f"title_{language}"].astype(str),
                strict=True,
            )
        )


@cache
def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load the reference catalogue shipped under `data/reference/catalogue/`.

    Args:
        directory: a folder holding `vocabulary.json` and `occupations.csv`; defaults to the
            project's own copy.

    Returns:
        The catalogue.
    """
    folder = directory or reference_dir() / "catalogue"
    raw = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    vocabulary = Vocabulary(
        riasec=tuple(raw["riasec"]),
        activities=tuple(raw["activities"]),
        contexts=tuple(raw["contexts"]),
        supports=tuple(raw["supports"]),
        support_descriptions=dict(raw["support_descriptions"]),
        arranged_by={s: str(a["arranged_by"]) for s, a in raw.get("support_arrangement", {}).items()},
        schemes={
            s: {lang: str(a[f"scheme_{lang}"]) for lang in ("en", "no") if f"scheme_{lang}" in a}
            for s, a in raw.get("support_arrangement", {}).items()
        },
    )
    occupations = pd.read_csv(folder / "occupations.csv", dtype={"occupation_code": str})
    return Catalogue(vocabulary=vocabulary, occupations=occupations)


@dataclass(frozen=True)
class Column:
    """One column of a contract table and the rules its values obey."""

    name: str
    kind: str  # "str", "float", "int", "bool", "date", "codes" (list of occupation codes)
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    required: bool = True
    unique: bool = False
    allowed: tuple[int, ...] | None = None
    occupation: bool = False


@dataclass(frozen=True)
class Problem:
    """One violation of the data contract."""

    table: str
    column: str
    row: int | None
    rule: str
    value: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        at = f" row {self.row}" if self.row is not None else ""
        shown = f" (value: {self.value})" if self.value else ""
        return f"{where}{at}: {self.rule}{shown}"


class DataContractError(ValueError):
    """A dataset breaks data contract v1; `problems` lists every violation found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} data contract problem(s):\n{lines}{tail}")


def _levels(prefix: str, names: Iterable[str]) -> list[Column]:
    return [Column(f"{prefix}{n}", "float", 0.0, 1.0) for n in names]


@cache
def table_schemas() -> dict[str, tuple[Column, ...]]:
    """The four tables of data contract v1, column by column, in contract order."""
    voc = load_catalogue().vocabulary
    workplaces = [
        Column("workplace_id", "str", unique=True),
        Column("employer_id", "str"),
        Column("occupation_code", "str", occupation=True),
        Column("lat", "float", -90.0, 90.0),
        Column("lon", "float", -180.0, 180.0),
        Column("hours_per_week", "float", 1.0, 40.0),
        Column("slots", "int", 0.0),
        *_levels("task_", voc.activities),
        *_levels("demand_", voc.contexts),
        *[Column(f"offers_{s}", "bool") for s in voc.supports],
        Column("past_placements", "int", 0.0),
        Column("past_hires", "int", 0.0),
        Column("active", "bool"),
    ]
    candidates = [
        Column("candidate_id", "str", unique=True),
        Column("adviser_id", "str"),
        Column("lat", "float", -90.0, 90.0),
        Column("lon", "float", -180.0, 180.0),
        Column("max_commute_km", "float", 0.0, low_open=True),
        Column("desired_hours", "float", 1.0, 40.0),
        Column("preferred_occupations", "codes"),
        *_levels("interest_", voc.riasec),
        *_levels("skill_", voc.activities),
        *_levels("tolerance_", voc.contexts),
        *[Column(f"needs_{s}", "int", allowed=(0, 1, 2)) for s in voc.supports],
        Column("consent", "bool"),
        Column("active", "bool"),
    ]
    outcomes = [
        Column("candidate_id", "str"),
        Column("workplace_id", "str"),
        Column("suggested_on", "date"),
        Column("grade", "int", allowed=(0, 1, 2, 3, 4)),
        Column("reason", "str", required=False),
    ]
    audit = [
        Column("candidate_id", "str", unique=True),
        Column("age_band", "str"),
        Column("gender", "str"),
    ]
    return {
        "workplaces": tuple(workplaces),
        "candidates": tuple(candidates),
        "outcomes": tuple(outcomes),
        "audit": tuple(audit),
    }


REQUIRED_TABLES = ("workplaces", "candidates")
TRUE_WORDS = {"true", "1", "yes", "t", "y"}
FALSE_WORDS = {"false", "0", "no", "f", "n"}


def _rows(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _coerce_bool(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(bool), np.zeros(len(series), dtype=bool)
    text = series.astype("string").str.strip().str.lower()
    is_true = text.isin(TRUE_WORDS).to_numpy(dtype=bool, na_value=False)
    is_false = text.isin(FALSE_WORDS).to_numpy(dtype=bool, na_value=False)
    bad = ~(is_true | is_false)
    return pd.Series(is_true, index=series.index), bad


def _coerce_codes(series: pd.Series) -> pd.Series:
    def as_list(value: object) -> list[str]:
        if value is None:
            return []
        if isinstance(value, float) and np.isnan(value):
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(";") if part.strip()]
        if isinstance(value, Iterable):
            return [str(v).strip() for v in value if str(v).strip()]
        return [str(value)]

    return series.map(as_list)


def _check_column(
    table: str, column: Column, series: pd.Series, codes: frozenset[str]
) -> tuple[pd.Series, list[Problem]]:
    """Coerce one column to its contract type and list the rows that break its rules."""
    problems: list[Problem] = []

    def report(rows: list[int], rule: str, values: pd.Series | None = None) -> None:
        for r in rows:
            shown = "" if values is None else str(values.iloc[r])[:60]
            problems.append(Problem(table, column.name, r, rule, shown))

    missing = series.isna().to_numpy()
    if column.kind == "codes":
        lists = _coerce_codes(series)
        for r, items in enumerate(lists):
            for code in items:
                if code not in codes:
                    problems.append(Problem(table, column.name, r, "unknown occupation code", code))
        return lists, problems
    if missing.any() and column.required:
        report(_rows(missing), "missing value")
    if column.kind == "str":
        out = series.astype("string").str.strip()
        if not column.required:  # an empty optional text is a missing one, in CSV and parquet alike
            out = out.mask(out == "")
        if column.required:
            empty = (out == "").to_numpy(dtype=bool, na_value=False)
            report(_rows(empty), "empty value")
        if column.occupation:
            unknown = ~out.isin(codes).to_numpy(dtype=bool, na_value=False) & ~missing
            report(_rows(unknown), "unknown occupation code", out)
        if column.unique:
            dup = out.duplicated(keep="first").to_numpy(dtype=bool, na_value=False) & ~missing
            report(_rows(dup), "duplicate id", out)
        return out.astype(object), problems
    if column.kind == "bool":
        out, bad = _coerce_bool(series)
        report(_rows(bad & ~missing), "not a boolean (use true/false)", series)
        return out, problems
    if column.kind == "date":
        # one unit whatever the file format, so a dataset's fingerprint does not depend on it
        dates = pd.to_datetime(series, errors="coerce").astype("datetime64[ns]")
        report(_rows(dates.isna().to_numpy() & ~missing), "not a date (use YYYY-MM-DD)", series)
        return dates, problems
    if pd.api.types.is_bool_dtype(series):
        numbers = pd.Series(np.nan, index=series.index)
        report(_rows(~missing), "not a number", series)
    else:
        numbers = pd.to_numeric(series, errors="coerce")
        report(_rows(numbers.isna().to_numpy() & ~missing), "not a number", series)
    values = numbers.to_numpy(dtype=float)
    finite = np.isfinite(values)
    report(_rows(~finite & ~numbers.isna().to_numpy()), "not a finite number", series)
    if column.kind == "int":
        fractional = finite & (values != np.round(values))
        report(_rows(fractional), "not a whole number", series)
    if column.low is not None:
        below = finite & ((values <= column.low) if column.low_open else (values < column.low))
        sign = ">" if column.low_open else ">="
        report(_rows(below), f"must be {sign} {column.low:g}", series)
    if column.high is not None:
        report(_rows(finite & (values > column.high)), f"must be <= {column.high:g}", series)
    if column.allowed is not None:
        outside = finite & ~np.isin(values, column.allowed)
        allowed = ", ".join(str(a) for a in column.allowed)
        report(_rows(outside), f"must be one of {allowed}", series)
    if column.kind == "int":
        return pd.Series(np.where(finite, values, 0).astype(np.int64), index=series.index), problems
    return pd.Series(np.where(finite, values, np.nan), index=series.index), problems


def validate_table(
    table: str, frame: pd.DataFrame, catalogue: Catalogue | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check one table against the contract and return it with contract types.

    Args:
        table: the table's contract name.
        frame: the raw table as read from parquet or CSV.
        catalogue: the reference catalogue; defaults to the project's copy.

    Returns:
        The table restricted to contract columns (extra columns are kept after them) with
        contract types, and the list of problems found in it.
    """
    codes = (catalogue or load_catalogue()).codes
    schema = table_schemas()[table]
    problems: list[Problem] = []
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in schema:
        if column.name not in frame.columns:
            if column.required:
                problems.append(Problem(table, column.name, None, "missing column"))
            continue
        values, found = _check_column(table, column, frame[column.name], codes)
        out[column.name] = values
        problems.extend(found)
    extra = [c for c in frame.columns if c not in out.columns]
    for name in extra:
        out[name] = frame[name]
    if table == "workplaces" and {"past_hires", "past_placements"} <= set(out.columns):
        over = (out["past_hires"] > out["past_placements"]).to_numpy()
        for r in _rows(over):
            problems.append(
                Problem(
                    table,
                    "past_hires",
                    r,
                    "past_hires > past_placements",
                    f"{out['past_hires'].iloc[r]} > {out['past_placements'].iloc[r]}",
                )
            )
    return out, problems


def check_references(tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """Cross-table rules: outcomes and audit rows must name known candidates and workplaces."""
    problems: list[Problem] = []
    candidates = set(tables["candidates"].get("candidate_id", pd.Series(dtype=object)))
    workplaces = set(tables["workplaces"].get("workplace_id", pd.Series(dtype=object)))
    for table, column, known, what in (
        ("outcomes", "candidate_id", candidates, "unknown candidate"),
        ("outcomes", "workplace_id", workplaces, "unknown workplace"),
        ("audit", "candidate_id", candidates, "unknown candidate"),
    ):
        frame = tables.get(table)
        if frame is None or column not in frame.columns:
            continue
        unknown = ~frame[column].isin(known).to_numpy()
        for r in _rows(unknown):
            problems.append(Problem(table, column, r, f"names an {what}", str(frame[column].iloc[r])))
    outcomes = tables.get("outcomes")
    if outcomes is not None and {"candidate_id", "workplace_id", "suggested_on"} <= set(outcomes):
        dup = outcomes.duplicated(["candidate_id", "workplace_id", "suggested_on"]).to_numpy()
        for r in _rows(dup):
            problems.append(Problem("outcomes", "workplace_id", r, "duplicate outcome for the same pair and date"))
    return problems
