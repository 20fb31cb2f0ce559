"""The person's fields in the page's words: each field's label (support needs, skills,
tolerances, interests, hours, commute, consent), the plain description of each support, reading a
number typed on the page, and the API's refusals (pydantic's, or the contract's rules as
`matching.records` words them) as sentences that name the field's label in the page's language."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from matching import plain
from matching.plain import capital
from serving.web.i18n import LABELS
from serving.web.render import Page

LEVEL_GROUPS = (  # (heading key, column prefix, vocabulary part, plain words)
    ("skills", "skill_", "activities", plain.task_text),
    ("tolerances", "tolerance_", "contexts", plain.context_text),
    ("interests", "interest_", "riasec", plain.interest_text),
)
NUMBERS = ("desired_hours", "max_commute_km")
_CONTRACT_RULES = (  # the contract's rule texts (matching.records) and the page's words for them
    (re.compile(r"must be > (\S+)"), "rule_gt"),
    (re.compile(r"must be >= (\S+)"), "rule_ge"),
    (re.compile(r"must be <= (\S+)"), "rule_le"),
    (re.compile(r"not a (?:finite )?number"), "rule_number"),
    (re.compile(r"unknown occupation code"), "rule_unknown_code"),
    (re.compile(r"missing value|empty value"), "rule_missing"),
    (re.compile(r"must be one of"), "rule_choice"),
)
_PYDANTIC_RULES = {"greater_than": ("rule_gt", "gt"), "greater_than_equal": ("rule_ge", "ge")}
_PYDANTIC_RULES |= {"less_than_equal": ("rule_le", "le"), "too_long": ("rule_too_long", "max_length")}


# Words -------------------------------------------------------------------------------------------------


def support_description(page: Page, support: str) -> str:
    """The plain description of a support: the catalogue's (English) on the English page; the
    catalogue has no Norwegian ones, so the Norwegian page says it in `matching.plain`'s words,
    as the staff say it of the person."""
    if page.lang == "en":
        return capital(page.state.pool.catalogue.vocabulary.support_descriptions.get(support, support))
    return capital(plain.support_text(support, page.lang, for_staff=True))


def field_label(page: Page, name: str) -> str:
    """A record field's label on the page, in the page's language."""
    if name.startswith("needs_"):
        return page.t(f"support_{name.removeprefix('needs_')}")
    for _, prefix, _, words in LEVEL_GROUPS:
        if name.startswith(prefix):
            return capital(words(name.removeprefix(prefix), page.lang))
    return page.t(f"field_{name}") if f"field_{name}" in LABELS else name


def _n(value: Any, page: Page) -> str:
    number = float(value)
    return plain.number(number, page.lang, 0 if number.is_integer() else 2)


def rule_text(page: Page, entry: Mapping[str, Any]) -> str:
    """One refusal's rule in the page's language (the English rule text when it has no words here)."""
    found = _PYDANTIC_RULES.get(str(entry.get("type", "")))
    context = entry.get("ctx") or {}
    if found is not None and found[1] in context:
        return page.t(found[0], n=_n(context[found[1]], page))
    if entry.get("type") == "literal_error":
        return page.t("rule_choice")
    message = str(entry.get("msg", ""))
    for pattern, key in _CONTRACT_RULES:
        match = pattern.search(message)
        if match:
            return page.t(key, n=_n(match.group(1), page)) if match.groups() else page.t(key)
    return page.t("rule_other", rule=message)


def field_problems(
    page: Page, errors: Sequence[Mapping[str, Any]], label: Callable[[Page, str], str] | None = None
) -> dict[str, str]:
    """The API's refusals by field, each a sentence naming the field's label (a person's field
    by default; `label` names another record's)."""
    label = label or field_label
    out: dict[str, str] = {}
    for entry in errors:
        where = [str(part) for part in entry.get("loc", ()) if part != "body"]
        name = where[0] if where else ""
        text = page.t("field_problem", field=label(page, name), rule=rule_text(page, entry))
        out[name] = f"{out[name]} {text}" if name in out else text
    return out


def number_of(raw: str) -> float | None:
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def refusals(page: Page, error: Exception) -> dict[str, str] | None:
    """The field problems of a refused body or record (pydantic's, or the contract's 422)."""
    if isinstance(error, ValidationError):
        return field_problems(page, error.errors(include_url=False))
    if isinstance(error, RequestValidationError):
        return field_problems(page, error.errors())
    return None
