"""Failed logins, limited per client address: after `auth_failure_limit` refused keys (default 10)
within `auth_failure_window_seconds` (default 300) from one address, that address is answered 429
with a `Retry-After` header until the oldest of those failures is older than the window.

What counts as a failure: a key that is not in the key file, sent to the JSON API
(`serving.auth.current_identity`) or to the page's login form (`serving.web.login`); both share
one count per address, so guesses cannot be split between them. A request without any key, a known
key of the wrong role, and an expired key (the holder is told it expired) are not counted. A
request with a valid key is never slowed: it does no more than one look-up under a lock, and its
success leaves the count as it is (a valid key of one's own does not buy more guesses). While an
address is refused, no key from it is checked, so guessing from it stops.

The client address is the connection's (`request.client.host`); behind a reverse proxy, run uvicorn
with `--proxy-headers --forwarded-allow-ips=PROXY` so it is the client's and not the proxy's. IPv6
addresses are counted per /64 network (one household or host usually holds a whole /64).

The count is kept in memory, per worker process (with `--workers 4` an address may try up to four
times the limit before every worker refuses it); it is bounded: at most `MAX_ADDRESSES` addresses
are tracked, each with at most `limit` timestamps, entries whose last failure is older than the
window are dropped, and when a flood of distinct addresses fills the table the address whose last
failure is oldest goes first. Thread-safe: one lock around each look-up and update.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request

from serving.openapi_patch import patch_operations

log = logging.getLogger("jobmatch.serving")

DEFAULT_FAILURE_LIMIT = 10
DEFAULT_WINDOW_SECONDS = 300.0
MAX_ADDRESSES = 10_000
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
    "title": "ErrorMessage",
}
TOO_MANY_FAILURES: dict[str, Any] = {
    "description": "too many refused API keys from this address; the Retry-After header says when to try again",
    "headers": {"Retry-After": {"description": "seconds until a key is checked again", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": ERROR_SCHEMA}},
}


def client_address(request: Request) -> str:
    """The address failures are counted under: the connection's, an IPv6 address as its /64."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Failures:
    times: deque[float]  # at most `limit`, oldest first


class FailureLimiter:
    """Refused keys per address within a sliding window (in memory, bounded, thread-safe).

    Args:
        limit: failures within `window` after which the address is refused; 0 turns the limit off.
        window: seconds a failure counts.
        max_addresses: most addresses tracked at once.
        clock: seconds on a monotonic clock (`time.monotonic`).
    """

    def __init__(
        self,
        limit: int = DEFAULT_FAILURE_LIMIT,
        window: float = DEFAULT_WINDOW_SECONDS,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0 or not window > 0 or max_addresses < 1:
            raise ValueError("limit must be at least 0, window positive and max_addresses at least 1")
        self.limit = limit
        self.window = float(window)
        self.max_addresses = max_addresses
        self._clock = clock
        self._lock = threading.Lock()
        # address -> its failures, oldest last failure first (so expiry and eviction take from the front)
        self._by_address: OrderedDict[str, _Failures] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_address)

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try a key again, or None when it may now."""
        if self.limit == 0:
            return None
        with self._lock:
            found = self._by_address.get(address)
            if found is None or len(found.times) < self.limit:
                return None
            wait = found.times[0] + self.window - self._clock()
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, address: str) -> None:
        """Count one refused key from `address`."""
        if self.limit == 0:
            return
        now = self._clock()
        with self._lock:
            self._expire(now)
            found = self._by_address.pop(address, None)
            if found is None:
                found = _Failures(deque(maxlen=self.limit))
                while len(self._by_address) >= self.max_addresses:
                    self._by_address.popitem(last=False)
            found.times.append(now)
            self._by_address[address] = found  # to the end: the latest failure
            reached = len(found.times) == self.limit and found.times[0] > now - self.window
            tracked = len(self._by_address)
        if reached:  # no address and no key in the log: counts only
            log.warning(
                "an address reached %d refused API keys within %.0f s; its keys are not checked for up to %.0f s "
                "(%d addresses tracked)",
                self.limit,
                self.window,
                self.window,
                tracked,
            )

    def _expire(self, now: float) -> None:
        """Drop the addresses whose last failure is older than the window (they are at the front)."""
        horizon = now - self.window
        while self._by_address:
            first = next(iter(self._by_address.values()))
            if first.times[-1] > horizon:
                break
            self._by_address.popitem(last=False)


_init_lock = threading.Lock()


def limiter_of(request: Request) -> FailureLimiter:
    """The app's limiter, made on first use from the service's settings (or the defaults)."""
    state: Any = request.app.state
    limiter: FailureLimiter | None = getattr(state, "auth_failures", None)
    if limiter is not None:
        return limiter
    with _init_lock:
        limiter = getattr(state, "auth_failures", None)
        if limiter is None:
            settings = getattr(getattr(state, "service", None), "settings", None)
            limiter = FailureLimiter(
                getattr(settings, "auth_failure_limit", DEFAULT_FAILURE_LIMIT),
                getattr(settings, "auth_failure_window_seconds", DEFAULT_WINDOW_SECONDS),
            )
            state.auth_failures = limiter
    return limiter


def api_message(seconds: int) -> str:
    return f"too many refused API keys from this address; try again in {seconds} seconds"


def document(app: FastAPI) -> None:
    """Add the 429 answer next to the 401 of every operation that takes a key in `app`'s OpenAPI."""

    def add(operation: dict[str, Any]) -> None:
        responses = operation.get("responses")
        if isinstance(responses, dict) and "401" in responses:
            responses.setdefault("429", TOO_MANY_FAILURES)

    patch_operations(app, add)
