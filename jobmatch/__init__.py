"""The `jobmatch` command: the composition root, the one place that knows training and serving.

The parser is assembled here from one module per area: `data` (validate, generate, db, load,
export), `model` (train, drift), `score`, `service` (serve, up, keys) and `rights`
(export-person, erase, audit). Each subcommand imports what it needs when it runs, so
`jobmatch --help` loads neither training, MLflow, FastAPI nor LightGBM, and `jobmatch serve`
never loads training code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from jobmatch import data, fairness, model, rights, score, service
from jobmatch.common import quiet_libraries, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands

EXIT_INVALID_DATA = 1
EXIT_BAD_INPUT = 2
EXIT_NO_MODEL = 3

# the subcommands, in the order `jobmatch --help` lists them
COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    data.add_validate,
    data.add_generate,
    model.add_train,
    score.add_score,
    model.add_drift,
    fairness.add_fairness,
    data.add_db,
    service.add_keys,
    data.add_load,
    data.add_export,
    rights.add_export_person,
    rights.add_erase,
    rights.add_audit,
    service.add_serve_and_up,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobmatch",
        description="Ranked, explained shortlists of workplaces for job seekers with extensive support needs. "
        "The model suggests; the adviser decides.",
        epilog="MLflow store: MLFLOW_TRACKING_URI (a directory or sqlite:///PATH); "
        "default: mlruns/mlflow.db in the project.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
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
