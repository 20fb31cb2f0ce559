"""Contract datasets in and out of the store: `load_dataset_into` upserts a validated dataset in
one transaction; `export_dataset` writes the store back as a contract dataset; `served_records`
reads the persons or workplaces a worker serves (all, or the ones the change log names).

The store holds the contract columns only (extra columns of a dataset are not kept), and it
never deletes on load: a record missing from a later dataset stays. Store-only columns (a
person's display name, a workplace's job specialist) are neither loaded nor exported, and a load
leaves them as they are. Every person or workplace a load inserts or changes is logged in the
change log (source `load`), as an edit through the API is (source `api`): the later change wins.
Exports are sorted by each table's key (code-point order, the same on every backend) and always
carry the optional `outcomes.reason` column (empty where no reason was stored).

A person in the erasure register (`matching.store.rights.erase_person`) is never loaded again:
their `candidates`, `outcomes` and `audit` rows are skipped and counted, so the same source data
does not bring them back. Recognising them takes the pseudonym key; when the register holds
anyone and the key is missing or another one, the load fails and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from matching.datasets import TABLES, Dataset, load_dataset, write_table
from matching.records import Column, table_schemas
from matching.store.audit import record_audit
from matching.store.base import Base
from matching.store.changes import record_changes
from matching.store.db import database_errors, session_scope
from matching.store.errors import StoreError
from matching.store.models import CHANGE_TABLES, CONTRACT_MODELS
from matching.store.rights import erased_among, has_erasures
from matching.store.schema import require_current

# Natural key of each contract table: what a reload matches rows on.
KEYS: dict[str, tuple[str, ...]] = {
    "workplaces": ("workplace_id",),
    "candidates": ("candidate_id",),
    "outcomes": ("candidate_id", "workplace_id", "suggested_on"),
    "audit": ("candidate_id",),
}
FORMATS = ("parquet", "csv")
ID_BATCH = 500  # ids per IN list when reading some records (SQLite limits a statement's parameters)


@dataclass
class TableCounts:
    """What a load did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_erased: int = 0
    updated_ids: tuple[str, ...] = ()  # the records this load changed (persons and workplaces)


@dataclass
class LoadReport:
    """What a load did, table by table (in load order)."""

    tables: dict[str, TableCounts] = field(default_factory=dict)
    erased_ids: set[str] = field(default_factory=set)

    @property
    def changed(self) -> int:
        return sum(c.inserted + c.updated for c in self.tables.values())

    def lines(self) -> list[str]:
        return [
            f"{name}: {c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged"
            + (f", {c.skipped_erased} skipped (erased persons)" if c.skipped_erased else "")
            for name, c in self.tables.items()
        ]


def load_folder(engine: Engine, folder: str | Path, pseudonym_key: bytes | None = None) -> LoadReport:
    """Validate a dataset folder, then upsert it into the store in one transaction.

    Args:
        engine: the store (at the newest schema revision).
        folder: a contract dataset folder.
        pseudonym_key: the key of the erasure register; default the settings' (read only when the
            register holds anyone).

    Returns:
        Counts of inserted, updated and unchanged rows per table.

    Raises:
        DataContractError: when the folder breaks the contract; nothing is written.
        SchemaError: when the database has no schema or an old one.
        DatabaseUnavailableError: when the database cannot be reached.
    """
    dataset = load_dataset(folder)
    return load_dataset_into(engine, dataset, pseudonym_key)


