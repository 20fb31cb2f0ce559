"""Settings: defaults, then environment variables (`JOBMATCH_*`, and `MLFLOW_TRACKING_URI`)."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from matching.paths import mlruns_dir, project_root, sample_dir

MODEL_NAME = "jobmatch-ranker"
CHAMPION = "champion"
# audit records are kept at least six months by default (the issue: "at least six months")
MIN_AUDIT_RETENTION_DAYS = 183
# a suggestion whose last recorded step is older than this counts as a label with the stage it reached
# (`matching.labels`): about the length of a work trial and the time to record its next step
DEFAULT_SETTLE_DAYS = 90.0


LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]


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
        default=True,
        description="never suggest a workplace that cannot give a support the person requires and only a "
        "workplace can give (one the support system can arrange leaves it in)",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="the largest request body the API reads; a larger one is answered 413 (serving/limits.py)",
    )
    sqlite_writes_at_once: int = Field(
        default=2,
        ge=1,
        description="on an SQLite store, the write requests (POST, PUT, PATCH, DELETE) each API worker runs at "
        "once; the rest wait their turn in order of arrival, while reads go on (serving/turns.py)",
    )
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
    outcome_settle_days: float = Field(
        default=DEFAULT_SETTLE_DAYS,
        gt=0.0,
        allow_inf_nan=False,
        description="training from the store (`jobmatch train --from-db`, the export's outcomes) leaves out a "
        "suggestion still under way until its placement ends or is hired, or nothing new was recorded about it "
        "for this many days; then it counts with the stage it reached (matching/labels.py)",
    )
    database_url: str | None = Field(
        default=None, description="the store; default JOBMATCH_DATABASE_URL, else SQLite in data/jobmatch.db"
    )
    database_connect_timeout_seconds: int = Field(
        default=2,
        ge=2,
        description="the API waits at most this long for a connection to PostgreSQL (whole seconds, at least 2, "
        "as libpq counts them); while the database is away, requests that need it are answered 503 within "
        "this time instead of hanging",
    )
    database_statement_timeout_seconds: float = Field(
        default=3.0,
        gt=0.0,
        allow_inf_nan=False,
        description="PostgreSQL cancels any one statement of the API after this many seconds (a stuck server or "
        "lock): the request is answered 503 and nothing of it is saved; the command-line jobs are not limited",
    )
    api_keys_file: Path = Field(
        default_factory=lambda: project_root() / "data" / "api-keys.json",
        description="hashes of the API keys and the identity behind each (never in the repo)",
    )
    auth_failure_limit: int = Field(
        default=10,
        ge=0,
        description="refused API keys (unknown keys sent to the API or the page's login) from one client address "
        "within auth_failure_window_seconds after which that address is answered 429 with Retry-After; "
        "counted in memory per worker process (serving/ratelimit.py); 0 turns the limit off",
    )
    auth_failure_window_seconds: float = Field(
        default=300.0,
        gt=0.0,
        allow_inf_nan=False,
        description="how long a refused key counts against its address, in seconds",
    )
    behind_https: bool = Field(
        default=False,
        validation_alias=AliasChoices("JOBMATCH_BEHIND_HTTPS", "JOBMATCH_HTTPS"),
        description="the service is reached over HTTPS (a TLS-terminating proxy in front): the page's cookies "
        "are Secure; leave off for local http on the loopback address",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    model_poll_seconds: float = Field(
        default=0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="the API checks every this many seconds which version model_uri's alias points at, and "
        "reloads on a change (and picks up the scoring switch other processes set); 0 turns polling off",
    )
    log_level: LogLevel = Field(
        default="INFO", description="level of the API's own JSON logs (the jobmatch.* loggers); any case"
    )
    audit_retention_days: int = Field(
        default=MIN_AUDIT_RETENTION_DAYS,
        ge=1,
        description="audit entries older than this many days are deleted by `jobmatch audit purge`; "
        f"at least {MIN_AUDIT_RETENTION_DAYS} (six months) unless allow_short_audit_retention is set",
    )
    allow_short_audit_retention: bool = Field(
        default=False,
        description="accept an audit_retention_days below the six-month minimum (a deliberate, documented choice)",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="the secret behind erased persons' pseudonyms and the erasure register (HMAC-SHA256); "
        "default: the key in pseudonym_key_file",
    )
    pseudonym_key_file: Path = Field(
        default_factory=lambda: project_root() / "data" / "pseudonym.key",
        description="where the pseudonym key is kept when JOBMATCH_PSEUDONYM_KEY is not set (made on first "
        "erasure, never in the repo); losing it stops `jobmatch load` until it is restored",
    )

    @model_validator(mode="after")
    def _retention_at_least_six_months(self) -> Settings:
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS and not self.allow_short_audit_retention:
            raise ValueError(
                f"JOBMATCH_AUDIT_RETENTION_DAYS={self.audit_retention_days} is shorter than the minimum of "
                f"{MIN_AUDIT_RETENTION_DAYS} days (six months) the audit trail must be kept; use a longer period, "
                "or set JOBMATCH_ALLOW_SHORT_AUDIT_RETENTION=true (jobmatch audit purge --allow-short-retention) "
                "if a shorter one is a deliberate, documented decision"
            )
        return self

    def pseudonym_secret(self, create: bool = False) -> bytes | None:
        """The pseudonym key: JOBMATCH_PSEUDONYM_KEY, else the key file's contents.

        Args:
            create: make a new random key file when there is none (on the first erasure).

        Returns:
            The key, or None when there is none and `create` is false.

        Raises:
            OSError: when the key file cannot be read or written.
        """
        if self.pseudonym_key is not None and self.pseudonym_key.get_secret_value().strip():
            return self.pseudonym_key.get_secret_value().strip().encode()
        path = self.pseudonym_key_file
        if not path.exists():
            if not create:
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # exclusive create: two first erasures at once end up with one key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
        key = path.read_text(encoding="utf-8").strip()
        if not key:
            raise OSError(f"the pseudonym key file {path} is empty")
        return key.encode()


def key_id(key: bytes) -> str:
    """A short fingerprint of a pseudonym key (not the key): stored with each erasure, so a later
    load notices a different key instead of letting erased persons back in."""
    return hashlib.sha256(b"jobmatch-pseudonym-key:" + key).hexdigest()[:16]


@cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
