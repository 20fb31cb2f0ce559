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

A key may carry an expiry (`jobmatch keys add --expires DAYS|DATE`, stored as `expires`, UTC); an
expired key is answered 401 saying it expired. Keys without one (every key file written before)
do not expire. `jobmatch keys revoke NAME` removes a key from the file; the running service
notices: each request compares the file's modification time, size and inode with what it last read
(one `stat`) and reads the file again when they differ, so a revoked key is refused from the next
request on, in every worker, without a restart. A changed file that cannot be read is logged and
the keys read before are kept.

Refused keys are counted per client address (`serving.ratelimit`): after too many, the address is
answered 429 with `Retry-After` and its keys are not checked until then. Keys are never logged.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import AfterValidator, BaseModel, Field

from matching.clock import utc_now
from serving.ratelimit import api_message, client_address, limiter_of
from serving.role_names import LEGACY_ROLES, Role

log = logging.getLogger("jobmatch.serving")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is read as UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


class Identity(BaseModel):
    """The caller behind a key."""

    name: str = Field(min_length=1, max_length=100)
    role: Role
    adviser_id: str | None = None
    employer_id: str | None = None
    expires: Annotated[dt.datetime | None, AfterValidator(_utc)] = Field(
        default=None, description="when the key stops working (UTC); None: it does not expire"
    )

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or utc_now())


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


def fingerprint(digest: str) -> str:
    """A key's short id in `jobmatch keys list` (the start of its hash; not the key)."""
    return digest[:12]


@contextmanager
def _locked(path: Path) -> Iterator[list[Any]]:
    """The key file's entries, for changing in place: one writer at a time (a lock file beside
    it), written whole to a temporary file that replaces the key file (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a", encoding="utf-8") as handle:
        os.chmod(lock, 0o600)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        except (OSError, json.JSONDecodeError) as error:
            raise KeyFileError(f"cannot read API key file {path}: {error}") from error
        if not isinstance(entries, list):
            raise KeyFileError(f"{path}: expected a JSON list of keys")
        yield entries
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)


def add_key(path: Path, identity: Identity) -> str:
    """Make a new random key for `identity`, store its hash in `path`, and return the key itself
    (shown once; it cannot be recovered from the file)."""
    if identity.role == "adviser" and not identity.adviser_id:
        raise KeyFileError("an adviser key needs --adviser-id (the adviser's caseload)")
    if identity.role == "employer" and not identity.employer_id:
        raise KeyFileError("an employer key needs --employer-id (the employer whose workplaces they represent)")
    key = secrets.token_urlsafe(32)
    with _locked(path) as entries:
        entries.append({"key_sha256": key_hash(key), **identity.model_dump(mode="json", exclude_none=True)})
    return key


def revoke_keys(path: Path, name: str, key_id: str | None = None) -> int:
    """Remove the keys held by `name` (only the one whose fingerprint starts with `key_id`, if
    given) from `path`; returns how many. A running service refuses them from its next request.

    Raises:
        KeyFileError: when no key matches (nothing is changed), or `key_id` is shorter than 4 characters.
    """
    if key_id is not None and len(key_id) < 4:
        raise KeyFileError("give at least 4 characters of the key's ID (from `jobmatch keys list`)")
    with _locked(path) as entries:
        kept = [
            entry
            for entry in entries
            if not (
                isinstance(entry, dict)
                and entry.get("name") == name
                and (key_id is None or str(entry.get("key_sha256", "")).startswith(key_id))
            )
        ]
        removed = len(entries) - len(kept)
        if not removed:
            which = f" with id {key_id}" if key_id else ""
            raise KeyFileError(f"no key of {name!r}{which} in {path}")
        entries[:] = kept
    return removed


class KeyRing:
    """The key file as the running service knows it: read again when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, ...] | None = ()  # () before the first read; None: no file

    def _signature(self) -> tuple[int, ...] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_dev)

    def current(self, state: Any) -> dict[str, Identity]:
        """The keys in force: `state.api_keys`, replaced by a fresh read when the file changed."""
        signature = self._signature()
        if signature != self._seen:
            with self._lock:
                if signature != self._seen:
                    try:
                        state.api_keys = load_keys(self.path)
                    except KeyFileError as error:
                        log.error("the API key file changed but cannot be read; the keys read before stay: %s", error)
                    self._seen = signature
        keys: dict[str, Identity] = getattr(state, "api_keys", {})
        return keys


_ring_lock = threading.Lock()


def known_keys(request: Request) -> dict[str, Identity]:
    """key hash -> identity, as the key file holds them now (see `KeyRing`)."""
    state: Any = request.app.state
    settings = getattr(getattr(state, "service", None), "settings", None)
    path: Path | None = getattr(settings, "api_keys_file", None)
    if path is None:
        keys: dict[str, Identity] = getattr(state, "api_keys", {})
        return keys
    ring: KeyRing | None = getattr(state, "key_ring", None)
    if ring is None or ring.path != path:
        with _ring_lock:
            ring = getattr(state, "key_ring", None)
            if ring is None or ring.path != path:
                ring = KeyRing(path)
                state.key_ring = ring
    return ring.current(state)


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def expired_message(identity: Identity) -> str:
    when = identity.expires.strftime("%Y-%m-%d %H:%M UTC") if identity.expires else "?"
    return f"this API key expired on {when}; ask for a new key"


async def current_identity(request: Request) -> Identity:
    """The caller's identity; 401 without a known, unexpired key; 429 (with Retry-After) while the
    client's address has had too many keys refused (`serving.ratelimit`).

    Run on the event loop (a look-up in memory, a `stat` of the key file, locks held for
    microseconds): a plain function would cost every request a hand-over to a worker thread."""
    limiter = limiter_of(request)
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        raise HTTPException(status_code=429, detail=api_message(wait), headers={"Retry-After": str(wait)})
    key = presented_key(request)
    identity = known_keys(request).get(key_hash(key)) if key else None
    if identity is None:
        if key:
            limiter.failed(address)
        raise HTTPException(
            status_code=401,
            detail="missing or unknown API key (send Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if identity.expired():
        raise HTTPException(
            status_code=401,
            detail=expired_message(identity),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return identity


def require(*roles: str) -> Callable[[Identity], Awaitable[Identity]]:
    """A dependency that admits only the given roles (403 for others); on the event loop."""

    async def check(identity: Annotated[Identity, Depends(current_identity)]) -> Identity:
        if identity.role not in roles:
            raise HTTPException(status_code=403, detail=f"role {identity.role} may not do this")
        return identity

    return check


def check_caseload(identity: Identity, adviser_id: str | None) -> None:
    """An adviser sees only their own caseload (403 otherwise); batch sees every candidate."""
    if identity.role == "adviser" and adviser_id != identity.adviser_id:
        raise HTTPException(status_code=403, detail="this candidate is not on your caseload")
