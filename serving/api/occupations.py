"""The catalogue's occupations, for whoever edits a person's profile or a workplace: finding one
by its Norwegian or English title or its code (`GET /occupations?q=`), and the occupations most
alike one (`GET /occupations/{occupation_code}/related`), by the similarity of their tasks, work
demands and interests and their place in the ISCO classification (`matching.occupations`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from matching.occupations import RELATED_THRESHOLD, Occupation, occupation_index
from serving.deps import State
from serving.roles import AdviserOrJobSpecialist
from serving.schemas.common import ErrorMessage, ValidationErrors
from serving.schemas.occupations import (
    MAX_RESULTS,
    OccupationOut,
    OccupationSearch,
    RelatedOccupation,
    RelatedOccupations,
)

router = APIRouter(tags=["occupations"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "missing or unknown API key"},
    403: {"model": ErrorMessage, "description": "not your role (advisers and job specialists)"},
    422: {"model": ValidationErrors, "description": "a parameter out of range"},
}
OccupationCode = Annotated[
    str,
    Path(pattern=r"^[0-9]{4}$", description="a 4-digit occupation code of the catalogue", examples=["5120"]),
]


def _out(occupation: Occupation) -> OccupationOut:
    return OccupationOut(code=occupation.code, title_no=occupation.title_no, title_en=occupation.title_en)


@router.get(
    "/occupations",
    response_model=OccupationSearch,
    responses=RESPONSES,
    summary="Find occupations by Norwegian or English title, or by code",
)
def search_occupations(
    state: State,
    caller: AdviserOrJobSpecialist,
    q: Annotated[
        str, Query(min_length=1, max_length=100, description="words of a title, in any order, or the start of a code")
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="the most occupations to return")] = 10,
) -> OccupationSearch:
    """Occupations of the catalogue whose Norwegian or English title holds every word of `q`
    (case-insensitive, in any order) or whose code starts with a word; at most `limit`. The same
    search as the profile page's."""
    found = occupation_index(state.pool.catalogue).search(q, limit)
    return OccupationSearch(query=q, occupations=[_out(o) for o in found])


@router.get(
    "/occupations/{occupation_code}/related",
    response_model=RelatedOccupations,
    responses={**RESPONSES, 404: {"model": ErrorMessage, "description": "no occupation with this code"}},
    summary="The occupations most alike one",
)
def related_occupations(
    occupation_code: OccupationCode,
    state: State,
    caller: AdviserOrJobSpecialist,
    n: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="how many to return")] = 10,
) -> RelatedOccupations:
    """The `n` occupations most alike this one, most alike first, with their similarity (0-1): the
    similarity the preferred-occupation feature and the shortlist's "like your wish" read."""
    index = occupation_index(state.pool.catalogue)
    occupation = index.get(occupation_code)
    if occupation is None:
        raise HTTPException(status_code=404, detail=f"unknown occupation code: {occupation_code}")
    related = []
    for entry in index.related(occupation_code, n):
        other = index.get(entry.code)
        assert other is not None  # related() names only the catalogue's codes
        related.append(RelatedOccupation(**_out(other).model_dump(), similarity=entry.similarity))
    return RelatedOccupations(occupation=_out(occupation), related=related, threshold=RELATED_THRESHOLD)
