"""Who is asking: API keys (sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`) mapped to an
identity with one role. Only the keys' SHA-256 hashes are kept, in a JSON file outside the repo
(`JOBMATCH_API_KEYS_FILE`, default `data/api-keys.json`); `jobmatch keys add` makes one.

Roles: `adviser` (only candidates whose `adviser_id` is theirs), `job_specialist` (the support
system's staff who work with employers: registers and changes the workplaces they work with, ranks
persons for them and presents a person who is interested), `employer` (the workplace's
representative: sees a person only after the person said they are interested and was presented to
the workplace; approves plans), `data_scientist` (models, exports), `batch` (scoring any
candidate, no decisions), `data_protection_officer` (the audit trail), `admin` (oversight: may switch
the model off and on).
Their names are in `serving.role_names` (free of FastAPI, for the command line). A key file
written before the employer's role was split still loads: `employer_contact` is read as `employer`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, Field

from serving.role_names import LEGACY_ROLES, Role

log = logging.getLogger("jobmatch.serving")


class Identity(BaseModel):
    """The caller behind a key."""

    name: str = Field(min_length=1, max_length=100)
    role: Role
    adviser_id: str | None = None
    employer_id: str | None = None


class KeyFileError(ValueError):
    """The key file cannot be read or holds a bad entry."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_keys(path: Path) -> dict[str, Identity]:
    """key hash -> identity, from the key file (missing file: no keys).

    Raises:
        KeyFileError: naming the entry, when the file is not a list of valid entries.
    """
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise KeyFileError(f"cannot read API key file {path}: {error}") from error
    if not isinstance(entries, list):
        raise KeyFileError(f"{path}: expected a JSON list of keys")
    keys: dict[str, Identity] = {}
    renamed: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            digest = str(entry.pop("key_sha256"))
            old = entry.get("role")
            if isinstance(old, str) and old in LEGACY_ROLES:
                entry["role"] = LEGACY_ROLES[old]
                renamed[old] = renamed.get(old, 0) + 1
            keys[digest] = Identity.model_validate(entry)
        except (AttributeError, KeyError, ValueError) as error:
            raise KeyFileError(f"{path}: entry {i} is not a valid key ({error})") from error
    for old, count in sorted(renamed.items()):  # counts and role names only: no one's name
        log.info("API key file: %d key(s) with the earlier role %s read as %s", count, old, LEGACY_ROLES[old])
    return keys


def add_key(path: Path, identity: Identity) -> str:
    """Make a new random key for `identity`, store its hash in `path`, and return the key itself
    (shown once; it cannot be recovered from the file)."""
    if identity.role == "adviser" and not identity.adviser_id:
        raise KeyFileError("an adviser key needs --adviser-id (the adviser's caseload)")
    if identity.role == "employer" and not identity.employer_id:
        raise KeyFileError("an employer key needs --employer-id (the employer whose workplaces they represent)")
    entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    key = secrets.token_urlsafe(32)
    entries.append({"key_sha256": key_hash(key), **identity.model_dump(exclude_none=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return key


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def current_identity(request: Request) -> Identity:
    """The caller's identity; 401 without a known key."""
    key = presented_key(request)
    keys: dict[str, Identity] = request.app.state.api_keys
    identity = keys.get(key_hash(key)) if key else None
    if identity is None:
        raise HTTPException(
            status_code=401,
            detail="missing or unknown API key (send Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return identity


def require(*roles: str) -> Callable[[Identity], Identity]:
    """A dependency that admits only the given roles (403 for others)."""

    def check(identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
        if identity.role not in roles:
            raise HTTPException(status_code=403, detail=f"role {identity.role} may not do this")
        return identity

    return check


def check_caseload(identity: Identity, adviser_id: str | None) -> None:
    """An adviser sees only their own caseload (403 otherwise); batch sees every candidate."""
    if identity.role == "adviser" and adviser_id != identity.adviser_id:
        raise HTTPException(status_code=403, detail="this candidate is not on your caseload")
