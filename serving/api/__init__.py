"""The JSON API, one module per area: `shortlists` (the adviser's shortlist, health, the model in
service), `review` (decisions and the person's answers on a recorded shortlist, the audit trail),
`plans` (inclusion plans) and `placements` (placements, their events, follow-ups), `employer`
(candidates for a workplace, for its job specialist), `presentations` (presenting an interested
person to a workplace, and whom its employer may see), `model_ops` (reload, switching the model
off and on, the model card), `rights` (the person's explanation, access and erasure), `records`
(persons and workplaces registered and changed through the service) and `fairness` (the live
loop's fairness by audit group). Their bodies are in `serving.schemas`. `ROUTERS` lists the
routers in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from serving import observability
from serving.api import (
    employer,
    fairness,
    model_ops,
    placements,
    plans,
    presentations,
    records,
    review,
    rights,
    shortlists,
)
from serving.api.occupations import router as occupations_router

ROUTERS: tuple[APIRouter, ...] = (
    shortlists.router,
    review.router,
    plans.router,
    placements.router,
    employer.router,
    presentations.router,
    model_ops.router,
    observability.router,
    rights.router,
    records.router,
    fairness.router,
    occupations_router,
)
