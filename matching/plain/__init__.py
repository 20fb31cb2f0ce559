"""Plain-language texts for the person themself, in Norwegian bokmål (`no`) and English (`en`).

An adviser reads these out to the job seeker: why each suggestion of their shortlist was made,
what the workplace gives and what is arranged elsewhere, which data about them was used (and
which was not), who decides, and their rights. Unlike the adviser's sentences in
`features.registry`, no sentence here carries a number or a feature's name: each feature has one
plain sentence per language and side (it spoke for or against the suggestion).

Every feature of the registry must have both languages and both sides (`tests/unit/test_plain.py`
checks it, and which contract fields each feature reads, so a new feature cannot ship without its
plain sentences and its place in "which data was used").

The package's rooms: `matching.plain.sentences` (the sentences, words and fixed texts, and how
numbers and dates are written), `matching.plain.data_use` (which data about the person is used,
and for what) and `matching.plain.arranging` (what the support system could arrange, with the
model's estimate). Callers use the names below as `matching.plain.<name>`.
"""

from matching.plain.arranging import (
    ESTIMATE_NOTE,
    FILTERED,
    SUPPORT_NAMES,
    arranged_text,
    capital,
    option_text,
    percent,
    support_name,
    why_short,
)
from matching.plain.data_use import (
    FIELD_GROUPS,
    NOT_FOR_SUGGESTIONS,
    NOT_USED,
    WORKPLACE_ONLY_FEATURES,
    FieldGroup,
    PlainField,
    PlainGroup,
    data_used,
    group_of,
    kept_not_used,
    not_used,
)
from matching.plain.sentences import (
    ACTIVITIES,
    AREAS,
    CONTEXTS,
    FEATURE_SENTENCES,
    INTERESTS,
    LANGUAGES,
    LEVEL_WORDS,
    MONTHS_EN,
    MONTHS_NO,
    NEED_LEVELS,
    OTHER_REASON,
    SUPPORTS,
    TEXTS,
    YES_NO,
    Lang,
    Sentence,
    area_text,
    context_text,
    day,
    interest_text,
    level_word,
    number,
    reason_sentence,
    support_text,
    task_text,
    text,
    wish_text,
)

__all__ = [
    "ESTIMATE_NOTE",
    "FILTERED",
    "SUPPORT_NAMES",
    "capital",
    "support_name",
    "why_short",
    "arranged_text",
    "option_text",
    "percent",
    "ACTIVITIES",
    "AREAS",
    "CONTEXTS",
    "FEATURE_SENTENCES",
    "FIELD_GROUPS",
    "INTERESTS",
    "LANGUAGES",
    "LEVEL_WORDS",
    "MONTHS_EN",
    "MONTHS_NO",
    "NEED_LEVELS",
    "NOT_FOR_SUGGESTIONS",
    "NOT_USED",
    "OTHER_REASON",
    "SUPPORTS",
    "TEXTS",
    "WORKPLACE_ONLY_FEATURES",
    "YES_NO",
    "FieldGroup",
    "PlainField",
    "PlainGroup",
    "Lang",
    "Sentence",
    "area_text",
    "context_text",
    "data_used",
    "day",
    "group_of",
    "interest_text",
    "kept_not_used",
    "level_word",
    "not_used",
    "number",
    "reason_sentence",
    "support_text",
    "task_text",
    "text",
    "wish_text",
]
