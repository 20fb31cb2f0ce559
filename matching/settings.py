"""Settings: defaults, then environment variables (`JOBMATCH_*`, and `MLFLOW_TRACKING_URI`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from matching.paths import mlruns_dir, project_root, sample_dir

MODEL_NAME = "jobmatch-ranker"
CHAMPION = "champion"


def default_tracking_uri() -> str:
    """The project's local store: a SQLite database inside `mlruns/`, by absolute path."""
    return f"sqlite:///{mlruns_dir() / 'mlflow.db'}"


class Settings(BaseSettings):
    """Runtime settings of every command and of the API."""

    model_config = SettingsConfigDict(env_prefix="JOBMATCH_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=sample_dir, description="dataset folder served by the API")
    tracking_uri: str = Field(
        default_factory=default_tracking_uri,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "JOBMATCH_TRACKING_URI"),
        description="MLflow tracking store: a directory or a sqlite:/// database",
    )
    model_name: str = MODEL_NAME
    model_uri: str = f"models:/{MODEL_NAME}@{CHAMPION}"
    exclude_unmet_required: bool = Field(
        default=True, description="never suggest a workplace that cannot give a support the person requires"
    )
    max_top_k: int = 100
    suggestions_per_slot: float = Field(
        default=3.0,
        ge=0.0,
        allow_inf_nan=False,
        description="live suggestions a free slot carries before its suggestions are ranked lower "
        "(POST /shortlists; batch allocation uses the same number); 0 turns the penalty off",
    )
    congestion_window_days: float = Field(
        default=14.0,
        gt=0.0,
        allow_inf_nan=False,
        description="a suggestion is live this many days after it was made, unless rejected",
    )
    database_url: str | None = Field(
        default=None, description="the store; default JOBMATCH_DATABASE_URL, else SQLite in data/jobmatch.db"
    )
    api_keys_file: Path = Field(
        default_factory=lambda: project_root() / "data" / "api-keys.json",
        description="hashes of the API keys and the identity behind each (never in the repo)",
    )
    host: str = "127.0.0.1"
    port: int = 8000


@cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
