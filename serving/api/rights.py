"""The person's rights (GDPR articles 13-15, 17 and 22; EU AI Act transparency): a plain-language
explanation of their suggestions, access to everything held about them, and erasure.

- `GET /candidates/{id}/explanation?lang=no|en`: for the person themself, read out by their
  adviser (own caseload only) or the data-protection officer: why each suggestion of their latest
  shortlist was made, in plain sentences (`matching.plain`), what the workplace gives and what is
  arranged elsewhere, which of their data was used (with the values) and what was not, who made
  the shortlist (which model, or the rule score while the model was switched off, and when) and
  that an adviser decides; their rights. The read is audited.
- `GET /candidates/{id}/export` (data-protection officer): everything the store holds about the
  person, as JSON (`matching.store.rights.person_record`). Audited.
- `DELETE /candidates/{id}` (data-protection officer, body `{"reason": ...}`): erasure, in one
  transaction (`matching.store.rights.erase_person`), then the running API stops serving them.

What erasure keeps, and why
---------------------------
Deleted, not anonymised: the candidate record, their `outcomes` and `audit` (age band, gender)
contract rows, every shortlist made for them with its items (feature values, explanations), the
decisions and the person's answers on those items, inclusion plans with every revision and
approval (free text: tutor, needs outside work), placements with their events (assessments,
free-text reasons) and follow-ups (notes).

Decisions and placements are deleted too, not kept as "anonymous" outcome rows for retraining.
A decision or placement row names a workplace, a day and an adviser; for a small caseload at a
small employer that identifies the person as surely as their id, and the feature values stored
with it (derived from their skills, needs, home and hours) are a fingerprint of them. Without
those feature values and the person's record, a row cannot be used for training at all (the ranker
learns from feature vectors grouped by person), so keeping it would keep personal data for no
benefit. What retraining needs in aggregate survives elsewhere: each workplace's
`past_placements` and `past_hires` (employer-level counts kept by the source system, not derived
from the person) and the records of everyone else. A model trained before the erasure holds no
records of anyone (MLflow keeps parameters, metrics and a dataset fingerprint); the next training
run no longer sees the person. No per-person statistics are kept under a pseudonym either: with
one erased person an aggregate is that person's data.

Kept: the audit trail (who read or changed what, when), because security logging and
accountability (GDPR articles 5(2) and 32) require it for the retention period
(`audit_retention_days`, then purged). The person's id in it is replaced by a one-way pseudonym,
`erased:` + HMAC-SHA256(key, id): keyed, because ids are enumerable and a plain hash of one can
be reversed by trying them all; the key lives outside the database (`JOBMATCH_PSEUDONYM_KEY`, or
the file `data/pseudonym.key` made on the first erasure), so a reader of the database cannot
confirm that a given person was ever here. Audit details of entries about the person are cut to
ids of deleted records, counts and the model version (no decisions, reason codes, answers or
changed fields). The erasure register keeps the same keyed hash, the key's fingerprint, who erased,
when and why, so `jobmatch load` of the same source data leaves the person out (and refuses to
run with another key rather than let them back in). The reason text is for accountability and
must not itself hold personal data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from sqlalchemy.orm import Session

from matching import plain
from matching.plain import Lang
from matching.records import table_schemas
from matching.store.audit import record_audit
from matching.store.db import session_scope
from matching.store.errors import NotFoundError, StoreError
from matching.store.plans import get_plan, plan_for_item
from matching.store.records import candidate_record, has_fairness_record
from matching.store.rights import erase_person, person_record
from matching.store.shortlists import StoredShortlist, latest_shortlist
from serving.auth import Identity, check_caseload
from serving.deps import State
from serving.loading import RULE_NAME
from serving.paths import CandidateId
from serving.roles import AdviserOrDataProtectionOfficer, DataProtectionOfficer
from serving.schemas.common import ErrorMessage, unprocessable
from serving.schemas.rights import (
    DataGroup,
    ErasureIn,
    ErasureOut,
    Explanation,
    MadeBy,
    PlainReason,
    PlainSuggestion,
)
from serving.state import ServiceState

router = APIRouter(tags=["the person's rights"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your caseload, or not your role"},
    404: {"model": ErrorMessage, "description": "the store holds no such person (or no shortlist for them)"},
}


def _person(session: Session, candidate_id: str, caller: Identity) -> dict[str, Any]:
    record = candidate_record(session, candidate_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"unknown candidate_id: {candidate_id}")
    check_caseload(caller, record["adviser_id"])
    return record


def _needs_outside_work(session: Session, item_id: int, lang: Lang) -> tuple[list[str], list[dict[str, Any]]]:
    """The plan's help outside work and its unmet support needs, when the suggestion has a plan."""
    plan_id = plan_for_item(session, item_id)
    if plan_id is None:
        return [], []
    support = get_plan(session, plan_id)["body"].get("support_system") or {}
    outside = [
        f"{plain.area_text(str(n.get('area', '')), lang)}: {n.get('description', '')}"
        for n in support.get("needs_outside_work") or []
    ]
    return outside, list(support.get("unmet_support_needs") or [])


