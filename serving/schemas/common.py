"""What every area of the API shares: the error bodies (401/403/404/409 detail, FastAPI's 422
shape and `unprocessable` to raise one), the model in service (`ModelInfo`, named in every
scored response) and the service's health."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import HTTPException, Response
from pydantic import BaseModel, Field


def serialised(answer: BaseModel) -> Response:
    """A route's answer, validated once (when it was built) and serialised once. Returned as a
    model, FastAPI would dump it to a dict, validate that again against the response model and
    only then serialise it: for a shortlist's record, most of the route's own time."""
    return Response(content=answer.model_dump_json(), media_type="application/json")


class ErrorMessage(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    """FastAPI's 422 for a request that does not match its declared parameters or body."""

    detail: list[ValidationProblem]


def unprocessable(problems: list[tuple[list[str | int], str]], kind: str = "value_error") -> HTTPException:
    """A 422 in FastAPI's own validation shape: one entry per (location, message)."""
    return HTTPException(
        status_code=422, detail=[{"loc": ["body", *loc], "msg": msg, "type": kind} for loc, msg in problems]
    )


class ModelInfo(BaseModel):
    name: str = Field(description="the registered model, or `rule-score` while the model is switched off")
    version: str = Field(description="its version (for the rule score: `rules-` and the weights' fingerprint)")
    uri: str
    run_id: str
    feature_registry: str
    features: list[str]
    dataset_fingerprint: str
    loaded_at: str = Field(
        description="when the model was loaded (for the rule score: when the model was switched off)"
    )
    scored_by: Literal["model", "rule"] = Field(
        "model", description="`model`, or `rule` while people overseeing the service have switched the model off"
    )
    scoring_note: str = Field("", description="what ranked this response, in a sentence")


class Health(BaseModel):
    status: Literal["ok", "unavailable"] = Field(
        description="ok when shortlists can be scored (by the model or the rule)"
    )
    model_version: str | None = Field(description="the model loaded (it scores unless `scoring` is `rule`)")
    scoring: Literal["model", "rule"] = Field("model", description="what ranks shortlists now")
    candidates: int
    workplaces: int
    error: str | None = Field(None, description="why no model is loaded")
    database: Literal["ok", "unreachable"] = Field(
        "ok",
        description="whether the database answered just now; while it is unreachable, requests that need it are "
        "answered 503 (nothing is saved) and the persons and workplaces above are the ones last read",
    )
    database_error: str | None = Field(None, description="why the database did not answer")
    last_reload_error: str | None = Field(
        None, description="why the last reload was refused (the model above kept serving); null after a good one"
    )
    last_reload_at: dt.datetime | None = None
