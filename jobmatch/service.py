"""The service subcommands: `serve` the API, `up` (the main job: a sample and a champion if
missing, local keys on first start, then serve) and `keys add`. Serving never loads training
code; only `up` does, when it has to train a first champion."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch.common import ArgumentsWhenUsed, port_number, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands

SAMPLE_CANDIDATES = 1000
SAMPLE_WORKPLACES = 1500
SAMPLE_SEED = 7


def serve(data: Path | None, host: str, port: int) -> int:
    import uvicorn

    from matching.settings import Settings
    from serving.app import create_app
    from serving.state import ServiceState

    settings = Settings(data_dir=data) if data else Settings()
    say(f"loading {settings.data_dir} and {settings.model_uri}")
    state = ServiceState.load(settings)  # bad data fails here, with the contract's message
    if state.model is None:
        say(f"warning: no model is serving ({state.models.error}); /health says so until one is trained")
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
        from jobmatch.model import cmd_train

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
        "--file", type=Path, default=None, help="key file (default: JOBMATCH_API_KEYS_FILE or data/api-keys.json)"
    )


def add_keys(sub: Subcommands) -> None:
    p = sub.add_parser("keys", help="manage API keys (only their hashes are stored)")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION", parser_class=ArgumentsWhenUsed)
    add = keys_sub.add_parser("add", help="make a key for one identity and print it once")
    add.add_when_used(keys_add_arguments)
    add.set_defaults(run=cmd_keys_add)


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
        p.set_defaults(run=run)
