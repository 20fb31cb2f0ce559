"""Plain-language texts for the person: every registry feature has a plain sentence in Norwegian
and English for either side, every vocabulary entry has plain words, and "which data was used"
names exactly the person's fields each feature reads (checked by watching the features read)."""

from __future__ import annotations

import datetime as dt
import re
import string

import numpy as np
import pandas as pd
import pytest

from features.pairs import PairFrame, candidate_arrays
from features.registry import FEATURES, feature_names
from matching import plain
from matching.candidates import WorkplacePool
from matching.records import load_catalogue, table_schemas

# how the candidate arrays features read map to contract columns
ARRAY_COLUMNS = {
    "skill": "skill_",
    "interest": "interest_",
    "tolerance": "tolerance_",
    "needs": "needs_",
    "lat": "lat",
    "lon": "lon",
    "max_commute_km": "max_commute_km",
    "desired_hours": "desired_hours",
    "preferred_rows": "preferred_occupations",
    "preferred_codes": "preferred_occupations",
}


@pytest.mark.parametrize("name", feature_names())
@pytest.mark.parametrize("lang", plain.LANGUAGES)
def test_every_registry_feature_has_a_plain_sentence_in_both_languages_for_either_side(name, lang):
    assert name in plain.FEATURE_SENTENCES, f"matching/plain.py has no plain sentence for feature {name}"
    for positive in (True, False):
        sentence = plain.reason_sentence(name, positive, lang)
        assert sentence and sentence[0].isupper() and sentence.endswith(".")
        assert not re.search(r"\d", sentence), f"{name}: a number in a plain sentence: {sentence}"
        assert "_" not in sentence and "{" not in sentence
        assert sentence != plain.OTHER_REASON.text(positive, lang)
    assert plain.reason_sentence(name, True, lang) != plain.reason_sentence(name, False, lang)
    assert plain.reason_sentence(name, True, "no") != plain.reason_sentence(name, True, "en")


def test_no_plain_sentence_for_a_feature_that_does_not_exist():
    assert set(plain.FEATURE_SENTENCES) - set(feature_names()) == {"congestion"}
    assert plain.reason_sentence("something_new", True, "no") == plain.OTHER_REASON.text(True, "no")


def test_every_vocabulary_entry_has_plain_words_in_both_languages():
    vocabulary = load_catalogue().vocabulary
    for table, names in (
        (plain.SUPPORTS, vocabulary.supports),
        (plain.ACTIVITIES, vocabulary.activities),
        (plain.CONTEXTS, vocabulary.contexts),
        (plain.INTERESTS, vocabulary.riasec),
    ):
        assert set(table) == set(names)
        for name in names:
            assert all(table[name][lang] and "_" not in table[name][lang] for lang in plain.LANGUAGES)


def test_fixed_texts_exist_in_both_languages_with_the_same_placeholders():
    for key, texts in plain.TEXTS.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in plain.LANGUAGES]
        assert fields[0] == fields[1], key
    assert len(plain.not_used("no")) == len(plain.not_used("en")) >= 4
    for lang, words in (
        ("no", ("alder", "kjønn", "kommer fra", "diagnoser")),
        ("en", ("age", "gender", "come from", "diagnoses")),
    ):
        text = " ".join(plain.not_used(lang))
        assert all(word in text for word in words)


def every_candidate_column() -> list[str]:
    return [c.name for c in table_schemas()["candidates"]]


def test_every_candidate_column_is_in_exactly_one_group_or_said_to_feed_no_suggestion():
    for column in every_candidate_column():
        groups = [g.key for g in plain.FIELD_GROUPS if g.owns(column)]
        if column in plain.NOT_FOR_SUGGESTIONS:
            assert groups == [], column
        else:
            assert len(groups) == 1, f"{column}: in groups {groups}"
    for group in plain.FIELD_GROUPS:
        assert all(group.label[lang] and group.purpose[lang] for lang in plain.LANGUAGES)
        assert set(group.features) <= set(feature_names())


