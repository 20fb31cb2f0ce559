"""`jobmatch fairness --from-db`: the live loop's fairness by audit group (age band, gender), read
from the store: the share of persons with a shortlist and of suggestions accepted, pursued,
trialled and ending in a hire, each as a ratio to the best group, flagged under the four-fifths
rule (`matching.store.live_fairness`). Only counts per group are printed; the read is recorded in
the audit trail under the actor who ran it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING

from jobmatch.common import DATABASE_HELP, positive_int

if TYPE_CHECKING:
    from jobmatch.common import Subcommands

MIN_GROUP = 30  # matching.store.live_fairness.MIN_GROUP (the store is not imported to build the parser)


def iso_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_fairness(args: argparse.Namespace) -> int:
    from jobmatch.rights import cli_actor
    from matching.store.audit import record_audit
    from matching.store.db import make_engine, session_scope
    from matching.store.live_fairness import live_fairness
    from matching.store.schema import require_current

    engine = make_engine(args.database_url)
    try:
        require_current(engine)
        with session_scope(engine) as session:
            report = live_fairness(session, args.since, args.min_group)
            record_audit(
                session,
                cli_actor(args.actor),
                "cli",
                "read_live_fairness",
                "report",
                "live_fairness",
                {"since": report.since.isoformat() if report.since else None, "groups": len(report.groups)},
            )
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    return 0


def add_fairness(sub: Subcommands) -> None:
    p = sub.add_parser(
        "fairness",
        help="the live loop's fairness by audit group: shortlists, acceptances, trials and hires, "
        "with groups under 0.8 of the best flagged",
    )
    p.add_argument(
        "--from-db", action="store_true", required=True, help="read what happened in the store (shortlists to hires)"
    )
    p.add_argument("--database-url", default=None, help=DATABASE_HELP)
    p.add_argument(
        "--since", type=iso_day, default=None, help="count shortlists made on or after this day, YYYY-MM-DD (UTC)"
    )
    p.add_argument(
        "--min-group",
        type=positive_int,
        default=MIN_GROUP,
        help=f"groups with fewer persons are shown but not flagged (default {MIN_GROUP})",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--actor", default=None, help="who reads, for the audit trail (default: cli:<login name>)")
    p.set_defaults(run=cmd_fairness)
