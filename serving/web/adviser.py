"""The adviser's page: the caseload (its list with filters is `serving.web.caseload`), the recent
shortlists and the follow-ups due, making a shortlist, showing a recorded one with its
explanations (and, per suggestion, the person's latest answer and whether they were presented to
its workplace), recording an accept or a reject, and marking a follow-up contact done. Each action
calls the JSON API's own function. Recording the person's answer and presenting them are in
`serving.web.answers`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from matching import plain
from matching.plain import Lang
from matching.plain.adviser import adviser_sentence
from matching.review import REASON_CODES
from matching.store.db import session_scope
from matching.store.local_fields import display_names
from matching.store.presentations import presentations_of
from matching.store.shortlists import recent_shortlists as stored_recent_shortlists
from serving.api import placements, review, shortlists
from serving.paths import StoreId
from serving.schemas.plans import FollowUpIn
from serving.schemas.review import DecisionsIn, ShortlistRecord
from serving.schemas.shortlists import ShortlistRequest
from serving.web.caseload import caseload_context
from serving.web.render import (
    DEFAULT_TOP_K,
    LOGIN_ROLES,
    TOP_K_CHOICES,
    Form,
    Page,
    api,
    date_text,
    need_text,
    number_text,
    option_texts,
    problems_of,
    redirect,
    render,
    run,
    score_bars,
    unmet_need_text,
    wish_text,
)

RECENT_SHORTLISTS = 10
ANSWERS = ("interested", "not_interested", "unsure")

router = APIRouter()


@router.get("")
def home(request: Request) -> Response:
    def show(page: Page) -> Response:
        if page.identity.role == "employer":
            return redirect("/app/employer")
        if page.identity.role == "job_specialist":
            return redirect("/app/specialist")
        return adviser_page(page)

    return run(request, show, LOGIN_ROLES)


def caseload(page: Page) -> list[str]:
    """The adviser's consenting, active candidates that the service serves (pseudonymous ids)."""
    frame = page.state.candidates.frame
    mine = frame[
        (frame["adviser_id"].astype(str) == str(page.identity.adviser_id))
        & frame["consent"].astype(bool)
        & frame["active"].astype(bool)
    ]
    served = page.state.positions
    return sorted(str(c) for c in mine["candidate_id"] if str(c) in served)


def recent_shortlists(page: Page, candidate_ids: list[str]) -> list[dict[str, Any]]:
    if not candidate_ids:
        return []
    with session_scope(page.state.engine, readonly=True) as session:
        headings = stored_recent_shortlists(session, candidate_ids, RECENT_SHORTLISTS)
    return [{"id": h.id, "candidate_id": h.candidate_id, "day": date_text(h.created_at, page.lang)} for h in headings]


def followups(page: Page) -> dict[str, list[dict[str, Any]]]:
    lists = placements.due_follow_ups(str(page.identity.adviser_id), page.state, page.identity, None)
    return {
        name: [
            {
                **row,
                "day": date_text(row["due_on"], page.lang),
                "iso": row["due_on"].isoformat(),
                "with": page.t(f"party_{row['party']}"),
            }
            for row in rows
        ]
        for name, rows in lists.items()
    }


def adviser_page(
    page: Page, shortlist: dict[str, Any] | None = None, status: int = 200, problems: list[str] | None = None
) -> Response:
    ids = caseload(page)
    chosen = shortlist["candidate_id"] if shortlist else None
    listed = caseload_context(page) if shortlist is None else {}
    with session_scope(page.state.engine, readonly=True) as session:
        names = display_names(session, ids)
    return render(
        page.request,
        "adviser.html",
        page,
        status=status,
        caseload=[(c, f"{names[c]} ({c})" if c in names else c) for c in ids],
        chosen=chosen,
        top_k_choices=TOP_K_CHOICES,
        top_k=shortlist["top_k"] if shortlist else DEFAULT_TOP_K,
        recent=recent_shortlists(page, ids),
        followups=followups(page),
        shortlist=shortlist,
        reason_codes=[(code, page.t(f"reason_{code}")) for code in REASON_CODES],
        answers=[(code, page.t(f"answer_{code}")) for code in ANSWERS],
        problems=(problems or []) + listed.pop("filter_problems", []),
        **listed,
    )


