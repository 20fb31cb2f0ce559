"""One worker of `jobmatch serve --workers N`: the app each worker process builds for itself.

Uvicorn starts N worker processes on one port and supervises them: it starts a new one in place of
a worker that dies (checked every half second). Each worker calls `create_worker_app`, which
reads its settings from the environment (`serve` passes the dataset folder on as
`JOBMATCH_DATA_DIR`) and loads its own state from the store. Nothing a request changes is kept
only in one worker's memory: records, suggestions (congestion), the scoring switch and the model
version in service are all read from the store (see `serving.state.ServiceState.refresh`).

A worker follows its supervisor: when the supervisor is gone (killed without the chance to stop
its workers), the worker stops too, instead of serving on as an orphan nobody supervises.
Every response names the worker process that answered in `X-Worker` (its process id).
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from fastapi import FastAPI

from serving.app import create_app
from serving.heap import Heap

log = logging.getLogger("jobmatch.serving")

FACTORY = "serving.workers:create_worker_app"
SUPERVISOR_ENV = "JOBMATCH_SUPERVISOR_PID"
SUPERVISOR_CHECK_SECONDS = 0.25


def create_worker_app() -> FastAPI:
    """The app of one worker, its settings from the environment (`matching.settings.get_settings`)."""
    supervisor = os.environ.get(SUPERVISOR_ENV, "")
    if supervisor.isdigit():
        follow_supervisor(int(supervisor))
    return create_app(heap=Heap())


def follow_supervisor(supervisor_pid: int, every: float = SUPERVISOR_CHECK_SECONDS) -> threading.Thread:
    """Stop this worker (SIGTERM to itself: uvicorn's graceful stop) once its parent is no longer
    `supervisor_pid`, i.e. the supervisor died and the worker was handed to another parent."""

    def watch() -> None:
        while os.getppid() == supervisor_pid:
            threading.Event().wait(every)
        log.error("the supervising process %d is gone: this worker stops", supervisor_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="jobmatch-supervisor-watch", daemon=True)
    thread.start()
    return thread
