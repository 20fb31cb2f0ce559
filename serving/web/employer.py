"""The employer's page: the employer's workplaces and, for one, the persons presented to it whom the
employer may see (their latest answer on a suggestion of it is "interested" and they consent:
`serving.api.presentations.presented_persons`), each with a link to their plan. No ranking and no
list of other job seekers: the employer never sees a person before that person's interest and a
presentation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from serving.api import presentations as presentation_api
from serving.web.render import Page, date_text, render, run

router = APIRouter()


def employer_workplaces(page: Page) -> list[dict[str, Any]]:
    """The employer's workplaces, with their occupation's title and whether they are open."""
    pool = page.state.pool
    frame = pool.frame
    rows = frame.index[frame["employer_id"].astype(str) == str(page.identity.employer_id)]
    out = []
    for row in rows:
        position = frame.index.get_loc(row)
        code = str(frame.at[row, "occupation_code"])
        out.append(
            {
                "id": str(frame.at[row, "workplace_id"]),
                "title": pool.catalogue.title(code, page.lang),
                "open": bool(pool.is_open[position]),
            }
        )
    return sorted(out, key=lambda w: w["id"])


def presented(page: Page, workplace_id: str) -> list[dict[str, Any]]:
    """The persons presented to the workplace whom the employer may see, with their plans (the
    API's own function: 403 for another employer's workplace, 404 for an unknown one)."""
    found = presentation_api.presented_persons(workplace_id, page.state, page.identity)
    return [
        {
            "candidate_id": person.candidate_id,
            "presented_on": page.t("presented_on", date=date_text(person.presented_at, page.lang)),
            "plan_ids": person.plan_ids,
        }
        for person in found.persons
    ]


@router.get("/employer")
def employer_page(request: Request) -> Response:
    def show(page: Page) -> Response:
        workplaces = employer_workplaces(page)
        chosen = request.query_params.get("workplace_id") or None
        persons = presented(page, chosen) if chosen is not None else []
        return render(request, "employer.html", page, workplaces=workplaces, chosen=chosen, persons=persons)

    return run(request, show, ("employer",))
