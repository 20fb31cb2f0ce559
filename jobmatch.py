"""The `jobmatch` command: the composition root, the one place that knows training and serving.

Each subcommand imports what it needs when it runs, so `jobmatch serve` never loads training code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_INVALID_DATA = 1
EXIT_BAD_INPUT = 2
EXIT_NO_MODEL = 3

SAMPLE_CANDIDATES = 1000
SAMPLE_WORKPLACES = 1500
SAMPLE_SEED = 7


def quiet_libraries() -> None:
    """Keep MLflow's advice and start-up chatter out of the command's output."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text}")
    return value


def port_number(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def cmd_validate(args: argparse.Namespace) -> int:
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
    summary = {
        "workplaces": len(dataset.workplaces),
        "candidates": len(dataset.candidates),
        "outcomes": outcomes,
        "audit": 0 if dataset.audit is None else len(dataset.audit),
        "truth": dataset.truth is not None,
        "fingerprint": dataset.fingerprint(),
    }
    if args.json:
        print(json.dumps({"valid": True, **summary}, indent=2))
    else:
        print(
            f"{args.data}: valid (contract v1): {summary['workplaces']} workplaces, "
            f"{summary['candidates']} candidates, "
            f"{outcomes} outcomes; fingerprint {summary['fingerprint'][:16]}"
        )
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


def cmd_train(args: argparse.Namespace) -> int:
    from matching.settings import get_settings
    from training.lifecycle import log_and_register
    from training.train import Progress, train_ranker

    settings = get_settings()
    progress = Progress(not args.quiet)
    data, stored = args.data, None
    if getattr(args, "from_db", False):
        data, stored = training_data_from_store(args.data, getattr(args, "database_url", None), progress)
    if data is None:
        raise ValueError("give --data DIR, --from-db, or both")
    result = train_ranker(
        data,
        seed=args.seed,
        exclude_unmet_required=settings.exclude_unmet_required,
        progress=progress,
        stored=stored,
    )
    print("\n".join(result.report_lines()))
    if args.no_register:
        return 0
    registration = log_and_register(result, settings.tracking_uri, settings.model_name, progress)
    print(f"run {registration.run_id}: registered {settings.model_name} version {registration.version}")
    print(registration.message)
    return 0


def training_data_from_store(data: Path | None, url: str | None, progress: Callable[[str], None]) -> tuple[Any, Any]:
    """The records to train on (the `--data` folder, else the store's records exported and validated)
    and the store's decided suggestions with the feature values the model saw."""
    import tempfile

    from matching.datasets import load_dataset
    from matching.store.contract import export_dataset
    from matching.store.db import make_engine, session_scope, shown
    from matching.store.outcomes import stored_outcomes

    engine = make_engine(url)
    try:
        progress(f"reading decisions and outcomes from {shown(engine.url)}")
        with session_scope(engine, readonly=True) as session:
            stored = stored_outcomes(session, with_features=True)
        if data is None:
            with tempfile.TemporaryDirectory() as tmp:
                export_dataset(engine, Path(tmp))
                dataset = load_dataset(tmp)
                dataset.path = None
            return dataset, stored
    finally:
        engine.dispose()
    return data, stored


def cmd_score(args: argparse.Namespace) -> int:
    from matching.datasets import load_dataset
    from matching.settings import get_settings
    from serving.batch import BatchOptions, CaseloadScorer, score_to_file, write_shortlists
    from serving.loading import load_ranker

    settings = get_settings()
    per_slot = args.per_slot if args.per_slot is not None else settings.suggestions_per_slot
    options = BatchOptions(
        top_k=args.top_k,
        exclude_unmet_required=settings.exclude_unmet_required,
        chunk_pairs=args.chunk_pairs,
        allocate=args.allocate,
        per_slot=per_slot,
        pool=max(args.pool, args.top_k),
        floor=min(args.floor, args.top_k),
    )
    if args.engine == "spark" and args.allocate:
        raise ValueError("--allocate runs on the local engine only (the allocation is one solve over the caseload)")
    if not args.ignore_off_switch:
        refuse_if_switched_off(settings.database_url)
    dataset = load_dataset(args.data, with_truth=False)
    model_uri = args.model or settings.model_uri
    if args.engine == "spark":
        from serving.spark_engine import score_caseload_spark

        say(f"scoring on Spark ({args.spark_master}) with {model_uri}")
        frame, figures = score_caseload_spark(
            dataset,
            model_uri,
            settings.tracking_uri,
            top_k=args.top_k,
            exclude_unmet_required=settings.exclude_unmet_required,
            master=args.spark_master,
            progress=say,
        )
        out = write_shortlists(frame, Path(args.out))
    else:
        model = load_ranker(model_uri, settings.tracking_uri)
        say(f"scoring with {model.name} version {model.version}")
        scorer = CaseloadScorer(dataset, model, options)
        say(
            f"{len(scorer.rows)} active, consenting candidates against {len(scorer.pool.open_rows)} open workplaces, "
            f"in {len(scorer.bounds)} chunks of about {args.chunk_pairs:,} pairs"
        )
        frame, figures = score_to_file(scorer, Path(args.out), say=say, bar=not args.no_progress)
        out = Path(args.out)
    if "allocation" in figures:
        print(allocation_report(figures["allocation"], args.top_k))
    peak = f", peak memory {figures['peak_memory_mb']:,.0f} MB" if "peak_memory_mb" in figures else ""
    print(
        f"wrote {len(frame)} suggestions for {int(figures['candidates'])} candidates to {out} "
        f"({int(figures['pairs']):,} pairs scored in {figures['seconds']:.1f}s, "
        f"{figures['pairs_per_second']:,.0f} pairs/s{peak})"
    )
    return 0


def refuse_if_switched_off(database_url: str | None) -> None:
    """Batch scoring follows the people's off-switch: a model switched off in the store (POST
    /model/off) scores no caseload either, until it is switched on again."""
    from matching.errors import ModelLoadError
    from matching.store.db import make_engine
    from matching.store.errors import StoreError
    from matching.store.schema import require_current
    from serving.deps import read_switch

    engine = make_engine(database_url)
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and (not database or not Path(database).exists()):
        return  # no store yet: nobody has switched anything off
    try:
        require_current(engine)
        switch = read_switch(engine)
    except StoreError:
        return  # no store, or not yet created: nobody has switched anything off
    finally:
        engine.dispose()
    if switch is not None and switch.mode == "rule":
        raise ModelLoadError(
            f"the model is switched off (by {switch.by} at {switch.at:%Y-%m-%d %H:%M}, reason: {switch.reason}); "
            "switch it on (POST /model/on) or pass --ignore-off-switch"
        )


def allocation_report(figures: dict[str, Any], top_k: int) -> str:
    """Independent top-k against the capacity-aware allocation, as a small table."""
    rows = [
        ("suggestions", "suggestions", "{:,.0f}"),
        ("expected success (sum of P(hired))", "expected_success", "{:,.1f}"),
        ("expected hires within free slots", "expected_hires_within_slots", "{:,.1f}"),
        (f"candidates with a full shortlist ({top_k})", "full_shortlists", "{:.1%}"),
        ("candidates without any suggestion", "without_suggestions", "{:.1%}"),
        ("open workplaces suggested at all", "workplaces_suggested", "{:.1%}"),
        ("most suggestions per free slot", "max_per_slot", "{:,.1f}"),
    ]
    lines = [
        f"allocation (at most {figures['per_slot']:g} suggestions per free slot, {figures['floor']} first for "
        f"everyone; solved in "
        f"{figures['solve_seconds']:.2f}s over {figures['arcs']:,} arcs):",
        f"  {'':42} {'independent top-k':>18} {'allocated':>12}",
    ]
    for label, key, fmt in rows:
        left, right = figures["independent"][key], figures["allocated"][key]
        lines.append(f"  {label:42} {fmt.format(left):>18} {fmt.format(right):>12}")
    return "\n".join(lines)


def cmd_drift(args: argparse.Namespace) -> int:
    from matching.datasets import load_dataset
    from matching.drift import drift_report
    from matching.settings import get_settings
    from serving.loading import load_ranker

    settings = get_settings()
    model = load_ranker(args.model or settings.model_uri, settings.tracking_uri)
    dataset = load_dataset(args.data, with_truth=False)
    say(f"comparing {args.data} with what {model.name} version {model.version} was trained on")
    report = drift_report(dataset, model.ranker, exclude_unmet_required=settings.exclude_unmet_required)
    print("\n".join(report.lines()))
    return 0


def serve(data: Path | None, host: str, port: int) -> int:
    import uvicorn

    from matching.settings import Settings
    from serving.app import create_app
    from serving.deps import ServiceState

    settings = Settings(**({"data_dir": data} if data else {}))
    say(f"loading {settings.data_dir} and {settings.model_uri}")
    state = ServiceState.load(settings)  # bad data fails here, with the contract's message
    if state.model is None:
        say(f"warning: no model is serving ({state.error}); /health says so until one is trained")
    else:
        say(f"model {state.model.name} version {state.model.version} loaded")
    say(f"serving on http://{host}:{port} (docs at /docs)")
    uvicorn.run(create_app(settings, state=state), host=host, port=port, log_level="info")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(args.data, args.host, args.port)


def cmd_up(args: argparse.Namespace) -> int:
    from matching.errors import ModelLoadError
    from matching.paths import sample_dir
    from matching.settings import get_settings

    settings = get_settings()
    data = Path(args.data) if args.data else sample_dir()
    if not any(data.glob("candidates.*")):
        from training.synthetic import generate_dataset

        say(f"no dataset in {data}: generating a synthetic sample ({SAMPLE_CANDIDATES} x {SAMPLE_WORKPLACES})")
        generate_dataset(data, SAMPLE_CANDIDATES, SAMPLE_WORKPLACES, SAMPLE_SEED, progress=say)
    from serving.loading import load_ranker

    try:
        loaded = load_ranker(settings.model_uri, settings.tracking_uri)
        say(f"{settings.model_uri} is version {loaded.version}")
    except ModelLoadError as error:
        say(f"{error}: training a champion on {data}")
        code = cmd_train(argparse.Namespace(data=data, seed=0, quiet=False, no_register=False))
        if code:
            return code
    from matching.datasets import load_dataset

    candidates = load_dataset(data).candidates
    local_keys(settings.api_keys_file, str(candidates["adviser_id"].iloc[0]))
    return serve(data, args.host, args.port)


def cmd_keys_add(args: argparse.Namespace) -> int:
    from matching.settings import get_settings
    from serving.auth import Identity, add_key

    path = args.file or get_settings().api_keys_file
    identity = Identity(name=args.name, role=args.role, adviser_id=args.adviser_id, employer_id=args.employer_id)
    key = add_key(path, identity)
    say(f"added a {args.role} key for {args.name} to {path}; it is shown only now:")
    print(key)
    return 0


def local_keys(path: Path, adviser_id: str) -> None:
    """On first start, keys for trying the service locally: an adviser with a caseload, a batch job,
    a data-protection officer. Printed once; only their hashes are kept."""
    from serving.auth import Identity, add_key, load_keys

    if load_keys(path):
        say(f"API keys: {path}")
        return
    say(f"no API keys yet: making local ones in {path} (shown only now; send as Authorization: Bearer KEY)")
    for identity in (
        Identity(name="local-adviser", role="adviser", adviser_id=adviser_id),
        Identity(name="local-batch", role="batch"),
        Identity(name="local-dpo", role="data_protection_officer"),
    ):
        say(
            f"  {identity.name} ({identity.role}{', caseload ' + adviser_id if identity.adviser_id else ''}): "
            f"{add_key(path, identity)}"
        )


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


def cli_actor(name: str | None) -> str:
    """Who runs a command, for the audit trail: --actor, else the login name."""
    import getpass

    return name or f"cli:{getpass.getuser()}"


def cmd_export_person(args: argparse.Namespace) -> int:
    from matching.store.audit import record_audit
    from matching.store.db import make_engine, session_scope, shown
    from matching.store.rights import person_record
    from matching.store.schema import require_current

    engine = make_engine(args.database_url)
    try:
        require_current(engine)
        with session_scope(engine) as session:
            record_audit(session, cli_actor(args.actor), "cli", "export_person", "candidate", args.candidate_id)
            record = person_record(session, args.candidate_id)  # unknown: NotFoundError, nothing recorded
    finally:
        engine.dispose()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o600)  # personal data: readable by the owner only
    tmp.replace(out)
    counts = ", ".join(
        f"{len(record[k])} {k}" for k in ("shortlists", "plans", "placements", "outcomes", "audit_trail")
    )
    print(f"exported everything {shown(engine.url)} holds about {args.candidate_id} to {out}: {counts}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from matching.settings import get_settings
    from matching.store.db import make_engine, session_scope, shown
    from matching.store.rights import erase_person
    from matching.store.schema import require_current

    key = get_settings().pseudonym_secret(create=True)
    assert key is not None  # create=True makes one
    engine = make_engine(args.database_url)
    try:
        require_current(engine)
        with session_scope(engine) as session:
            report = erase_person(session, args.candidate_id, key, cli_actor(args.actor), "cli", args.reason)
    finally:
        engine.dispose()
    deleted = ", ".join(f"{n} {table}" for table, n in report.deleted.items())
    print(f"erased {args.candidate_id} from {shown(engine.url)} (erasure {report.erasure_id}): deleted {deleted}")
    print(f"  {report.audit_pseudonymised} audit entries now name {report.pseudonym} instead")
    say(
        "note: a running API keeps this person in memory until restarted (DELETE /candidates/ID forgets them "
        "at once); erase them from the source dataset too: a later `jobmatch load` skips them, batch scoring "
        "and training from files do not"
    )
    return 0


def cmd_audit_purge(args: argparse.Namespace) -> int:
    from matching.settings import Settings, get_settings
    from matching.store.audit import apply_audit_retention
    from matching.store.db import make_engine, session_scope, shown
    from matching.store.schema import require_current

    settings = Settings(allow_short_audit_retention=True) if args.allow_short_retention else get_settings()
    engine = make_engine(args.database_url)
    try:
        require_current(engine)
        with session_scope(engine) as session:
            report = apply_audit_retention(
                session,
                settings.audit_retention_days,
                cli_actor(args.actor),
                "cli",
                dry_run=args.dry_run,
                allow_short=settings.allow_short_audit_retention,
            )
    finally:
        engine.dispose()
    verb = "would delete" if report.dry_run else "deleted"
    print(
        f"{shown(engine.url)}: {verb} {report.entries} audit entries older than {report.retention_days} days "
        f"(before {report.cutoff.isoformat(timespec='seconds')})"
        + (" (dry run: nothing deleted)" if args.dry_run else "")
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from serving.auth import ROLES

    parser = argparse.ArgumentParser(
        prog="jobmatch",
        description="Ranked, explained shortlists of workplaces for job seekers with extensive support needs. "
        "The model suggests; the adviser decides.",
        epilog="MLflow store: MLFLOW_TRACKING_URI (a directory or sqlite:///PATH); "
        "default: mlruns/mlflow.db in the project.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a dataset against data contract v1 and list every problem")
    p.add_argument("--data", required=True, type=Path, help="dataset folder (NAME.parquet or NAME.csv tables)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("generate", help="write a SYNTHETIC contract dataset (with a truth file for evaluation)")
    p.add_argument("--out", required=True, type=Path, help="folder to write")
    p.add_argument("--candidates", type=positive_int, default=2000, help="number of candidates (default 2000)")
    p.add_argument("--workplaces", type=positive_int, default=3000, help="number of workplaces (default 3000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--variant",
        choices=("standard", "alternative"),
        default="standard",
        help="ground truth to draw outcomes from",
    )
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="table file format")
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser("train", help="train, evaluate against baselines, log to MLflow, register, maybe promote")
    p.add_argument("--data", type=Path, default=None, help="dataset folder with an outcomes table")
    p.add_argument(
        "--from-db",
        action="store_true",
        help="learn from the store's decisions and outcomes (with the feature values the model saw); "
        "mixed with --data when given, else the store's own records",
    )
    p.add_argument(
        "--database-url", default=None, help="the store (default: JOBMATCH_DATABASE_URL or data/jobmatch.db)"
    )
    p.add_argument("--seed", type=int, default=0, help="LightGBM seed (default 0)")
    p.add_argument("--no-register", action="store_true", help="evaluate only; log and register nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("score", help="batch: shortlists for every active, consenting candidate")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument("--out", required=True, type=Path, help="parquet file to write")
    p.add_argument("--top-k", type=positive_int, default=10, help="workplaces per candidate (default 10)")
    p.add_argument("--model", help="model URI (default models:/jobmatch-ranker@champion)")
    p.add_argument(
        "--allocate",
        action="store_true",
        help="choose the shortlists for the whole caseload so no workplace is suggested to more than "
        "--per-slot candidates per free slot, maximising total expected success",
    )
    p.add_argument(
        "--per-slot",
        type=positive_float,
        default=None,
        help="with --allocate: suggestions per free slot (default JOBMATCH_SUGGESTIONS_PER_SLOT, 3)",
    )
    p.add_argument(
        "--pool",
        type=positive_int,
        default=50,
        help="with --allocate: each candidate's best pairs the allocation chooses from (default 50)",
    )
    p.add_argument(
        "--floor",
        type=int,
        default=3,
        help="with --allocate: suggestions every candidate gets first where capacity allows, before total "
        "expected success is maximised; 0 maximises the total alone (default 3)",
    )
    p.add_argument(
        "--chunk-pairs",
        type=positive_int,
        default=500_000,
        help="pairs scored at once; bounds memory (default 500000)",
    )
    p.add_argument("--engine", choices=("local", "spark"), default="local", help="where to score (default local)")
    p.add_argument(
        "--spark-master",
        default="local[2]",
        help="with --engine spark: the Spark master URL, e.g. local[2], spark://host:7077, yarn (default local[2])",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ignore-off-switch",
        action="store_true",
        help="score even when the model is switched off in the store (JOBMATCH_DATABASE_URL)",
    )
    p.set_defaults(run=cmd_score)

    p = sub.add_parser(
        "drift",
        help="compare new data's feature distributions with the champion's training data (PSI per feature)",
    )
    p.add_argument("--data", required=True, type=Path, help="dataset folder with the new data")
    p.add_argument("--model", help="model URI (default models:/jobmatch-ranker@champion)")
    p.set_defaults(run=cmd_drift)

    database_help = "database URL (default: JOBMATCH_DATABASE_URL, else sqlite:///<project>/data/jobmatch.db)"
    p = sub.add_parser("db", help="manage the database store")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    p = db_sub.add_parser("upgrade", help="create the store's schema or migrate it to the newest revision")
    p.add_argument("--database-url", default=None, help=database_help)
    p.set_defaults(run=cmd_db_upgrade)

    p = sub.add_parser("keys", help="manage API keys (only their hashes are stored)")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = keys_sub.add_parser("add", help="make a key for one identity and print it once")
    p.add_argument("--name", required=True, help="who holds the key (shown in the audit trail)")
    p.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="adviser, employer_contact, data_scientist, batch, data_protection_officer, or admin "
        "(switches the model off and on)",
    )
    p.add_argument("--adviser-id", default=None, help="an adviser's id: the caseload they may see")
    p.add_argument("--employer-id", default=None, help="an employer contact's employer")
    p.add_argument(
        "--file", type=Path, default=None, help="key file (default: JOBMATCH_API_KEYS_FILE or data/api-keys.json)"
    )
    p.set_defaults(run=cmd_keys_add)

    p = sub.add_parser("load", help="validate a contract dataset and upsert it into the store (one transaction)")
    p.add_argument("--data", required=True, type=Path, help="dataset folder (NAME.parquet or NAME.csv tables)")
    p.add_argument("--database-url", default=None, help=database_help)
    p.set_defaults(run=cmd_load)

    p = sub.add_parser("export", help="write the store as a contract dataset")
    p.add_argument("--out", required=True, type=Path, help="folder to write")
    p.add_argument("--database-url", default=None, help=database_help)
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="table file format")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("export-person", help="write everything the store holds about one person as JSON (access)")
    p.add_argument("--candidate-id", required=True, help="the person's candidate_id")
    p.add_argument("--out", required=True, type=Path, help="JSON file to write (personal data: mode 0600)")
    p.add_argument("--database-url", default=None, help=database_help)
    p.add_argument("--actor", default=None, help="who asks, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_export_person)

    p = sub.add_parser("erase", help="erase one person's personal data from the store; later loads skip them (erasure)")
    p.add_argument("--candidate-id", required=True, help="the person's candidate_id")
    p.add_argument("--reason", required=True, help="why (kept in the erasure register: no personal details)")
    p.add_argument("--database-url", default=None, help=database_help)
    p.add_argument("--actor", default=None, help="who erases, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_erase)

    p = sub.add_parser("audit", help="the audit trail")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = audit_sub.add_parser(
        "purge",
        help="delete audit entries older than JOBMATCH_AUDIT_RETENTION_DAYS (default 183) and record that it ran",
    )
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.add_argument(
        "--allow-short-retention",
        action="store_true",
        help="accept a retention period under six months (183 days): a deliberate, documented decision",
    )
    p.add_argument("--database-url", default=None, help=database_help)
    p.add_argument("--actor", default=None, help="who purges, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_audit_purge)

    for name, helptext, run in (
        ("serve", "serve the API for a dataset with the champion model", cmd_serve),
        ("up", "the main job: make the sample and a champion if missing, then serve", cmd_up),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--data", type=Path, default=None, help="dataset folder (default: the bundled sample)")
        p.add_argument(
            "--host", default=os.environ.get("JOBMATCH_HOST", "127.0.0.1"), help="address (default 127.0.0.1)"
        )
        p.add_argument(
            "--port",
            type=port_number,
            default=int(os.environ.get("JOBMATCH_PORT", "8000")),
            help="port (default 8000)",
        )
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; bad input ends with a clear message and a non-zero exit, never a traceback."""
    args = build_parser().parse_args(argv)
    quiet_libraries()
    from matching.errors import ModelLoadError
    from matching.records import DataContractError

    try:
        return int(args.run(args))
    except DataContractError as error:
        say(f"error: {error}")
        return EXIT_INVALID_DATA
    except ModelLoadError as error:
        say(f"error: {error}\nTrain and register a model first: jobmatch train --data DIR")
        return EXIT_NO_MODEL
    except (ValueError, OSError) as error:
        say(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
