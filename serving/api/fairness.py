"""The live loop's fairness, for the data-protection officer and for oversight (`admin`):

- `GET /fairness/live?since=YYYY-MM-DD&min_group=N`: per audit group (age band, gender), the
  share of persons with a shortlist and of suggestions accepted, pursued, trialled and ending in a
  hire, each as a ratio to the best group, flagged under the four-fifths rule
  (`matching.store.live_fairness`, the same function as `jobmatch fairness --from-db`). Counts
  per group only. The read is audited (the period and the number of groups, no group values).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.live_fairness import MIN_GROUP, live_fairness
from serving.auth import Identity, require
from serving.deps import State
from serving.schemas.common import ErrorMessage
from serving.schemas.fairness import LiveFairnessOut

router = APIRouter(tags=["fairness"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your role (data-protection officer or admin)"},
}
FairnessReader = Annotated[Identity, Depends(require("data_protection_officer", "admin"))]


@router.get("/fairness/live", response_model=LiveFairnessOut, responses=RESPONSES)
def read_live_fairness(
    state: State,
    caller: FairnessReader,
    since: Annotated[
        dt.date | None, Query(description="count shortlists made on or after this day (UTC); default: every one")
    ] = None,
    min_group: Annotated[
        int, Query(ge=1, le=100_000, description="groups with fewer persons are shown but not flagged")
    ] = MIN_GROUP,
) -> LiveFairnessOut:
    """What happened in the live loop to each audit group: shortlists, acceptances, contacts with
    employers, trials and hires, each group's share against the best group's, flagged under 0.8.
    Audit data (age band, gender) are never features; this report gives counts per group only."""
    with session_scope(state.engine) as session:
        report = live_fairness(session, since, min_group)
        record_audit(
            session,
            caller.name,
            caller.role,
            "read_live_fairness",
            "report",
            "live_fairness",
            {"since": since.isoformat() if since else None, "min_group": min_group, "groups": len(report.groups)},
        )
    return LiveFairnessOut.model_validate(report.as_dict())
