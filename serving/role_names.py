"""The roles an API key can hold, named once and free of FastAPI, so the command line
(`jobmatch keys add --role`) can offer them without loading the service. What each role may do
is described in `serving.auth`."""

from __future__ import annotations

from typing import Literal

Role = Literal[
    "adviser", "job_specialist", "employer_contact", "data_scientist", "batch", "data_protection_officer", "admin"
]
ROLES: tuple[str, ...] = (
    "adviser",
    "job_specialist",
    "employer_contact",
    "data_scientist",
    "batch",
    "data_protection_officer",
    "admin",
)
