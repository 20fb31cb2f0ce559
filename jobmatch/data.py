"""The data subcommands: `validate` and `generate` a contract dataset, `db upgrade` the store,
`load` a dataset into it and `export` it again."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch.common import DATABASE_HELP, positive_int, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands


def cmd_validate(args: argparse.Namespace) -> int:
    from features.history import history_warnings
    from matching.datasets import load_dataset
    from matching.records import DataContractError

    try:
        dataset = load_dataset(args.data)
    except DataContractError as error:
        if args.json:
            print(json.dumps([p.__dict__ for p in error.problems], indent=2))
        else:
            print(f"{args.data}: {len(error.problems)} problem(s)")
            for problem in error.problems:
                print(f"  - {problem}")
        return 1
    outcomes = 0 if dataset.outcomes is None else len(dataset.outcomes)
    fingerprint = dataset.fingerprint()
    summary = {
        "workplaces": len(dataset.workplaces),
        "candidates": len(dataset.candidates),
        "outcomes": outcomes,
        "audit": 0 if dataset.audit is None else len(dataset.audit),
        "truth": dataset.truth is not None,
        "fingerprint": fingerprint,
    }
    warnings = history_warnings(dataset.workplaces, dataset.outcomes)
    if args.json:
        print(json.dumps({"valid": True, **summary, "warnings": warnings}, indent=2))
    else:
        print(
            f"{args.data}: valid (contract v1): {summary['workplaces']} workplaces, "
            f"{summary['candidates']} candidates, "
            f"{outcomes} outcomes; fingerprint {fingerprint[:16]}"
        )
        for warning in warnings:
            print(f"  warning: {warning}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from training.synthetic import generate_dataset

    summary = generate_dataset(
        Path(args.out),
        args.candidates,
        args.workplaces,
        args.seed,
        variant=args.variant,
        fmt=args.format,
        progress=say,
    )
    print(json.dumps(summary, indent=2, default=str))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from matching.store.db import database_url, shown
    from matching.store.schema import upgrade

    revision = upgrade(args.database_url)
    print(f"{shown(database_url(args.database_url))}: schema at revision {revision}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from matching.store.contract import load_folder
    from matching.store.db import make_engine, shown

    engine = make_engine(args.database_url)
    try:
        report = load_folder(engine, args.data)
    finally:
        engine.dispose()
    print(f"loaded {args.data} into {shown(engine.url)}:")
    for line in report.lines():
        print(f"  {line}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from matching.store.contract import export_dataset
    from matching.store.db import make_engine, shown

    engine = make_engine(args.database_url)
    try:
        written = export_dataset(engine, args.out, args.format)
    finally:
        engine.dispose()
    counts = ", ".join(f"{n} {name}" for name, n in written.items())
    print(f"exported {shown(engine.url)} to {args.out}: {counts}")
    return 0


def add_validate(sub: Subcommands) -> None:
    p = sub.add_parser("validate", help="check a dataset against data contract v1 and list every problem")
    p.add_argument("--data", required=True, type=Path, help="dataset folder (NAME.parquet or NAME.csv tables)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_validate)


def add_generate(sub: Subcommands) -> None:
    p = sub.add_parser("generate", help="write a SYNTHETIC contract dataset (with a truth file for evaluation)")
    p.add_argument("--out", required=True, type=Path, help="folder to write")
    p.add_argument("--candidates", type=positive_int, default=2000, help="number of candidates (default 2000)")
    p.add_argument("--workplaces", type=positive_int, default=3000, help="number of workplaces (default 3000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--variant",
        choices=("standard", "alternative", "interactions", "thresholds"),  # training.synthetic.VARIANTS
        default="standard",
        help="ground truth to draw outcomes from",
    )
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="table file format")
    p.set_defaults(run=cmd_generate)


def add_db(sub: Subcommands) -> None:
    p = sub.add_parser("db", help="manage the database store")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    p = db_sub.add_parser("upgrade", help="create the store's schema or migrate it to the newest revision")
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.set_defaults(run=cmd_db_upgrade)


def add_load(sub: Subcommands) -> None:
    p = sub.add_parser(
        "load",
        help="validate a contract dataset and upsert it into the store (one transaction); where a record was "
        "changed in the service since, this later change wins, and the audit trail holds both",
    )
    p.add_argument("--data", required=True, type=Path, help="dataset folder (NAME.parquet or NAME.csv tables)")
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.set_defaults(run=cmd_load)


def add_export(sub: Subcommands) -> None:
    p = sub.add_parser("export", help="write the store as a contract dataset")
    p.add_argument("--out", required=True, type=Path, help="folder to write")
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="table file format")
    p.set_defaults(run=cmd_export)