def one_pair() -> PairFrame:
    catalogue = load_catalogue()
    vocabulary = catalogue.vocabulary
    code = str(catalogue.occupations["occupation_code"].iloc[0])
    candidate: dict[str, object] = {"candidate_id": "C1", "adviser_id": "A1", "lat": 59.9, "lon": 10.7}
    candidate |= {"max_commute_km": 20.0, "desired_hours": 30.0, "preferred_occupations": [code]}
    candidate |= {f"interest_{r}": 0.5 for r in vocabulary.riasec}
    candidate |= {f"skill_{a}": 0.6 for a in vocabulary.activities}
    candidate |= {f"tolerance_{c}": 0.4 for c in vocabulary.contexts}
    candidate |= {f"needs_{s}": 1 for s in vocabulary.supports} | {"consent": True, "active": True}
    workplace: dict[str, object] = {"workplace_id": "W1", "employer_id": "E1", "occupation_code": code}
    workplace |= {"lat": 59.91, "lon": 10.72, "hours_per_week": 20.0, "slots": 2}
    workplace |= {f"task_{a}": 0.7 for a in vocabulary.activities}
    workplace |= {f"demand_{c}": 0.5 for c in vocabulary.contexts}
    workplace |= {f"offers_{s}": True for s in vocabulary.supports}
    workplace |= {"past_placements": 4, "past_hires": 1, "active": True}
    pool = WorkplacePool(pd.DataFrame([workplace]), catalogue)
    arrays = candidate_arrays(pd.DataFrame([candidate]), vocabulary)
    zero = np.zeros(1, dtype=np.int64)
    return PairFrame(arrays, pool.arrays, zero, zero, vocabulary)


class Watched(dict):
    """A dict that remembers which keys were read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_the_groups_said_to_feed_a_feature_are_exactly_the_fields_it_reads(feature):
    pair = one_pair()
    pair.candidates = Watched(pair.candidates)
    feature.compute(pair)
    read = {ARRAY_COLUMNS[key] for key in pair.candidates.read}
    said = {c for g in plain.FIELD_GROUPS if feature.name in g.features for c in g.columns}
    assert read == said, f"{feature.name} reads {sorted(read)}, matching/plain.py says {sorted(said)}"
    assert (not read) == (feature.name in plain.WORKPLACE_ONLY_FEATURES)


@pytest.mark.parametrize("lang", plain.LANGUAGES)
def test_data_used_lists_the_persons_fields_by_group_with_values_and_never_age_or_gender(lang):
    columns = every_candidate_column()
    record = {
        c: 0.8 if c.startswith(("skill_", "interest_", "tolerance_")) else 2 if c.startswith("needs_") else None
        for c in columns
    }
    record |= {"candidate_id": "SYN-C1", "adviser_id": "SYN-A1", "lat": 59.9, "lon": 10.75}
    record |= {"max_commute_km": 12.5, "desired_hours": 30.0, "preferred_occupations": ["5321"]}
    record |= {"consent": True, "active": True, "age_band": "25-34", "gender": "f"}
    groups = plain.data_used(record, lang, lambda code: f"title {code}", columns)
    assert [g["group"] for g in groups] == [g.key for g in plain.FIELD_GROUPS]
    fields = {f["field"]: f for g in groups for f in g["fields"]}
    assert set(fields) == set(columns) - set(plain.NOT_FOR_SUGGESTIONS)
    assert "age_band" not in fields and "gender" not in fields
    assert fields["max_commute_km"]["value"] == 12.5
    assert fields["max_commute_km"]["text"] == ("12,5 km" if lang == "no" else "12.5 km")
    assert fields["preferred_occupations"]["text"] == "title 5321"
    assert fields["needs_mentor"]["text"] == plain.NEED_LEVELS[2][lang]
    assert fields["skill_caring"]["text"] == plain.LEVEL_WORDS[lang][2]
    labels = {g["group"]: g["label"] for g in groups}
    if lang == "no":
        assert labels["skills"] == "dine ferdigheter i arbeidsoppgaver"
        assert labels["support_needs"].startswith("støttebehovene dine")
        assert labels["travel"] == "hvor du bor og hvor langt du kan reise"


def test_days_and_numbers_in_words():
    when = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    assert plain.day(when, "no") == "27. november 2026"
    assert plain.day(when, "en") == "27 November 2026"
    assert plain.number(3.0, "no") == "3" and plain.number(2.94, "no") == "2,9" and plain.number(2.94, "en") == "2.9"
    assert [plain.level_word(v, "en") for v in (0.1, 0.5, 0.9)] == ["low", "medium", "high"]
