"""The refused-key limiter's bookkeeping (serving/ratelimit.py), on a clock the test moves: the
sliding window, the Retry-After it gives, its bound on memory under a flood of addresses, its lock,
and the addresses it counts under."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from serving.ratelimit import FailureLimiter, client_address


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_reached_after_n_failures_and_lifts_as_the_window_slides() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=3, window=60, clock=clock)
    limiter.failed("a")
    clock.now += 10
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    clock.now += 10
    limiter.failed("a")  # failures at 0, 10 and 20 s
    assert limiter.retry_after("a") == 40, "until the first failure is 60 s old"
    assert limiter.retry_after("b") is None, "other addresses are not affected"
    clock.now += 39.5
    assert limiter.retry_after("a") == 1, "rounded up, never 0"
    clock.now += 0.5
    assert limiter.retry_after("a") is None, "the first failure has left the window"
    limiter.failed("a")  # now at 10, 20 and 60 s: refused again until 70 s
    assert limiter.retry_after("a") == 10


def test_a_limit_of_zero_never_refuses() -> None:
    limiter = FailureLimiter(limit=0, window=60, clock=Clock())
    for _ in range(100):
        limiter.failed("a")
    assert limiter.retry_after("a") is None and len(limiter) == 0


def test_a_flood_of_distinct_addresses_stays_bounded_and_old_entries_expire() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=3, window=60, max_addresses=500, clock=clock)
    for _ in range(3):
        limiter.failed("attacker")
    for i in range(100_000):
        limiter.failed(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        assert len(limiter) <= 500
    assert len(limiter) == 500
    clock.now += 61
    limiter.failed("late")
    assert len(limiter) == 1, "every entry older than the window is dropped"


def test_the_oldest_address_goes_first_when_the_table_is_full() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=2, window=60, max_addresses=3, clock=clock)
    for address in ("a", "b", "c"):
        limiter.failed(address)
        clock.now += 1
    limiter.failed("a")  # a is the latest now; b the oldest
    limiter.failed("d")
    assert limiter.retry_after("a") == 57, "a kept both its failures (at 0 and 3 s)"
    limiter.failed("b")
    assert limiter.retry_after("b") is None, "b was dropped for d, so this is its first failure again"


def test_failures_counted_from_many_threads_are_all_counted() -> None:
    threads, each = 8, 2000
    limiter = FailureLimiter(limit=threads * each, window=3600)
    start = threading.Barrier(threads)

    def fail() -> None:
        start.wait()
        for _ in range(each):
            limiter.failed("shared")
            limiter.retry_after("shared")

    workers = [threading.Thread(target=fail) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert limiter.retry_after("shared") is not None, "exactly limit failures: none lost"


def _request(host: str | None) -> Any:
    return SimpleNamespace(client=SimpleNamespace(host=host) if host is not None else None)


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_addresses_are_counted_per_host_and_ipv6_per_64(host: str | None, counted_as: str) -> None:
    assert client_address(_request(host)) == counted_as


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        FailureLimiter(limit=-1)
    with pytest.raises(ValueError):
        FailureLimiter(window=0)
