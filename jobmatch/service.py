"""The service subcommands: `serve` the API, `up` (the main job: a sample and a champion if
missing, local keys on first start, then serve) and `keys add|list|revoke`. Serving never loads
training code; only `up` does, when it has to train a first champion."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch.common import ArgumentsWhenUsed, port_number, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands

SAMPLE_CANDIDATES = 1000
SAMPLE_WORKPLACES = 1500
SAMPLE_SEED = 7
# How long an idle client connection stays open. Uvicorn's default (5 s) is shorter than the time an
# adviser reads a shortlist, so most requests paid for a new connection; a proxy in front keeps its
# own connections to the service open and needs the service to wait longer than it does (nginx: 60 s).
KEEP_ALIVE_SECONDS = 75


def serve(data: Path | None, host: str, port: int, workers: int = 1) -> int:
    """Serve the API with `workers` processes on one port (uvicorn supervises them and starts a new
    one in place of one that dies). Each worker builds its own app from the environment
    (`serving.workers.create_worker_app`), so the dataset folder is passed on as
    `JOBMATCH_DATA_DIR`; what the workers must agree on lives in the store."""
    import uvicorn

    from matching.errors import ModelLoadError
    from matching.settings import Settings
    from serving.loading import alias_version
    from serving.state import ServiceState
    from serving.workers import FACTORY, SUPERVISOR_ENV

    if data:
        os.environ["JOBMATCH_DATA_DIR"] = str(data)  # the workers read their settings from the environment
    settings = Settings()
    say(f"loading {settings.data_dir} and {settings.model_uri}")
    ServiceState.prepare(settings)  # schema and first import, once before any worker; bad data fails here
    try:
        version = alias_version(settings.model_uri, settings.tracking_uri)
        say(f"{settings.model_uri} is version {version}" if version else f"model {settings.model_uri}")
    except ModelLoadError as error:
        say(f"warning: no model is serving ({error}); /health says so until one is trained")
    os.environ[SUPERVISOR_ENV] = str(os.getpid()) if workers > 1 else ""
    say(f"serving on http://{host}:{port} with {workers} worker(s) (docs at /docs)")
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(args.data, args.host, args.port, args.workers)


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
        from jobmatch import build_parser
        from jobmatch.model import cmd_train

        say(f"{error}: training a champion on {data}")
        # the train command's own parser, so every option it has takes its default
        code = cmd_train(build_parser().parse_args(["train", "--data", str(data), "--seed", "0"]))
        if code:
            return code
    from matching.datasets import load_dataset

    candidates = load_dataset(data).candidates
    local_keys(settings.api_keys_file, str(candidates["adviser_id"].iloc[0]))
    return serve(data, args.host, args.port, args.workers)


def key_file(args: argparse.Namespace) -> Path:
    from matching.settings import get_settings

    path: Path = args.file or get_settings().api_keys_file
    return path


def expiry(text: str) -> dt.datetime:
    """`--expires`: a number of days from now, a date (the key stops working at 00:00 UTC that day)
    or an ISO time with its zone; it must lie in the future."""
    now = dt.datetime.now(dt.UTC)
    try:
        days = float(text)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of days, a date (YYYY-MM-DD) or a time: {text!r}") from None
        when = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    else:
        if not 0 < days <= 36_500:
            raise argparse.ArgumentTypeError(f"days must be more than 0 and at most 36500: {text}")
        when = now + dt.timedelta(days=days)
    if when <= now:
        raise argparse.ArgumentTypeError(f"the expiry must be in the future: {text}")
    return when.astimezone(dt.UTC).replace(microsecond=0)


def cmd_keys_add(args: argparse.Namespace) -> int:
    from serving.auth import Identity, add_key

    path = key_file(args)
    identity = Identity(
        name=args.name, role=args.role, adviser_id=args.adviser_id, employer_id=args.employer_id, expires=args.expires
    )
    key = add_key(path, identity)
    until = f", valid until {identity.expires:%Y-%m-%d %H:%M} UTC" if identity.expires else ""
    say(f"added a {args.role} key for {args.name} to {path}{until}; it is shown only now:")
    print(key)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from serving.auth import fingerprint, load_keys

    path = key_file(args)
    keys = load_keys(path)
    if not keys:
        say(f"no API keys in {path}")
        return 0
    now = dt.datetime.now(dt.UTC)
    rows = [("NAME", "ROLE", "FOR", "ID", "EXPIRES")]
    for digest, identity in keys.items():
        expires = "never"
        if identity.expires is not None:
            expires = f"{identity.expires:%Y-%m-%d %H:%M} UTC" + (" (expired)" if identity.expired(now) else "")
        rows.append(
            (
                identity.name,
                identity.role,
                identity.adviser_id or identity.employer_id or "-",
                fingerprint(digest),
                expires,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from serving.auth import revoke_keys

    path = key_file(args)
    removed = revoke_keys(path, args.name, args.id)
    say(f"revoked {removed} key(s) of {args.name} in {path}; a running service refuses them from its next request")
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


def keys_add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `keys add`, added only when `keys add` is used; the roles come from
    `serving.role_names` (which loads no FastAPI)."""
    from serving.role_names import ROLES

    p.add_argument("--name", required=True, help="who holds the key (shown in the audit trail)")
    p.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="adviser, job_specialist (works with employers: their workplaces, presenting persons), employer "
        "(the workplace's representative; needs --employer-id), data_scientist, batch, data_protection_officer, "
        "or admin (switches the model off and on)",
    )
    p.add_argument("--adviser-id", default=None, help="an adviser's id: the caseload they may see")
    p.add_argument("--employer-id", default=None, help="an employer's id (required for --role employer)")
    p.add_argument(
        "--expires",
        type=expiry,
        default=None,
        metavar="DAYS|DATE",
        help="the key stops working after this many days, or at 00:00 UTC on this date (YYYY-MM-DD); "
        "default: it does not expire",
    )
    key_file_argument(p)


def key_file_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--file", type=Path, default=None, help="key file (default: JOBMATCH_API_KEYS_FILE or data/api-keys.json)"
    )


def add_keys(sub: Subcommands) -> None:
    p = sub.add_parser("keys", help="manage API keys (only their hashes are stored)")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION", parser_class=ArgumentsWhenUsed)
    add = keys_sub.add_parser("add", help="make a key for one identity and print it once")
    add.add_when_used(keys_add_arguments)
    add.set_defaults(run=cmd_keys_add)
    listing = keys_sub.add_parser("list", help="the keys' holders, roles, ids and expiry (never the keys)")
    key_file_argument(listing)
    listing.set_defaults(run=cmd_keys_list)
    revoke = keys_sub.add_parser(
        "revoke", help="remove a holder's keys; a running service refuses them from its next request"
    )
    revoke.add_argument("name", help="the key holder's name (as in `jobmatch keys list`)")
    revoke.add_argument("--id", default=None, help="only the key whose ID (from `jobmatch keys list`) starts with this")
    key_file_argument(revoke)
    revoke.set_defaults(run=cmd_keys_revoke)


def worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"workers must be 1 to 64, not {count}")
    return count


def add_serve_and_up(sub: Subcommands) -> None:
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
        p.add_argument(
            "--workers",
            type=worker_count,
            default=int(os.environ.get("JOBMATCH_WORKERS", "0")) or os.cpu_count() or 1,
            help="worker processes on the port (default JOBMATCH_WORKERS, else the number of cores); "
            "a worker that dies is replaced",
        )
        p.set_defaults(run=run)
