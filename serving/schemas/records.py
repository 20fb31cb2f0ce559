"""The records of data contract v1 as the API takes them: a person (`CandidateRecord`) and a
workplace (`WorkplaceRecord`), each built from the contract's own columns and limits
(`matching.records.table_schemas`) with the API's lengths, defaults and descriptions, and the
partial bodies that change some fields of a stored record (`CandidatePatch`, `WorkplacePatch`).
The contract's checks (`matching.records.validate_table`) run again on the whole record before
anything is stored, so the API and `jobmatch validate` apply the same rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo

from matching.records import Column, load_catalogue, table_schemas

ID_LENGTH = 100
"""The longest id the API takes (a person, a workplace, an employer, an adviser)."""

# what the API adds to the contract's rules, column by column
_API_FIELDS: dict[str, dict[str, Any]] = {
    "candidate_id": {
        "min_length": 1,
        "max_length": ID_LENGTH,
        "description": "the person's id (the shortlist is recorded under it)",
    },
    "adviser_id": {
        "default": None,
        "max_length": ID_LENGTH,
        "description": "the person's adviser: required, but an adviser may leave out their own",
    },
    "workplace_id": {"min_length": 1, "max_length": ID_LENGTH, "description": "the workplace opening's id"},
    "employer_id": {"min_length": 1, "max_length": ID_LENGTH, "description": "the employer it belongs to"},
    "occupation_code": {"min_length": 1, "max_length": 10, "description": "STYRK-08 code from the catalogue"},
    "lat": {"description": "home, WGS84"},
    "lon": {"description": "home, WGS84"},
    "preferred_occupations": {
        "default_factory": list,
        "max_length": 20,
        "description": "STYRK-08 codes from the catalogue",
    },
    "consent": {"description": "agreed to be matched; required to be scored"},
    "active": {"default": True},
    "slots": {"description": "free places for a work trial; a trial that starts takes one"},
    "past_placements": {"default": 0, "description": "work trials this workplace has had"},
    "past_hires": {"default": 0, "description": "of those, how many ended in a hire (at most past_placements)"},
}
_WORKPLACE_PLACE = {"lat": {"description": "the workplace, WGS84"}, "lon": {"description": "the workplace, WGS84"}}
_OPTIONAL = frozenset({"adviser_id"})  # an adviser may leave out their own id
_LEVELS = {
    "interest_": "interest in {} work",
    "skill_": "level mastered: {}",
    "tolerance_": "how much {} the person copes with",
    "task_": "how much the job asks of: {}",
    "demand_": "how much {} the job brings",
}
_NEEDS = "needs_"
_OFFERS = "offers_"


def _field(column: Column, extra: dict[str, Any], support_descriptions: dict[str, str]) -> tuple[Any, Any]:
    """The pydantic field of one contract column: its type and limits, and the API's additions."""
    for prefix, text in _LEVELS.items():
        if column.name.startswith(prefix):
            extra["description"] = text.format(column.name.removeprefix(prefix))
    if column.name.startswith(_OFFERS):
        support = column.name.removeprefix(_OFFERS)
        extra = {"default": False, "description": f"the workplace offers: {support_descriptions[support]}"}
    if column.kind == "float":
        bounds = {"gt" if column.low_open else "ge": column.low, "le": column.high}
        limits: dict[str, Any] = {k: v for k, v in bounds.items() if v is not None}
        return float, Field(**limits, strict=True, allow_inf_nan=False, **extra)
    if column.kind == "int" and column.allowed is not None and column.name.startswith(_NEEDS):
        need = column.name.removeprefix(_NEEDS)
        description = f"0 not needed, 1 helps, 2 required: {support_descriptions[need]}"
        return Literal[column.allowed], Field(0, description=description)
    if column.kind == "int":
        low: dict[str, Any] = {"ge": int(column.low)} if column.low is not None else {}
        return int, Field(**low, strict=True, **extra)
    if column.kind == "bool":
        return bool, Field(strict=True, **extra)
    if column.kind == "codes":
        return list[Annotated[str, StringConstraints(max_length=10)]], Field(**extra)
    if column.kind == "str":
        return (str | None if column.name in _OPTIONAL else str), Field(**extra)
    raise TypeError(f"no API field for contract column {column.name} ({column.kind})")


