"""The person's rights and the audit trail from the command line: `export-person` (access),
`erase` (erasure) and `audit purge` (retention). Each is recorded in the audit trail under the
actor who ran it."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch.common import DATABASE_HELP, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands


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


def add_export_person(sub: Subcommands) -> None:
    p = sub.add_parser("export-person", help="write everything the store holds about one person as JSON (access)")
    p.add_argument("--candidate-id", required=True, help="the person's candidate_id")
    p.add_argument("--out", required=True, type=Path, help="JSON file to write (personal data: mode 0600)")
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.add_argument("--actor", default=None, help="who asks, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_export_person)


def add_erase(sub: Subcommands) -> None:
    p = sub.add_parser("erase", help="erase one person's personal data from the store; later loads skip them (erasure)")
    p.add_argument("--candidate-id", required=True, help="the person's candidate_id")
    p.add_argument("--reason", required=True, help="why (kept in the erasure register: no personal details)")
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.add_argument("--actor", default=None, help="who erases, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_erase)


def add_audit(sub: Subcommands) -> None:
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
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.add_argument("--actor", default=None, help="who purges, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_audit_purge)
