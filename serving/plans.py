"""Transitional: the names the adviser's page (`serving.web`) still imports from here. The routes
are `serving.api.plans` and `serving.api.placements`, the bodies `serving.schemas.plans`; delete
this module once `serving.web` imports them from there."""

from serving.api.placements import due_follow_ups, record_contact
from serving.api.plans import approve, read_plan, revise_plan
from serving.schemas.plans import ApprovalIn, FollowUpIn, RevisionIn

__all__ = [
    "ApprovalIn",
    "FollowUpIn",
    "RevisionIn",
    "approve",
    "due_follow_ups",
    "read_plan",
    "record_contact",
    "revise_plan",
]
