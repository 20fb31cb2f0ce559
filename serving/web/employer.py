"""The employer contact's mirror page: the employer's workplaces, the plans opened for one, and
the candidates the service suggests for it (`serving.api.employer.workplace_candidates`), each with
its score bar and what speaks for and against."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from matching import plain
from matching.errors import ModelMismatchError
from matching.store.db import session_scope
from matching.store.plans import get_plan, plans_of_workplace
from matching.store.records import employer_of
from serving.api import employer as employer_api
from serving.schemas.employer import CandidatesRequest
from serving.web.render import (
    DEFAULT_TOP_K,
    TOP_K_CHOICES,
    Page,
    number_text,
    problems_of,
    render,
    run,
    score_bars,
)

router = APIRouter()


def employer_workplaces(page: Page) -> list[dict[str, Any]]:
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


def workplace_plans(page: Page, workplace_id: str) -> list[dict[str, Any]]:
    with session_scope(page.state.engine, readonly=True) as session:
        owner = employer_of(session, workplace_id)
        if owner is None or owner != page.identity.employer_id:
            raise HTTPException(status_code=403, detail="this workplace is not your employer's")
        found = []
        for plan_id in plans_of_workplace(session, workplace_id):
            stored = get_plan(session, plan_id)
            found.append(
                {
                    "id": plan_id,
                    "candidate_id": stored["candidate_id"],
                    "revision": stored["revision"],
                    "agreed": stored["agreed"],
                    "awaiting": ", ".join(page.t(f"party_{p}") for p in stored["awaiting"]),
                }
            )
    return found


def expected_success(page: Page, scores: list[float]) -> list[float | None]:
    """The calibrated chance of a hire of each score, by the model that scored them (the one this
    request took); None each for the rule score or a model without calibration."""
    ranker = page.state.scoring().model.ranker
    try:
        return [float(p) for p in ranker.expected_success(np.asarray(scores, dtype=np.float64))]
    except ModelMismatchError:  # no calibration: the bar compares within the list instead
        return [None] * len(scores)


@router.get("/employer")
def employer_page(request: Request) -> Response:
    def show(page: Page) -> Response:
        workplaces = employer_workplaces(page)
        chosen = request.query_params.get("workplace_id") or None
        try:
            top_k = int(request.query_params.get("top_k", DEFAULT_TOP_K * 2))
        except ValueError:
            top_k = DEFAULT_TOP_K * 2
        top_k = top_k if top_k in TOP_K_CHOICES else DEFAULT_TOP_K * 2
        result, problems, found_plans = None, [], []
        if chosen is not None:
            found_plans = workplace_plans(page, chosen)
            try:
                result = employer_api.workplace_candidates(
                    chosen, CandidatesRequest(top_k=top_k), page.state, page.identity
                )
            except HTTPException as error:
                if error.status_code != 409:
                    raise
                problems = problems_of(error.detail)
        candidates = []
        if result is not None:
            scores = [i.score for i in result.items]
            bars = score_bars(scores, expected_success(page, scores), page)
            for item, (bar, score_text) in zip(result.items, bars, strict=True):
                x = item.explanation
                candidates.append(
                    {
                        "rank": item.rank,
                        "candidate_id": item.candidate_id,
                        "score_percent": bar,
                        "score_text": score_text,
                        "distance": page.t("km_from_home", km=number_text(item.distance_km, page.lang, 1)),
                        "speaks_for": [r.sentence for r in x.speaks_for],
                        "speaks_against": [r.sentence for r in x.speaks_against],
                        "gives": [plain.support_text(s.support, page.lang) for s in x.supports_the_workplace_gives],
                        "elsewhere": [
                            plain.support_text(s.support, page.lang) for s in x.supports_to_arrange_elsewhere
                        ],
                        "train": [plain.task_text(t.task, page.lang) for t in x.tasks_to_train],
                    }
                )
        return render(
            request,
            "employer.html",
            page,
            status=409 if problems else 200,
            workplaces=workplaces,
            chosen=chosen,
            top_k=top_k,
            top_k_choices=TOP_K_CHOICES,
            eligible=result.eligible_candidates if result is not None else None,
            candidates=candidates,
            plans=found_plans,
            problems=problems,
        )

    return run(request, show, ("employer_contact",))
