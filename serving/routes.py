"""Transitional: the name the adviser's page (`serving.web`) still imports from here. The route is
`serving.api.shortlists`; delete this module once `serving.web` imports it from there."""

from serving.api.shortlists import create_shortlist

__all__ = ["create_shortlist"]
