"""Bodies of the occupation routes: the catalogue's occupations found by title or code, and the
occupations most alike one (`matching.occupations`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_RESULTS = 50
"""The most occupations one search or one list of related occupations returns."""


class OccupationOut(BaseModel):
    code: str = Field(description="the 4-digit ISCO-08 (STYRK-08) code")
    title_no: str = Field(description="the Norwegian title")
    title_en: str = Field(description="the English title")


class OccupationSearch(BaseModel):
    query: str = Field(description="the words searched for")
    occupations: list[OccupationOut] = Field(
        description="occupations whose Norwegian or English title holds every word (any order, case-insensitive) "
        "or whose code starts with one: codes starting with the first word first, then titles starting with it"
    )


class RelatedOccupation(OccupationOut):
    similarity: float = Field(ge=0, le=1, description="how alike the two occupations are (1 only for the same one)")


class RelatedOccupations(BaseModel):
    occupation: OccupationOut
    related: list[RelatedOccupation] = Field(description="the most alike occupations, most alike first")
    threshold: float = Field(
        ge=0, le=1, description="from this similarity on, a suggestion is said to be like a wished occupation"
    )