def build_record(table: Literal["candidates", "workplaces"]) -> type[BaseModel]:
    """A record of data contract v1 as a pydantic model: the contract's columns and limits, with
    the API's lengths, defaults and descriptions. The record's own fields come first, then the
    vocabulary's levels, needs and offers."""
    voc = load_catalogue().vocabulary
    vocabulary_parts = (*_LEVELS, _NEEDS, _OFFERS)
    columns = sorted(table_schemas()[table], key=lambda c: c.name.startswith(vocabulary_parts))
    added = _API_FIELDS | (_WORKPLACE_PLACE if table == "workplaces" else {})
    fields: dict[str, Any] = {c.name: _field(c, dict(added.get(c.name, {})), voc.support_descriptions) for c in columns}
    name = "CandidateRecord" if table == "candidates" else "WorkplaceRecord"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def build_patch(record: type[BaseModel], key: str) -> type[BaseModel]:
    """The body that changes some fields of a stored record: every field of `record` but its key,
    each optional, with the record's limits; fields left out keep their stored value."""
    fields: dict[str, Any] = {}
    for name, info in record.model_fields.items():
        if name == key:
            continue
        optional: Any = info.annotation | None  # type: ignore[operator]
        fields[name] = (optional, FieldInfo.merge_field_infos(info, default=None, default_factory=None))
    patch_name = record.__name__.replace("Record", "Patch")
    return create_model(patch_name, __config__=ConfigDict(extra="forbid"), **fields)


CandidateRecord = build_record("candidates")
WorkplaceRecord = build_record("workplaces")
CandidatePatch = build_patch(CandidateRecord, "candidate_id")
WorkplacePatch = build_patch(WorkplaceRecord, "workplace_id")

DISPLAY_NAME_LENGTH = 100
_DISPLAY_NAME: Any = (
    str | None,
    Field(
        None,
        max_length=DISPLAY_NAME_LENGTH,
        description="the name advisers see instead of the id: kept in the store only (never a feature, never in "
        "logs or the audit trail, erased with the person); empty clears it",
    ),
)
_TUTOR_NAME: Any = (
    str | None,
    Field(
        None,
        max_length=DISPLAY_NAME_LENGTH,
        description="the workplace's tutor, who trains and looks out for a trainee there; a plan drafted at the "
        "workplace names them. Kept in the store only (never a feature, never in logs or the audit trail); "
        "empty clears it",
    ),
)
# a record registered or changed through the service may carry fields the store keeps beside the contract's
CandidateIn = create_model("CandidateIn", __base__=CandidateRecord, display_name=_DISPLAY_NAME)
CandidateChange = create_model("CandidateChange", __base__=CandidatePatch, display_name=_DISPLAY_NAME)
WorkplaceIn = create_model("WorkplaceIn", __base__=WorkplaceRecord, tutor_name=_TUTOR_NAME)
WorkplaceChange = create_model("WorkplaceChange", __base__=WorkplacePatch, tutor_name=_TUTOR_NAME)
STORE_ONLY = frozenset({"display_name", "tutor_name"})


class RecordOut(BaseModel):
    """A stored record, as the contract has it, and who manages it."""

    record: dict[str, Any] = Field(description="the record's fields, as data contract v1 names them")
    display_name: str | None = Field(None, description="a person's display name (store only), if set")
    tutor_name: str | None = Field(None, description="a workplace's tutor (store only), if named")
    changed: list[str] = Field(default_factory=list, description="the fields this request changed")
