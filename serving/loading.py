"""Load the registered ranker (by default `models:/jobmatch-ranker@champion`) for the API and batch."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow import MlflowClient

from matching.errors import ModelLoadError
from matching.model import Ranker, RankerModel
from matching.tracking import configure_tracking

__all__ = ["LoadedModel", "ModelLoadError", "load_ranker"]


@dataclass(frozen=True)
class LoadedModel:
    """A servable ranker and where it came from."""

    ranker: Ranker
    uri: str
    name: str
    version: str
    run_id: str
    loaded_at: float

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
        }


MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


def load_ranker(model_uri: str, tracking_uri: str) -> LoadedModel:
    """Load and check a registered ranker.

    Args:
        model_uri: `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `runs:/...` or a local path.
        tracking_uri: the MLflow store holding the registry.

    Raises:
        ModelLoadError: with the reason, when it cannot load or its features differ from the code's.
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
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelLoadError(f"cannot load {model_uri} from {uri}: {text}") from error
    return LoadedModel(ranker, model_uri, name, version, run_id or ranker.meta.get("run_id", ""), time.time())
