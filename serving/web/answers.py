"""The person's own answer to a suggestion, and presenting the person to its workplace, from the
adviser's shortlist page. Recording an answer calls `serving.api.review.record_answers`
(`POST /shortlists/{id}/answers`); presenting calls `serving.api.presentations.present_person`
(`POST /presentations`), which refuses (409) a person who has not said they are interested. A
refusal is shown on the shortlist page in the page's language, and nothing is saved."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from serving.api import presentations, review
from serving.paths import StoreId
from serving.schemas.presentations import PresentationIn
from serving.schemas.review import AnswersIn
from serving.web.adviser import ANSWERS, adviser_page, shortlist_view
from serving.web.render import Form, Page, api, problems_of, redirect, run

router = APIRouter()


def _rank(form: dict[str, str]) -> int:
    try:
        return int(form.get("rank", ""))
    except ValueError as error:
        raise HTTPException(status_code=422, detail="rank: must be a whole number") from error


def _again(page: Page, shortlist_id: int, status: int, problems: list[str]) -> Response:
    """The shortlist page again, with what went wrong."""
    record = review.read_shortlist(shortlist_id, page.state, page.identity)
    return adviser_page(page, shortlist_view(page, record), status, problems)


@router.post("/shortlists/{shortlist_id}/answers")
def record_answer(request: Request, shortlist_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        rank = _rank(form)
        answer = form.get("answer", "")
        if answer not in ANSWERS:
            return _again(page, shortlist_id, 422, [page.t("choose_answer")])
        words = form.get("words", "").strip() or None
        body = api(
            page, lambda: AnswersIn.model_validate({"answers": [{"rank": rank, "answer": answer, "words": words}]})
        )
        try:
            review.record_answers(shortlist_id, body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            return _again(page, shortlist_id, 422, [page.t("not_saved"), *problems_of(error.detail, page.lang, 422)])
        return redirect(f"/app/shortlists/{shortlist_id}?done=answer#suggestion-{rank}")

    return run(request, act, ("adviser",), form)


@router.post("/shortlists/{shortlist_id}/presentations")
def present(request: Request, shortlist_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        rank = _rank(form)
        record = review.read_shortlist(shortlist_id, page.state, page.identity)
        item = next((i for i in record.items if i.rank == rank), None)
        if item is None:
            raise HTTPException(status_code=404, detail=f"rank {rank}: no such suggestion")
        fields = {"candidate_id": record.candidate_id, "workplace_id": item.workplace_id}
        body = api(page, lambda: PresentationIn.model_validate(fields))
        try:
            presentations.present_person(body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 409:
                raise
            consent = "consent" in str(error.detail)
            message = page.t("present_no_consent" if consent else "present_needs_interest")
            return _again(page, shortlist_id, 409, [message])
        return redirect(f"/app/shortlists/{shortlist_id}?done=presentation#suggestion-{rank}")

    return run(request, act, ("adviser",), form)
