"""Load the registered ranker (by default `models:/jobmatch-ranker@champion`) for the API and batch."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Literal

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sqlalchemy.exc import SQLAlchemyError

from matching.errors import ModelLoadError, ModelMismatchError, TrackingStoreError
from matching.model import Ranker, RankerModel
from matching.records import Catalogue
from matching.rules import RULE_VERSION, RuleRanker
from matching.tracking import configure_tracking

__all__ = [
    "RULE_NAME",
    "LoadedModel",
    "ModelLoadError",
    "ModelMismatchError",
    "TrackingStoreError",
    "alias_version",
    "load_ranker",
    "rule_model",
]

RULE_NAME = "rule-score"
# what a tracking store that could be read says about a model that is not there or not valid
STORE_ANSWERS = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "BAD_REQUEST", "NOT_FOUND"})


@dataclass(frozen=True)
class LoadedModel:
    """A servable ranker and where it came from. `scored_by` is "rule" for the transparent rule
    score that serves while the model is switched off (`rule_model`); `note` is
    the sentence a response shows about what scored it."""

    ranker: Ranker
    uri: str
    name: str
    version: str
    run_id: str
    loaded_at: float
    scored_by: Literal["model", "rule"] = "model"
    note: str = ""

    @property
    def card(self) -> str | None:
        """The model card saved with the model at training (`meta["model_card"]`), if any."""
        card = self.ranker.meta.get("model_card")
        return card if isinstance(card, str) and card.strip() else None

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "run_id": self.run_id,
            "feature_registry": self.ranker.registry,
            "features": self.ranker.features,
            "dataset_fingerprint": self.ranker.meta.get("dataset_fingerprint", ""),
            "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_at)),
            "scored_by": self.scored_by,
            "scoring_note": self.note or f"ranked by the model {self.name} version {self.version}; the adviser decides",
        }


MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


def load_ranker(model_uri: str, tracking_uri: str) -> LoadedModel:
    """Load and check a registered ranker.

    Args:
        model_uri: `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `runs:/...` or a local path.
        tracking_uri: the MLflow store holding the registry.

    Raises:
        ModelLoadError: with the reason, when it cannot load or its features differ from the code's;
            a `TrackingStoreError` when the tracking store itself could not be read.
    """
    uri = configure_tracking(tracking_uri)
    name, version, run_id = model_uri, "", ""
    match = MODELS_URI.match(model_uri)
    try:
        if match:
            client = MlflowClient(uri, uri)
            name = match["name"]
            if match["alias"]:
                entry = client.get_model_version_by_alias(name, match["alias"])
            else:
                entry = client.get_model_version(name, match["version"])
            version, run_id = str(entry.version), str(entry.run_id or "")
        loaded = mlflow.pyfunc.load_model(model_uri)
        python_model = loaded.unwrap_python_model()
        if not isinstance(python_model, RankerModel) or python_model.ranker is None:
            raise ModelLoadError(f"{model_uri} is not a jobmatch ranker")
        ranker = python_model.ranker
        ranker.check_compatible()
    except ModelLoadError:
        raise
    except Exception as error:  # every way a load can fail is reported the same way
        mismatch = _mismatch_in(error)
        if mismatch is not None:  # raised inside MLflow's loader: still a model for other features
            raise ModelMismatchError(f"{model_uri}: {mismatch}") from error
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        kind = TrackingStoreError if unreadable_store(error) else ModelLoadError
        raise kind(f"cannot load {model_uri} from {uri}: {text}") from error
    return LoadedModel(ranker, model_uri, name, version, run_id or ranker.meta.get("run_id", ""), time.time())


def _mismatch_in(error: BaseException) -> ModelMismatchError | None:
    """The `ModelMismatchError` behind `error` (its cause or context chain), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ModelMismatchError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def alias_version(model_uri: str, tracking_uri: str) -> str | None:
    """The registered version `model_uri` points at now (`models:/NAME@ALIAS` or
    `models:/NAME/VERSION`); None for other URIs, which have no version to watch.

    Raises:
        ModelLoadError: when the alias does not exist; a `TrackingStoreError` when the registry
            cannot be read.
    """
    match = MODELS_URI.match(model_uri)
    if not match:
        return None
    uri = configure_tracking(tracking_uri)
    if match["version"]:
        return str(match["version"])
    try:
        entry = MlflowClient(uri, uri).get_model_version_by_alias(match["name"], match["alias"])
    except Exception as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        kind = TrackingStoreError if unreadable_store(error) else ModelLoadError
        raise kind(f"cannot resolve {model_uri} in {uri}: {text}") from error
    return str(entry.version)


def unreadable_store(error: BaseException) -> bool:
    """Whether a failed load says the tracking store could not be read at all: a file or folder
    that cannot be opened (`OSError`, which includes a server that does not answer), a database
    that is not one (`SQLAlchemyError`), or an MLflow error other than the store's answer that
    the model or alias is missing or invalid."""
    if isinstance(error, MlflowException):
        return error.error_code not in STORE_ANSWERS
    return isinstance(error, OSError | SQLAlchemyError)


def rule_model(catalogue: Catalogue, note: str = "", since: float | None = None) -> LoadedModel:
    """The rule score as a servable `LoadedModel` (`scored_by="rule"`), named `rule-score` with
    version `RULE_VERSION` in responses and in the recorded shortlists."""
    return LoadedModel(
        ranker=RuleRanker(catalogue),
        uri="rules:matching.rules.RULE_WEIGHTS",
        name=RULE_NAME,
        version=RULE_VERSION,
        run_id="",
        loaded_at=time.time() if since is None else since,
        scored_by="rule",
        note=note,
    )