def _suggestion(
    session: Session, state: ServiceState, stored: StoredShortlist, index: int, lang: Lang
) -> PlainSuggestion:
    item = stored.items[index]
    explanation = item.get("explanation") or {}
    code = str(item.get("occupation_code", ""))
    title = state.pool.catalogue.title(code, lang) if code else item.get("occupation_title", "")
    distance = item.get("distance_km")
    outside, plan_unmet = _needs_outside_work(session, stored.item_ids[index], lang)
    unmet = {s["support"]: s for s in [*explanation.get("support_needs_unmet", []), *plan_unmet] if "support" in s}
    km = plain.number(float(distance), lang) if distance is not None else "?"
    return PlainSuggestion(
        rank=item["rank"],
        workplace_id=item["workplace_id"],
        occupation=title,
        distance_km=distance,
        summary=plain.text("suggestion", lang, rank=item["rank"], title=title, km=km),
        speaks_for=[
            PlainReason(feature=r["feature"], sentence=plain.reason_sentence(r["feature"], True, lang))
            for r in explanation.get("speaks_for", [])
        ],
        speaks_against=[
            PlainReason(feature=r["feature"], sentence=plain.reason_sentence(r["feature"], False, lang))
            for r in explanation.get("speaks_against", [])
        ],
        workplace_gives=[plain.support_text(s["support"], lang) for s in explanation.get("support_needs_met", [])],
        training=[plain.task_text(t["task"], lang) for t in explanation.get("tasks_needing_training", [])],
        arranged_elsewhere=[_arranged(state, need, lang) for need in unmet.values()],
        what_would_help=[
            plain.option_text(
                str(o["support"]), float(o["expected_success"]), float(o["expected_success_if_arranged"]), lang
            )
            for o in item.get("support_options") or []
        ],
        estimate_note=plain.ESTIMATE_NOTE[lang] if item.get("support_options") else None,
        needs_outside_work=outside,
        similar_to_wish=_similar_to_wish(state, explanation, lang),
    )


def _arranged(state: ServiceState, need: dict[str, Any], lang: Lang) -> str:
    """A support the workplace cannot give, in the person's words, with what the support system
    does about it when it can arrange it."""
    text = plain.support_text(str(need["support"]), lang)
    if need.get("arranged_by") != "support_system":
        return text
    scheme = state.pool.catalogue.vocabulary.scheme(str(need["support"]), lang)
    return f"{text}: {plain.arranged_text(need.get('need') == 'required', scheme, lang)}"


def _similar_to_wish(state: ServiceState, explanation: dict[str, Any], lang: Lang) -> str | None:
    """The person's sentence ("Likner ønsket ditt: ...") when the suggestion is like one of their wishes."""
    similar = explanation.get("similar_to_wish")
    if not isinstance(similar, dict) or not similar.get("code"):
        return None
    title = state.pool.catalogue.title(str(similar["code"]), lang)
    return plain.wish_text(title, lang)


