"""A placement as the plan page shows it: its stage, its timeline (each event with its date and who
recorded it), the next steps the page offers, and whose end-of-trial assessment is still missing.
Read through `serving.api.placements.read_placement` (`GET /placements/{id}`), with the caller's
access rules; the adviser is offered the next step and either assessment, the employer only their
own assessment."""

from __future__ import annotations

from typing import Any

from matching.placements import AssessmentSource, EndReason, EventKind, WouldContinue
from serving.api import placements as placement_api
from serving.schemas.plans import PlacementOut
from serving.web.render import Page, date_text

STEPS = tuple(k.value for k in EventKind if k is not EventKind.ASSESSMENT)
TASK_LEVELS = (1, 2, 3, 4, 5)


def step_names(page: Page, kinds: list[str]) -> str:
    """Event kinds in words, in the page's language."""
    return ", ".join(page.t(f"event_{k}") for k in kinds) or page.t("nothing_more")


def event_text(page: Page, event: dict[str, Any]) -> dict[str, Any]:
    """One timeline entry: the date, what happened (with an end's reason or an assessment's content)
    and who recorded it."""
    kind = str(event["kind"])
    details: list[str] = []
    if kind == EventKind.ENDED.value and event.get("reason"):
        reason = page.t(f"end_{event['reason']}")
        details.append(f"{reason} ({event['reason_text']})" if event.get("reason_text") else reason)
    assessment = event.get("assessment")
    what = page.t(f"event_{kind}")
    if kind == EventKind.ASSESSMENT.value and assessment:
        what = page.t("assessment_from", source=page.t(f"party_{assessment['source']}"))
        details.append(page.t("tasks_mastered_text", level=assessment["tasks_mastered"]))
        details.append(page.t("would_continue_text", answer=page.t(f"continue_{assessment['would_continue']}")))
        if assessment.get("what_worked"):
            details.append(page.t("what_worked_text", text=assessment["what_worked"]))
        if assessment.get("what_to_change"):
            details.append(page.t("what_to_change_text", text=assessment["what_to_change"]))
    return {
        "kind": kind,
        "day": date_text(event["at"], page.lang),
        "what": what,
        "details": details,
        "by": page.t("recorded_by", who=event["by"]),
    }


def missing_assessments(placement: PlacementOut) -> list[str]:
    """The sources whose assessment can still be given."""
    if EventKind.ASSESSMENT.value not in placement.allowed_next:
        return []
    given = {e["assessment"]["source"] for e in placement.events if e["kind"] == "assessment" and e.get("assessment")}
    return [s.value for s in AssessmentSource if s.value not in given]


def placement_view(page: Page, placement_id: int) -> dict[str, Any]:
    """The placement's section of the plan page."""
    placement = placement_api.read_placement(placement_id, page.state, page.identity)
    adviser = page.identity.role == "adviser"
    missing = missing_assessments(placement)
    sources = missing if adviser else [s for s in missing if s == AssessmentSource.EMPLOYER.value]
    return {
        "id": placement.placement_id,
        "stage": page.t(f"stage_{placement.stage}"),
        "timeline": [event_text(page, e) for e in placement.events],
        "next_steps": [(k, page.t(f"event_{k}")) for k in placement.allowed_next if k in STEPS] if adviser else [],
        "end_reasons": [(r.value, page.t(f"end_{r.value}")) for r in EndReason],
        "assess_sources": [(s, page.t(f"party_{s}")) for s in sources],
        "task_levels": TASK_LEVELS,
        "continue_answers": [(w.value, page.t(f"continue_{w.value}")) for w in WouldContinue],
    }
