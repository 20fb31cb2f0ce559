"""Who may call a route, defined once: each alias is an `Identity` admitted by the listed roles
(401 without a known key, 403 for another role). The roles themselves are described in
`serving.auth`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from serving.auth import Identity, current_identity, require

AnyRole = Annotated[Identity, Depends(current_identity)]
Adviser = Annotated[Identity, Depends(require("adviser"))]
JobSpecialist = Annotated[Identity, Depends(require("job_specialist"))]
AdviserOrBatch = Annotated[Identity, Depends(require("adviser", "batch"))]
AdviserOrEmployer = Annotated[Identity, Depends(require("adviser", "employer"))]
AdviserOrJobSpecialist = Annotated[Identity, Depends(require("adviser", "job_specialist"))]
AdviserOrDataProtectionOfficer = Annotated[Identity, Depends(require("adviser", "data_protection_officer"))]
JobSpecialistOrBatch = Annotated[Identity, Depends(require("job_specialist", "batch"))]
EmployerOrJobSpecialist = Annotated[Identity, Depends(require("employer", "job_specialist"))]
DataScientist = Annotated[Identity, Depends(require("data_scientist"))]
DataScientistOrAdmin = Annotated[Identity, Depends(require("data_scientist", "admin"))]
DataProtectionOfficer = Annotated[Identity, Depends(require("data_protection_officer"))]