def load_dataset_into(engine: Engine, dataset: Dataset, pseudonym_key: bytes | None = None) -> LoadReport:
    """Upsert a validated dataset: new rows are inserted, changed rows updated, equal rows left alone.

    Everything happens in one transaction, so a failure leaves the store as it was. Loading the
    same dataset twice changes nothing the second time. Rows are compared and written in bulk
    (one read and at most two batched statements per table), not one ORM object at a time.
    Erased persons are skipped (`LoadReport.erased_ids` names them, for the caller's own
    in-memory copy of the dataset; they are not written anywhere).

    Raises:
        SchemaError: when the database has no schema or an old one.
        DatabaseUnavailableError: when the database cannot be reached.
        StoreError: (field `pseudonym_key`) when the erasure register holds anyone and the
            pseudonym key is missing or not the one it was written with; nothing is written.
    """
    require_current(engine)
    report = LoadReport()
    with database_errors(engine), session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            # Concurrent loads would race between reading and writing the same keys; API writes
            # to other tables are not blocked (foreign key checks need only ROW SHARE).
            session.execute(text(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
        for name in TABLES:  # parents first: workplaces, candidates, then outcomes and audit
            frame = getattr(dataset, name)
            if frame is None:
                report.tables[name] = TableCounts()
                continue
            frame, skipped = without_erased(session, frame, pseudonym_key, report.erased_ids)
            # upsert_table checks the register again (for its other callers): with the same key
            counts = (
                upsert_table(session, name, frame)
                if pseudonym_key is None
                else upsert_table(session, name, frame, pseudonym_key)
            )
            counts.skipped_erased += skipped
            report.tables[name] = counts
        _audit_load(session, report)
    return report


LOAD_ACTOR = ("jobmatch load", "import")
"""Who a load is audited as (actor, role)."""


def _audit_load(session: Session, report: LoadReport) -> None:
    """The load in the audit trail: one entry with its counts, and one per person or workplace
    it changed (where a live edit came before, the trail then holds both, the later last)."""
    actor, role = LOAD_ACTOR
    counts = {name: {"inserted": c.inserted, "updated": c.updated} for name, c in report.tables.items()}
    record_audit(session, actor, role, "load", "dataset", "load", {"tables": counts})
    for name, subject in (("candidates", "candidate"), ("workplaces", "workplace")):
        for record_id in report.tables[name].updated_ids if name in report.tables else ():
            record_audit(session, actor, role, f"load_{subject}", subject, record_id, {"source": "load"})


def _register_key(pseudonym_key: bytes | None) -> bytes | None:
    if pseudonym_key is not None:
        return pseudonym_key
    from matching.settings import get_settings

    return get_settings().pseudonym_secret()


def without_erased(
    session: Session, frame: pd.DataFrame, pseudonym_key: bytes | None = None, erased: set[str] | None = None
) -> tuple[pd.DataFrame, int]:
    """`frame` without the rows of erased persons (by its `candidate_id` column), and how many were dropped.

    Args:
        session: the transaction (reads the erasure register).
        frame: a contract table; one without `candidate_id` comes back as it is.
        pseudonym_key: the register's key; default the settings' (read only when the register
            holds anyone).
        erased: a set to add the erased persons' ids to (in memory only).

    Raises:
        StoreError: (field `pseudonym_key`) when the register holds anyone and the key is
            missing or another one.
    """
    if "candidate_id" not in frame.columns or not len(frame) or not has_erasures(session):
        return frame, 0
    ids = frame["candidate_id"].astype(str)
    gone = erased_among(session, ids.unique().tolist(), _register_key(pseudonym_key))
    if not gone:
        return frame, 0
    keep = ~ids.isin(gone).to_numpy()
    if erased is not None:
        erased.update(gone)
    return frame[keep], int((~keep).sum())


def upsert_table(
    session: Session, name: str, frame: pd.DataFrame, pseudonym_key: bytes | None = None, source: str = "load"
) -> TableCounts:
    """Upsert one validated contract table, matching rows on the table's natural key.

    Rows of erased persons (`candidates`, `outcomes` and `audit` rows whose candidate is in the
    erasure register) are skipped and counted in `skipped_erased`: an upsert never brings an
    erased person back. Only contract columns are written: the store-only ones (a person's
    display name, a workplace's job specialist) keep their values. Every inserted or updated
    `candidates` or `workplaces` row is logged in the change log (`matching.store.changes`) with
    `source`, so whichever change comes later wins and both are on record.

    Raises:
        StoreError: (field `pseudonym_key`) when the register holds anyone and the key is
            missing or another one.
    """
    model = CONTRACT_MODELS[name]
    schema = table_schemas()[name]
    columns = [c.name for c in schema]
    key = KEYS[name]
    frame, skipped = without_erased(session, frame, pseudonym_key)
    incoming = records_of(frame, schema)
    has_id = "id" in model.__table__.c
    selected = [model.__table__.c[c] for c in columns] + ([model.__table__.c["id"]] if has_id else [])
    existing: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
    query = select(*selected)
    if len(key) == 1 and len(incoming) <= ID_BATCH:  # a few records (an edit through the API): read only those
        query = query.where(model.__table__.c[key[0]].in_([values[columns.index(key[0])] for values in incoming]))
    for row in session.execute(query):
        values = tuple(row[: len(columns)])
        existing[tuple(values[columns.index(k)] for k in key)] = (values, row[-1] if has_id else None)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    counts = TableCounts()
    for values in incoming:
        row_key = tuple(values[columns.index(k)] for k in key)
        found = existing.get(row_key)
        record = dict(zip(columns, values, strict=True))
        if found is None:
            inserts.append(record)
        elif found[0] != values:
            if has_id:
                record["id"] = found[1]
            updates.append(record)
        else:
            counts.unchanged += 1
    if inserts:
        session.execute(insert(model), inserts)
    if updates:
        session.execute(update(model), updates)
    counts.inserted, counts.updated = len(inserts), len(updates)
    counts.updated_ids = tuple(str(r[key[0]]) for r in updates) if name in CHANGE_TABLES else ()
    if name in CHANGE_TABLES and (inserts or updates):
        record_changes(session, name, [str(r[key[0]]) for r in (*inserts, *updates)], source)
    counts.skipped_erased = skipped
    return counts


def _converter(column: Column) -> Callable[[pd.Series], list[Any]]:
    """How one contract column becomes plain Python values for the database."""
    if column.kind == "float":
        return lambda s: s.astype(float).tolist()
    if column.kind == "int":
        return lambda s: s.astype("int64").tolist()
    if column.kind == "bool":
        return lambda s: s.astype(bool).tolist()
    if column.kind == "codes":
        return lambda s: [[str(code) for code in v] for v in s]
    if column.kind == "date":
        return lambda s: [None if pd.isna(v) else v.date() for v in pd.to_datetime(s)]
    return lambda s: [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in s]


def records_of(frame: pd.DataFrame, schema: Sequence[Column]) -> list[tuple[Any, ...]]:
    """The rows of a validated table as tuples of plain Python values, in `schema` order.

    A column the frame lacks (only optional ones, such as `outcomes.reason`) becomes None.
    """
    values = [_converter(c)(frame[c.name]) if c.name in frame.columns else [None] * len(frame) for c in schema]
    return list(zip(*values, strict=True)) if values else []


def table_frame(session: Session, name: str, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """One stored contract table as a frame with contract types and columns, sorted by its key.

    Args:
        session: the transaction to read in.
        name: the contract table.
        ids: only the rows whose first key column (`candidate_id`, `workplace_id`) is one of
            these; None for every row.
    """
    model: type[Base] = CONTRACT_MODELS[name]
    schema = table_schemas()[name]
    statement = select(*[model.__table__.c[c.name] for c in schema])
    rows: list[Any] = []
    if ids is None:
        rows.extend(session.execute(statement).all())
    else:
        wanted = sorted({str(i) for i in ids})
        key = model.__table__.c[KEYS[name][0]]
        for start in range(0, len(wanted), ID_BATCH):
            rows.extend(session.execute(statement.where(key.in_(wanted[start : start + ID_BATCH]))).all())
    data: dict[str, Any] = {}
    for i, column in enumerate(schema):
        values = [row[i] for row in rows]
        if column.kind == "float":
            data[column.name] = pd.Series(values, dtype="float64")
        elif column.kind == "int":
            data[column.name] = pd.Series(values, dtype="int64")
        elif column.kind == "bool":
            data[column.name] = pd.Series(values, dtype="bool")
        elif column.kind == "date":
            data[column.name] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
        else:
            data[column.name] = pd.Series(values, dtype=object)
    frame = pd.DataFrame(data, columns=[c.name for c in schema])
    return sort_by_key(frame, KEYS[name])


def served_records(session: Session, table: str, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The persons or workplaces as the service serves them, straight from the store: contract
    columns in the contract's order and types (as `load_dataset` gives them), sorted by id.

    A worker rebuilds its tables with all rows (`ids` None) or patches the rows the change log
    names (`matching.store.changes.changes_since`): an asked-for id that does not come back is
    gone (an erased person's rows are deleted, so they never appear).

    Raises:
        StoreError: (field `table`) for a table other than `candidates` or `workplaces`.
    """
    if table not in CHANGE_TABLES:
        raise StoreError(f"must be one of {', '.join(CHANGE_TABLES)}, not {table!r}", field="table")
    return table_frame(session, table, ids)


def sort_by_key(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """`frame` sorted by `key` in code-point order (not the database's collation), index reset."""
    # pandas compares object columns with Python's `<`, which is code-point order
    return frame.sort_values(list(key), kind="stable").reset_index(drop=True)


def outcomes_frame(session: Session) -> pd.DataFrame:
    """The outcomes an export writes: the stored `outcomes` table, plus the outcomes the record
    implies (decided suggestions graded by the furthest stage their placement reached). Where both
    hold the same candidate, workplace and day, the record's grade wins."""
    from matching.store.outcomes import stored_outcomes

    loaded = table_frame(session, "outcomes")
    derived = stored_outcomes(session)
    if derived.empty:
        return loaded
    key = ["candidate_id", "workplace_id", "suggested_on"]
    derived = derived[[c for c in loaded.columns if c in derived.columns]]
    merged = pd.concat([loaded, derived], ignore_index=True).drop_duplicates(key, keep="last")
    return sort_by_key(merged, key)


def export_dataset(engine: Engine, out: Path, fmt: str = "parquet") -> dict[str, int]:
    """Write the store as a contract dataset to folder `out`.

    `workplaces` and `candidates` are always written; `outcomes` and `audit` only when they hold
    rows. Contract tables already in `out` (either format) are replaced; other files are left.

    Returns:
        Rows written per table.

    Raises:
        ValueError: for an unknown format.
        SchemaError: when the database has no schema or an old one.
        DatabaseUnavailableError: when the database cannot be reached.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    require_current(engine)
    with database_errors(engine), session_scope(engine, readonly=True) as session:
        frames = {name: table_frame(session, name) for name in ("workplaces", "candidates", "audit")}
        frames["outcomes"] = outcomes_frame(session)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        for ext in FORMATS:
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    written: dict[str, int] = {}
    for name in TABLES:
        frame = frames[name]
        if name in ("outcomes", "audit") and frame.empty:
            continue
        write_table(frame, out, name, fmt)
        written[name] = len(frame)
    return written
