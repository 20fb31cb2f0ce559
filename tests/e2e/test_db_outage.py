"""The database stops in the middle of a load run and comes back: `jobmatch serve` on loopback over
a PostgreSQL of the test's own (initdb and pg_ctl in a temporary folder on a free port; the
machine's server is never touched), concurrent clients writing decisions and answers and reading
shortlists, then `pg_ctl stop -m immediate` and, a few seconds later, `pg_ctl start`.

What a user relies on, and how the checks can tell:
- while the database is away a write is answered 503 saying nothing was saved (in Norwegian; in
  English with `?lang=en`), a read 503 saying it cannot be shown now, each within the stated
  waits (connect and statement timeouts), never a hang and never another error;
- `/health` keeps answering and says the database is unreachable, and why;
- within 5 s of the database's return every request is answered normally, with no restart;
- every write that got a 200 is in the store afterwards (read back through the API, with the
  checks of `test_durability`: the values, no half-written request, the audit trail agrees);
- the server process stays up throughout, its model poller looking every half second.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_durability import (
    Ack,
    ClientLog,
    Server,
    Trained,
    check_store,
    free_port,
    own_entry,
    parse_time,
    trained,  # noqa: F401  (its fixture, shared)
)

pytestmark = pytest.mark.slow
PG_BIN = Path(os.environ.get("JOBMATCH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 3.0
SLACK_SECONDS = 2.0  # a loaded 2-core machine: scheduling, not waiting on the database
RECOVERY_SECONDS = 5.0
CLIENTS = 8
READERS = 2
SHORTLISTS = 4
BEFORE_SECONDS = 2.0
OUTAGE_SECONDS = 4.0
AFTER_SECONDS = RECOVERY_SECONDS + 2.5
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


# A PostgreSQL of the test's own ------------------------------------------------------------------


class OwnPostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:`port`, run as a non-root user (initdb refuses
    root): `postgres` when the machine has that user, else `nobody`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="jobmatch-outage-pg-"))
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _has_user("postgres") else "nobody"
            shutil.chown(self.home, self.user)
        self.url = f"postgresql+psycopg://jobmatch@127.0.0.1:{self.port}/jobmatch"

    def _run(self, *args: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}\n{tail}")

    def create(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "jobmatch", "-A", "trust", "--no-sync")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "jobmatch", "jobmatch")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop()
            except AssertionError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        message = f"no PostgreSQL binaries in {PG_BIN} (set JOBMATCH_TEST_PG_BIN)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true: the database outage test must run")
        pytest.skip(f"{message}: the database outage test needs a PostgreSQL it may stop")
    server = OwnPostgres()
    try:
        server.create()
        yield server
    finally:
        server.remove()


# The load ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One request as a client saw it."""

    kind: str  # "write" or "read"
    sent: float
    done: float
    status: int  # 0: no answer (a transport error)
    detail: str = ""
    retry_after: str | None = None

    @property
    def seconds(self) -> float:
        return self.done - self.sent


@dataclass
class Load:
    logs: list[ClientLog]
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def note(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("detail", "")) if isinstance(body, dict) else str(body)


def write_client(
    base_url: str, key: str, log: ClientLog, index: int, shortlists: dict[int, list[int]], load: Load
) -> None:
    """Tagged reject pairs, accept + reject, and the person's answers, in turn, until `stop`."""
    rng = random.Random(index)
    ids = sorted(shortlists)
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, headers={"Authorization": f"Bearer {key}"}) as client:
        n = 0
        while not load.stop.is_set():
            n += 1
            shortlist_id = rng.choice(ids)
            first, second = rng.sample(shortlists[shortlist_id], 2)
            kind, tag = "decision", None
            if n % 3 == 0:
                tag = f"{log.name}-{n}"
                entries: list[dict[str, Any]] = [
                    {"rank": r, "decision": "reject", "reason_code": "other", "reason_text": tag}
                    for r in (first, second)
                ]
                log.tags[tag] = (shortlist_id, (first, second))
                path, body = f"/shortlists/{shortlist_id}/decisions", {"decisions": entries}
            elif n % 3 == 1:
                entries = [
                    {"rank": first, "decision": "accept"},
                    {"rank": second, "decision": "reject", "reason_code": "too_far"},
                ]
                path, body = f"/shortlists/{shortlist_id}/decisions", {"decisions": entries}
            else:
                kind = "answer"
                entries = [{"rank": r, "answer": rng.choice(["interested", "not_interested"])} for r in (first, second)]
                path, body = f"/shortlists/{shortlist_id}/answers", {"answers": entries}
            log.requests += 1
            sent = time.monotonic()
            try:
                response = client.post(path, json=body)
            except httpx.TransportError as error:
                load.note(Answer("write", sent, time.monotonic(), 0, f"{type(error).__name__}: {error}"))
                continue
            load.note(
                Answer(
                    "write",
                    sent,
                    time.monotonic(),
                    response.status_code,
                    _detail(response),
                    response.headers.get("Retry-After"),
                )
            )
            if response.status_code != 200:
                time.sleep(0.1)  # as Retry-After asks, only sooner
                continue
            record = response.json()
            for entry in entries:
                length, mine = own_entry(record, entry["rank"], kind, log.name)
                sent_values = {k: v for k, v in entry.items() if k != "rank"}
                if mine is None or any(mine.get(k) != v for k, v in sent_values.items()):
                    log.anomalies.append(f"{path}: 200 but rank {entry['rank']} does not show {sent_values}: {mine}")
                    continue
                at = parse_time(mine["decided_at" if kind == "decision" else "recorded_at"])
                log.acks.append(Ack(shortlist_id, entry["rank"], kind, sent_values, length, at))
            if tag is not None:
                log.acked_tags.add(tag)


