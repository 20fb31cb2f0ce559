"""Path parameters shared by the routes and the page, defined once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# ids are 32-bit integers in the store (PostgreSQL)
StoreId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ShortlistId = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="the recorded shortlist's id (ids are 32-bit in the store)")
]
CandidateId = Annotated[str, Path(min_length=1, max_length=100, description="the person's candidate_id")]
WorkplaceId = Annotated[str, Path(min_length=1, max_length=100, description="the workplace opening")]
AdviserId = Annotated[str, Path(min_length=1, max_length=100)]
