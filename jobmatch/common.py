"""What every subcommand shares: the message line, the argument types and the parser pieces."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

DATABASE_HELP = "database URL (default: JOBMATCH_DATABASE_URL, else sqlite:///<project>/data/jobmatch.db)"


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


class ArgumentsWhenUsed(argparse.ArgumentParser):
    """A subcommand's parser whose arguments are added only when it is used (run, or asked for
    `--help`), for arguments whose choices live in a module that is heavy to import."""

    _pending: Callable[[argparse.ArgumentParser], None] | None = None

    def add_when_used(self, add_arguments: Callable[[argparse.ArgumentParser], None]) -> None:
        self._pending = add_arguments

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        if self._pending is not None:
            add_arguments, self._pending = self._pending, None
            add_arguments(self)
        return super().parse_known_args(*args, **kwargs)