@router.get(
    "/candidates/{candidate_id}/explanation",
    response_model=Explanation,
    responses=RESPONSES,
    summary="The person's latest suggestions explained in plain language, for them",
)
def explain_to_person(
    candidate_id: CandidateId,
    state: State,
    caller: AdviserOrDataProtectionOfficer,
    lang: Annotated[Lang, Query(description="no: Norwegian bokmål (default); en: English")] = "no",
) -> Explanation:
    """For the person themself, to be read out by their adviser: why each suggestion of their
    latest shortlist was made, what the workplace gives and what is arranged elsewhere, which of
    their data was used (with its values) and what was not, which model made the shortlist and
    when, that an adviser decides, and their rights to correction and erasure."""
    with session_scope(state.engine) as session:
        record = _person(session, candidate_id, caller)
        stored = latest_shortlist(session, candidate_id)
        if stored is None:
            raise HTTPException(status_code=404, detail="no shortlist has been made for this person yet")
        suggestions = [_suggestion(session, state, stored, i, lang) for i in range(len(stored.items))]
        fairness = has_fairness_record(session, candidate_id)
        record_audit(
            session,
            caller.name,
            caller.role,
            "read_explanation",
            "candidate",
            candidate_id,
            {"shortlist_id": stored.id, "lang": lang},
        )
    columns = [c.name for c in table_schemas()["candidates"]]
    rule = stored.model_name == RULE_NAME
    notes = [plain.text("support_needs_are_functional", lang)]
    if fairness:
        notes.append(plain.text("fairness_data", lang))
    return Explanation(
        candidate_id=candidate_id,
        lang=lang,
        title=plain.text("title", lang),
        shortlist_id=stored.id,
        made_by=MadeBy(
            model_name=stored.model_name,
            model_version=stored.model_version,
            scored_by="rule" if rule else "model",
            made_at=stored.created_at,
            requested_by=stored.requested_by,
            sentence=plain.text(
                "made_by_rule" if rule else "made_by",
                lang,
                date=plain.day(stored.created_at, lang),
                model=stored.model_name,
                version=stored.model_version,
                who=stored.requested_by,
            ),
        ),
        suggestions=suggestions,
        no_suggestions=None if suggestions else plain.text("no_suggestions", lang),
        why_short=plain.why_short(stored.filtered, lang),
        data_used_heading=plain.text("data_used", lang),
        data_used=[
            DataGroup.model_validate(group)
            for group in plain.data_used(record, lang, lambda code: state.pool.catalogue.title(code, lang), columns)
        ],
        not_used_heading=plain.text("not_used", lang),
        not_used=plain.not_used(lang),
        kept_not_used=plain.kept_not_used(lang),
        notes=notes,
        adviser_decides=plain.text("adviser_decides", lang),
        rights=plain.text("rights", lang),
    )


@router.get(
    "/candidates/{candidate_id}/export",
    response_model=dict[str, Any],
    responses=RESPONSES,
    summary="Everything the store holds about one person (right of access)",
)
def export_person(candidate_id: CandidateId, state: State, caller: DataProtectionOfficer) -> dict[str, Any]:
    """The person's contract record, fairness audit fields, outcomes, shortlists with their items,
    decisions and answers, plans with revisions and approvals, placements with events and
    follow-ups, and the audit entries about them (this export's own entry included)."""
    with session_scope(state.engine) as session:
        if candidate_record(session, candidate_id) is None:
            raise HTTPException(status_code=404, detail=f"unknown candidate_id: {candidate_id}")
        record_audit(session, caller.name, caller.role, "export_person", "candidate", candidate_id)
        return person_record(session, candidate_id)


@router.delete(
    "/candidates/{candidate_id}",
    response_model=ErasureOut,
    responses={
        **RESPONSES,
        409: {"model": ErrorMessage, "description": "the person was already erased"},
        500: {"model": ErrorMessage, "description": "the pseudonym key is missing or not the register's"},
    },
    summary="Erase a person's personal data (right to erasure)",
)
def erase(
    candidate_id: CandidateId,
    body: Annotated[ErasureIn, Body()],
    state: State,
    caller: DataProtectionOfficer,
) -> ErasureOut:
    """Delete everything the store holds about the person in one transaction, keep the audit
    trail with their id replaced by a pseudonym, record the erasure so a later load of the same
    source data leaves them out, and stop serving them. See the module documentation for what
    is kept and why."""
    key = state.settings.pseudonym_secret(create=True)
    assert key is not None  # create=True makes one
    with session_scope(state.engine) as session:
        try:
            report = erase_person(session, candidate_id, key, caller.name, caller.role, body.reason)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        except StoreError as error:
            if error.field not in ("pseudonym_key", "candidate_id"):  # e.g. a reason of blanks only
                raise unprocessable([([error.field or "reason"], str(error))]) from error
            status = 500 if error.field == "pseudonym_key" else 409
            raise HTTPException(status_code=status, detail=str(error)) from error
    served = state.forget(candidate_id)
    state.congestion.refresh(state.engine)  # their suggestions no longer count against workplaces
    return ErasureOut(
        erasure_id=report.erasure_id,
        pseudonym=report.pseudonym,
        erased_at=report.erased_at,
        rows_deleted=report.deleted,
        audit_entries_pseudonymised=report.audit_pseudonymised,
        served=served,
    )
