"""Transitional: the names the adviser's page (`serving.web`) still imports from here. The routes
are `serving.api.review`, the bodies `serving.schemas.review`; delete this module once
`serving.web` imports them from there."""

from serving.api.review import read_shortlist, record_decisions
from serving.schemas.review import DecisionsIn, ShortlistRecord

__all__ = ["DecisionsIn", "ShortlistRecord", "read_shortlist", "record_decisions"]
