"""The roles an API key can hold, named once and free of FastAPI, so the command line
(`jobmatch keys add --role`) can offer them without loading the service. What each role may do
is described in `serving.auth`. A key file written before the employer's role was split keeps
working: its `employer_contact` keys are read as `employer` (`LEGACY_ROLES`)."""

from __future__ import annotations

from typing import Literal

Role = Literal["adviser", "job_specialist", "employer", "data_scientist", "batch", "data_protection_officer", "admin"]
ROLES: tuple[str, ...] = (
    "adviser",
    "job_specialist",
    "employer",
    "data_scientist",
    "batch",
    "data_protection_officer",
    "admin",
)
LEGACY_ROLES: dict[str, str] = {"employer_contact": "employer"}
"""Role names of earlier key files -> the role they are read as."""
