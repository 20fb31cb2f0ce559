"""What a model reload leaves behind: its record (`ReloadRecord`, kept by the model in service
and shown by `/health` and `/model/scoring`), the refusal the API answers with (`ReloadRefused`),
the audit subject reloads are recorded under, and the labels the metrics name a model by."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from serving.loading import LoadedModel

RELOAD_SUBJECT = ("service", "model")


@dataclass(frozen=True)
class ReloadRecord:
    """The last reload: when, what started it, and whether the model was loaded or refused."""

    at: dt.datetime
    trigger: str
    by: str
    outcome: Literal["loaded", "refused"]
    version: str | None  # in service after the attempt
    previous_version: str | None
    attempted_version: str | None
    error: str | None = None


class ReloadRefused(Exception):
    """A reload was refused: `status` 422 for a model of other features, 409 for one that
    cannot load or score; the model in service is unchanged."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def model_labels(model: LoadedModel | None) -> tuple[str | None, str | None, str | None]:
    """The model's name, version and run id for the metrics (all None: no model)."""
    return (model.name, model.version, model.run_id) if model is not None else (None, None, None)
