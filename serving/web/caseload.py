"""The caseload list on the adviser's home page: the adviser's active persons by display name (else
id), each with their stage in the loop in words and whether a follow-up is overdue, filtered by
the GET parameters `q` (name or id), `stage` (one of `matching.store.caseload.STAGES`) and
`overdue` ("1": only persons with an overdue follow-up). The whole caseload's status is read in one
call (`matching.store.caseload.caseload_status`), not person by person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from matching.store.caseload import STAGES, caseload_status
from matching.store.db import session_scope
from matching.store.local_fields import display_names
from serving.web.render import Page, date_text

MAX_QUERY = 100


@dataclass(frozen=True)
class CaseloadFilter:
    """The filters as the page was asked for them; `problems` names a filter that was not understood."""

    query: str = ""
    stage: str = ""
    overdue: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.query or self.stage or self.overdue)


def caseload_filter(page: Page) -> CaseloadFilter:
    """The filters from the request's GET parameters; an unknown stage is dropped with a problem."""
    params = page.request.query_params
    stage = params.get("stage", "").strip()
    problems = []
    if stage and stage not in STAGES:
        problems.append(page.t("caseload_unknown_stage"))
        stage = ""
    return CaseloadFilter(
        query=params.get("q", "").strip()[:MAX_QUERY],
        stage=stage,
        overdue=params.get("overdue", "") in ("1", "on", "true"),
        problems=problems,
    )


def caseload_rows(page: Page, chosen: CaseloadFilter) -> tuple[list[dict[str, Any]], int]:
    """The adviser's active persons (with consent or without) that pass the filters, by name then
    id, each with a link to their profile, their stage in words and their overdue follow-ups; and
    how many active persons the caseload has in all."""
    frame = page.state.candidates.frame
    mine = frame[(frame["adviser_id"].astype(str) == str(page.identity.adviser_id)) & frame["active"].astype(bool)]
    ids = [str(c) for c in mine["candidate_id"]]
    consent = dict(zip(ids, mine["consent"].astype(bool), strict=True))
    with session_scope(page.state.engine, readonly=True) as session:
        names = display_names(session, ids)
        status = caseload_status(session, ids, dt.date.today())
    words = chosen.query.casefold().split()
    rows = []
    for c in ids:
        now = status[c]
        if not all(w in f"{c} {names.get(c, '')}".casefold() for w in words):
            continue
        if (chosen.stage and now.stage != chosen.stage) or (chosen.overdue and not now.overdue):
            continue
        rows.append(
            {
                "id": c,
                "name": names.get(c, c),
                "named": c in names,
                "consent": consent[c],
                "link": f"/app/persons/{quote(c)}",
                "stage": now.stage,
                "stage_text": page.t(f"caseload_stage_{now.stage}"),
                "overdue": now.overdue,
                "overdue_text": page.t(
                    "caseload_overdue_since",
                    count=now.overdue_followups,
                    date=date_text(now.overdue_since, page.lang),
                )
                if now.overdue_since is not None
                else page.t("caseload_none_overdue"),
            }
        )
    return sorted(rows, key=lambda p: (p["name"].casefold(), p["id"])), len(ids)


def caseload_context(page: Page) -> dict[str, Any]:
    """What the caseload part of the adviser's template needs."""
    chosen = caseload_filter(page)
    rows, total = caseload_rows(page, chosen)
    return {
        "persons": rows,
        "persons_total": total,
        "q": chosen.query,
        "filters": chosen,
        "stage_choices": [(stage, page.t(f"caseload_stage_{stage}")) for stage in STAGES],
        "filter_problems": chosen.problems,
    }