def read_client(base_url: str, headers: dict[str, str], shortlists: dict[int, list[int]], load: Load) -> None:
    """The recorded shortlists, read in turn until `stop`."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, headers=headers) as client:
        while not load.stop.is_set():
            for shortlist_id in shortlists:
                sent = time.monotonic()
                try:
                    response = client.get(f"/shortlists/{shortlist_id}")
                except httpx.TransportError as error:
                    load.note(Answer("read", sent, time.monotonic(), 0, f"{type(error).__name__}: {error}"))
                    continue
                load.note(
                    Answer(
                        "read",
                        sent,
                        time.monotonic(),
                        response.status_code,
                        _detail(response),
                        response.headers.get("Retry-After"),
                    )
                )
                if response.status_code != 200:
                    time.sleep(0.1)


# The test --------------------------------------------------------------------------------------------


def test_the_service_rides_out_a_database_outage(
    request: pytest.FixtureRequest, own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    from serving.auth import Identity, add_key

    made: Trained = request.getfixturevalue("trained")  # a small dataset and its champion

    keys_file = tmp_path / "keys.json"
    env = {
        **made.env,
        "JOBMATCH_DATABASE_URL": own_postgres.url,
        "JOBMATCH_API_KEYS_FILE": str(keys_file),
        "JOBMATCH_MODEL_POLL_SECONDS": "0.5",
        "JOBMATCH_DATABASE_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
        "JOBMATCH_DATABASE_STATEMENT_TIMEOUT_SECONDS": str(STATEMENT_TIMEOUT),
    }
    adviser_key = add_key(keys_file, Identity(name="outage-adviser", role="adviser", adviser_id=made.adviser_id))
    client_keys = {
        f"client-{i:02d}": add_key(
            keys_file, Identity(name=f"client-{i:02d}", role="adviser", adviser_id=made.adviser_id)
        )
        for i in range(CLIENTS)
    }
    dpo_key = add_key(keys_file, Identity(name="outage-dpo", role="data_protection_officer"))
    adviser = {"Authorization": f"Bearer {adviser_key}"}
    server = Server(made.data, env, tmp_path / "server.log")
    load = Load([ClientLog(name) for name in client_keys])
    threads: list[threading.Thread] = []
    try:
        server.wait_healthy()
        shortlists = make_shortlists(server.url, adviser, made.candidate_ids)
        threads = [
            threading.Thread(
                target=write_client, args=(server.url, client_keys[log.name], log, i, shortlists, load), daemon=True
            )
            for i, log in enumerate(load.logs)
        ] + [
            threading.Thread(target=read_client, args=(server.url, adviser, shortlists, load), daemon=True)
            for _ in range(READERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(BEFORE_SECONDS)

        own_postgres.stop()
        stopped = time.monotonic()
        time.sleep(1.0)
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
            health = client.get("/health")
            assert health.status_code == 200, health.text
            assert health.json()["database"] == "unreachable" and health.json()["database_error"], health.json()
            english = client.post(
                f"/shortlists/{next(iter(shortlists))}/answers",
                params={"lang": "en"},
                json={"answers": [{"rank": 1, "answer": "interested"}]},
                headers=adviser,
            )
            assert english.status_code == 503 and "nothing was saved" in english.json()["detail"], english.text
            assert f"{CONNECT_TIMEOUT} s" in english.json()["detail"], english.text
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))

        restarting = time.monotonic()  # the database may answer before pg_ctl says so
        own_postgres.start()
        back = time.monotonic()
        time.sleep(AFTER_SECONDS)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "clients did not stop"
        assert server.process.poll() is None, f"the server died:\n{server.tail()}"

        report(load.answers, stopped, back)
        check_answers(load.answers, stopped, restarting, back, server)

        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/health").json()["database"] == "ok"
            records = {}
            for shortlist_id in shortlists:
                response = client.get(f"/shortlists/{shortlist_id}", headers=adviser)
                assert response.status_code == 200, response.text
                records[shortlist_id] = {item["rank"]: item for item in response.json()["items"]}
            audit = client.get("/audit", params={"limit": 10_000}, headers={"Authorization": f"Bearer {dpo_key}"})
            assert audit.status_code == 200, audit.text
        acks = sum(len(log.acks) for log in load.logs)
        assert acks > 0
        problems = check_store(load.logs, records, audit.json())
        assert not problems, f"{len(problems)} problems ({acks} acknowledged):\n" + "\n".join(problems[:40])
        anomalies = [f"{log.name}: {a}" for log in load.logs for a in log.anomalies]
        assert not anomalies, "\n".join(anomalies[:20])
    finally:
        load.stop.set()
        server.stop()
        for thread in threads:
            thread.join(timeout=30)


def make_shortlists(url: str, adviser: dict[str, str], candidate_ids: list[str]) -> dict[int, list[int]]:
    """Recorded shortlists of three suggestions or more, made before the fault."""
    shortlists: dict[int, list[int]] = {}
    with httpx.Client(base_url=url, timeout=30, headers=adviser) as client:
        for candidate_id in candidate_ids:
            response = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": 5})
            assert response.status_code == 200, response.text
            body = response.json()
            if len(body["items"]) >= 3:
                shortlists[body["shortlist_id"]] = [item["rank"] for item in body["items"]]
            if len(shortlists) == SHORTLISTS:
                return shortlists
    raise AssertionError("too few candidates with three suggestions or more")


def check_answers(answers: list[Answer], stopped: float, restarting: float, back: float, server: Server) -> None:
    """503 with the message while away (answered before the restart began), within the waits;
    normal answers 5 s after the return."""
    bound = CONNECT_TIMEOUT + STATEMENT_TIMEOUT + SLACK_SECONDS
    slow = [a for a in answers if a.seconds > bound]
    assert not slow, f"{len(slow)} requests took over {bound} s, e.g. {slow[:3]}\n{server.tail()}"
    wrong = [a for a in answers if a.status not in (200, 503)]
    assert not wrong, f"{len(wrong)} answers neither 200 nor 503, e.g. {wrong[:3]}\n{server.tail()}"
    away = [a for a in answers if a.sent > stopped + 0.5 and a.done < restarting]
    assert away and all(a.status == 503 for a in away), [a for a in away if a.status != 503][:3]
    for a in away:
        said = "ingenting ble lagret" if a.kind == "write" else "kan ikke vises nå"
        assert said in a.detail and f"{CONNECT_TIMEOUT} s" in a.detail, a
        assert a.retry_after is not None, a
    assert {a.kind for a in away} == {"write", "read"}
    late = [a for a in answers if a.sent >= back + RECOVERY_SECONDS]
    assert late, "no request was sent after the recovery time"
    failed = [a for a in late if a.status != 200]
    assert not failed, f"{len(failed)} requests failed {RECOVERY_SECONDS} s after the return, e.g. {failed[:3]}"


def report(answers: list[Answer], stopped: float, back: float) -> None:
    """The figures of the run (shown with -s)."""
    away = sorted(a.seconds for a in answers if a.status == 503)
    first_ok = min((a.done - back for a in answers if a.sent >= back and a.status == 200), default=float("nan"))
    print(
        f"{len(answers)} requests; {len(away)} answered 503 (median {away[len(away) // 2] if away else 0:.3f} s, "
        f"max {away[-1] if away else 0:.3f} s); first 200 {first_ok:.2f} s after the database's return; "
        f"outage {back - stopped:.1f} s"
    )


def test_a_quiet_pool_meets_a_restarted_database_with_fresh_connections(own_postgres: OwnPostgres) -> None:
    """The database restarts while nothing asks it anything: the next requests find the pooled
    connections dead, and are served on fresh ones instead of failing."""
    from sqlalchemy import text

    from matching.store.db import IDLE_PING_SECONDS, limit_waits, make_engine

    engine = make_engine(own_postgres.url)
    limit_waits(engine, CONNECT_TIMEOUT, STATEMENT_TIMEOUT)
    try:
        connections = [engine.connect() for _ in range(3)]  # three pooled connections
        for connection in connections:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            connection.close()
        own_postgres.stop()
        own_postgres.start()
        time.sleep(IDLE_PING_SECONDS + 0.2)
        for _ in range(3):
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