@router.post("/shortlists")
def make_shortlist(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            top_k = int(form.get("top_k", DEFAULT_TOP_K))
        except ValueError:
            top_k = DEFAULT_TOP_K
        body = api(page, lambda: ShortlistRequest(candidate_id=form.get("candidate_id") or None, top_k=top_k))
        served = shortlists.make_shortlist(body, page.state, page.identity)
        return redirect(f"/app/shortlists/{served.shortlist_id}")

    return run(request, act, ("adviser",), form)


def shortlist_view(page: Page, record: ShortlistRecord) -> dict[str, Any]:
    """The recorded shortlist as the page shows it, in the page's language."""
    lang = page.lang
    bars = score_bars(
        [item.score for item in record.items], [item.item.get("expected_success") for item in record.items], page
    )
    with session_scope(page.state.engine, readonly=True) as session:
        presented = {p.workplace_id: p for p in presentations_of(session, record.candidate_id)}
    items = []
    for entry, (bar, score_text) in zip(record.items, bars, strict=True):
        item = entry.item
        explanation = item.get("explanation") or {}
        values = item.get("features") or {}
        code = str(item.get("occupation_code", ""))
        title = page.state.pool.catalogue.title(code, lang) if code else str(item.get("occupation_title", ""))
        decision = None
        if entry.decision is not None:
            d = entry.decision
            when = date_text(d.decided_at, lang)
            if d.decision == "accept":
                decision = {"kind": "accept", "text": page.t("accepted_by", who=d.decided_by, date=when)}
            else:
                reason = page.t(f"reason_{d.reason_code}") if d.reason_code in REASON_CODES else str(d.reason_code)
                if d.reason_text:
                    reason = f"{reason} ({d.reason_text})"
                decision = {
                    "kind": "reject",
                    "text": page.t("rejected_by", who=d.decided_by, date=when, reason=reason),
                }
        distance = item.get("distance_km")
        items.append(
            {
                "rank": entry.rank,
                "workplace_id": entry.workplace_id,
                "title": title,
                "score_percent": bar,
                "score_text": score_text,
                "distance": page.t("km_from_home", km=number_text(float(distance), lang, 1))
                if distance is not None
                else "?",
                "similar_to_wish": wish_text(explanation, page),
                "speaks_for": [_reason(r, values, True, lang) for r in explanation.get("speaks_for", [])],
                "speaks_against": [_reason(r, values, False, lang) for r in explanation.get("speaks_against", [])],
                "needs_met": [need_text(s, page) for s in explanation.get("support_needs_met", [])],
                "needs_unmet": [unmet_need_text(s, page) for s in explanation.get("support_needs_unmet", [])],
                "options": option_texts(item, page),
                "training": [
                    {
                        "task": plain.task_text(str(t.get("task", "")), lang),
                        "levels": page.t(
                            "task_levels",
                            required=number_text(float(t.get("required_level", 0)), lang),
                            skill=number_text(float(t.get("skill_level", 0)), lang),
                        ),
                    }
                    for t in explanation.get("tasks_needing_training", [])
                ],
                "decision": decision,
                "plan_id": entry.plan_id,
                **_answer_and_presentation(page, entry.person_answer, presented.get(entry.workplace_id)),
            }
        )
    return {
        "id": record.shortlist_id,
        "candidate_id": record.candidate_id,
        "top_k": record.top_k,
        "made_by": page.t(
            "made_by_model",
            date=date_text(record.created_at, lang),
            who=record.requested_by,
            model=record.model_name,
            version=record.model_version,
        ),
        "items": items,
        "why_short": why_short(page, record.filtered, len(items) < record.top_k),
    }


def why_short(page: Page, stored: Mapping[str, Any] | None, short: bool) -> dict[str, Any] | None:
    """Why the list is short (the workplaces each rule removed) and what a longer commute would
    add, in the words of `matching.plain.why_short`; None for a shortlist made before this was kept."""
    lines = plain.why_short(dict(stored) if stored else None, page.lang)
    return {"lines": lines, "open": short} if lines else None


def _answer_and_presentation(page: Page, answer: Any, presentation: Any) -> dict[str, Any]:
    """The person's latest answer on a suggestion, and whether they were presented to its workplace."""
    out: dict[str, Any] = {"answer": None, "answer_text": None, "answer_words": None, "presented": None}
    if answer is not None:
        out["answer"] = answer.answer
        if answer.words:
            out["answer_words"] = page.t("answer_words_said", words=answer.words)
        out["answer_text"] = page.t(
            "answer_recorded",
            answer=page.t(f"answer_{answer.answer}"),
            who=answer.recorded_by,
            date=date_text(answer.recorded_at, page.lang),
        )
    if presentation is not None:
        out["presented"] = page.t(
            "presented_by", who=presentation.presented_by, date=date_text(presentation.presented_at, page.lang)
        )
    return out


def _reason(reason: Mapping[str, Any], features: Mapping[str, Any], positive: bool, lang: Lang) -> dict[str, str]:
    """The adviser's own sentence with its number, in the page's language (`matching.plain.adviser`)."""
    text, written_in = adviser_sentence(reason, features, positive, lang)
    return {"text": text, "lang": written_in}


@router.get("/shortlists/{shortlist_id}")
def shortlist_page(request: Request, shortlist_id: StoreId) -> Response:
    def show(page: Page) -> Response:
        record = review.read_shortlist(shortlist_id, page.state, page.identity)
        return adviser_page(page, shortlist_view(page, record))

    return run(request, show, ("adviser",))


@router.post("/shortlists/{shortlist_id}/decisions")
def decide(request: Request, shortlist_id: StoreId, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            rank = int(form.get("rank", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="rank: must be a whole number") from error
        verdict = form.get("decision", "")
        decision: dict[str, Any] = {"rank": rank, "decision": verdict}
        if verdict == "reject":
            decision["reason_code"] = form.get("reason_code") or None
            decision["reason_text"] = form.get("reason_text", "").strip() or None
        body = api(page, lambda: DecisionsIn.model_validate({"decisions": [decision]}))
        try:
            record = review.record_decisions(shortlist_id, body, page.state, page.identity)
        except HTTPException as error:
            if error.status_code != 422:
                raise
            again = review.read_shortlist(shortlist_id, page.state, page.identity)
            return adviser_page(page, shortlist_view(page, again), 422, problems_of(error.detail, page.lang, 422))
        item = next(i for i in record.items if i.rank == rank)
        if verdict == "accept" and item.plan_id is not None:
            return redirect(f"/app/plans/{item.plan_id}?done=decision")
        return redirect(f"/app/shortlists/{shortlist_id}?done=decision#suggestion-{rank}")

    return run(request, act, ("adviser",), form)


@router.post("/followups")
def followup_done(request: Request, form: Form) -> Response:
    def act(page: Page) -> Response:
        try:
            placement_id = int(form.get("placement_id", ""))
        except ValueError as error:
            raise HTTPException(status_code=422, detail="placement_id: must be a whole number") from error
        fields = {
            "party": form.get("party", ""),
            "due_on": form.get("due_on", ""),
            "note": form.get("note", "").strip() or None,
        }
        body = api(page, lambda: FollowUpIn.model_validate(fields))
        placements.record_contact(placement_id, body, page.state, page.identity)
        return redirect("/app?done=followup")

    return run(request, act, ("adviser",), form)
