"""Operating the model while the service runs, and overseeing it:

- `POST /model/reload` (data scientist): load the configured model URI again, e.g. after a new
  champion was promoted. A model that cannot load, whose features differ from the code's, or that
  fails a trial scoring is refused (409, or 422 for other features) and the old one keeps
  serving; `GET /health` shows why in `last_reload_error`. With `JOBMATCH_MODEL_POLL_SECONDS` the
  service also watches the alias itself.
- `POST /model/off` and `POST /model/on` (data scientist, admin): human oversight. While off,
  shortlists are ranked by the transparent rule score and say so; each switch needs a reason and
  goes to the audit trail, which is also where a restart reads the switch from.
- `GET /model/scoring` (any role): the switch and the last reload, with who, when and why.
- `GET /model/card` (any role): the model card of the model loaded, as markdown.

Every reload, refusal and switch is an audit entry (subject `service`/`model` or
`service`/`scoring`), readable by the data-protection officer at `GET /audit`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import PlainTextResponse

from matching.rules import RULE_VERSION
from serving.deps import State
from serving.reloads import ReloadRefused
from serving.roles import AnyRole, DataScientist, DataScientistOrAdmin
from serving.schemas.common import ErrorMessage, ValidationErrors
from serving.schemas.model_ops import ReloadIn, ReloadOut, ScoringState, SwitchIn
from serving.state import ServiceState

router = APIRouter(tags=["model operations"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "the caller's role does not allow this"},
}


def scoring_state(state: ServiceState, changed: bool | None = None) -> ScoringState:
    """The switch and the last reload, as the API answers them."""
    switch, last, model = state.models.switch_record, state.models.last_reload, state.models.loaded
    return ScoringState(
        scoring=state.models.scoring_mode,
        changed=changed,
        model_version=model.version if model else None,
        rule_version=RULE_VERSION,
        switched_by=switch.by if switch else None,
        switched_role=switch.role if switch else None,
        switched_at=switch.at if switch else None,
        reason=switch.reason if switch else None,
        last_reload_at=last.at if last else None,
        last_reload_outcome=last.outcome if last else None,
        last_reload_error=last.error if last else None,
    )


@router.post(
    "/model/reload",
    response_model=ReloadOut,
    responses={
        **RESPONSES,
        409: {
            "model": ErrorMessage,
            "description": "the model cannot load or failed its trial scoring; the old one serves",
        },
        422: {
            "model": ErrorMessage | ValidationErrors,
            "description": "the model's features differ from the code's (the old one serves), or a malformed body",
        },
    },
    summary="Load the configured model URI again (a new champion) without a restart",
)
def reload_model(state: State, caller: DataScientist, body: Annotated[ReloadIn | None, Body()] = None) -> ReloadOut:
    """Load `JOBMATCH_MODEL_URI` (by default the `champion` alias) again, check it and swap it in.
    Requests already being scored finish with the model they started with; the next ones use
    the new one, and every response names the version that scored it.

    Refused, with the reason, when the model cannot load, its features are not the code's (422),
    or a trial scoring of a few served candidates fails (409): the model in service keeps serving
    and `GET /health` shows the error until a reload succeeds. To roll back, move the alias back
    and reload."""
    try:
        record = state.models.reload(caller.name, caller.role, trigger="api", reason=body.reason if body else None)
    except ReloadRefused as refused:
        raise HTTPException(status_code=refused.status, detail=refused.message) from refused
    return ReloadOut(
        uri=state.settings.model_uri,
        previous_version=record.previous_version,
        version=record.version,
        changed=record.previous_version != record.version,
        at=record.at,
        scoring=state.models.scoring_mode,
    )


@router.post(
    "/model/off",
    response_model=ScoringState,
    responses={**RESPONSES, 422: {"description": "no reason given"}},
    summary="Switch the model off: the transparent rule score ranks until it is switched on",
)
def model_off(body: SwitchIn, state: State, caller: DataScientistOrAdmin) -> ScoringState:
    """Human oversight: stop the model from ranking anyone. Until `POST /model/on`, shortlists
    (both sides) are ranked by the rule score, say `scored_by: rule`, and are recorded as scored by
    `rule-score`. Who, when and why go to the audit trail; a restart stays switched off."""
    _, changed = state.models.switch("rule", caller.name, caller.role, body.reason)
    return scoring_state(state, changed)


@router.post(
    "/model/on",
    response_model=ScoringState,
    responses={**RESPONSES, 409: {"model": ErrorMessage, "description": "no model is loaded"}, 422: {}},
    summary="Switch the model back on",
)
def model_on(body: SwitchIn, state: State, caller: DataScientistOrAdmin) -> ScoringState:
    """The loaded model ranks again (its version is in the answer). Audited like switching off."""
    _, changed = state.models.switch("model", caller.name, caller.role, body.reason)
    return scoring_state(state, changed)


@router.get("/model/scoring", response_model=ScoringState, responses=RESPONSES)
def model_scoring(state: State, caller: AnyRole) -> ScoringState:
    """What ranks shortlists now, who switched it, when and why, and how the last reload went."""
    return scoring_state(state)


@router.get(
    "/model/card",
    response_class=PlainTextResponse,
    responses={
        **RESPONSES,
        200: {"content": {"text/markdown": {}}, "description": "the model card, markdown"},
        404: {"model": ErrorMessage, "description": "the model was trained before cards were saved with it"},
        503: {"model": ErrorMessage, "description": "no model is loaded"},
    },
    summary="The model card of the model loaded (markdown)",
)
def model_card(state: State, caller: AnyRole) -> PlainTextResponse:
    """The card saved with the model at training: intended use, data, metrics against baselines,
    limits. While the model is switched off a note above it says so: the card describes the model
    loaded, not the rule score that ranks meanwhile."""
    model = state.models.loaded
    if model is None:
        raise HTTPException(status_code=503, detail=f"no model is loaded: {state.models.error}")
    card = model.card
    if card is None:
        raise HTTPException(
            status_code=404,
            detail=f"{model.name} version {model.version} was trained before model cards were saved with the "
            f"model: it has no card to serve; its training run ({model.run_id or 'unknown'}) keeps model_card.md "
            "among its MLflow artifacts, and a retrained model (jobmatch train) carries its card",
        )
    switch = state.models.switch_record
    if state.models.scoring_mode == "rule":
        when = f" on {switch.at.strftime('%Y-%m-%d %H:%M')} UTC by {switch.by}" if switch else ""
        card = (
            f"> **This model is switched off{when}.** Shortlists are ranked by the transparent rule score "
            f"(`{RULE_VERSION}`) until it is switched on again.\n\n" + card
        )
    return PlainTextResponse(card, media_type="text/markdown; charset=utf-8")
