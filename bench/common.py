"""What the benchmark scripts share: progress lines, a free loopback port, `jobmatch serve`
started and stopped around a run (this code, or another copy of it such as a baseline commit's,
with extra arguments such as `--workers`), and percentiles."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@contextmanager
def running_server(
    data: Path, env: dict[str, str], log_file: Path, code: Path = ROOT, args: Sequence[str] = ()
) -> Iterator[str]:
    """`jobmatch serve` of the code in `code` (run from there, with `PYTHONPATH` pointing at it)
    on a free loopback port until /health answers 200; always stopped after."""
    port = free_port()
    env = {**env, "PYTHONPATH": str(code)}
    with open(log_file, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobmatch", "serve", "--data", str(data), "--port", str(port), *args],
            env=env,
            cwd=code,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        with httpx.Client(base_url=url, timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server exited with {process.returncode}; see {log_file}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not answer /health in 180 s; see {log_file}")
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
