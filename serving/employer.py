"""Transitional: the name the employer contact's page (`serving.web`) still imports from here. The
route is `serving.api.employer`; delete this module once `serving.web` imports it from there."""

from serving.api.employer import workplace_candidates

__all__ = ["workplace_candidates"]
