"""The immutable value record the domain's records are built on (explanations, plans, placements):
frozen, unknown fields refused, and validation problems raised as the domain's own error."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class Frozen(BaseModel):
    """A frozen pydantic record that refuses unknown fields.

    A subclass turns pydantic's `ValidationError` into its domain's error by overriding `_invalid`
    (a plan raises `PlanError`, a placement `PlacementError`); by default it is raised as it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise type(self)._invalid(error) from None

    @classmethod
    def _invalid(cls, error: ValidationError) -> Exception:
        """The error to raise for these validation problems."""
        return error
