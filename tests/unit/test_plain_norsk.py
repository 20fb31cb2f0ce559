"""The adviser's own sentences in Norwegian beside the registry's English ones, numbers written
the Norwegian way, and the drafted plan texts in both languages (stored in English, shown in the
page's language, plans drafted before still read)."""

from __future__ import annotations

import pytest

from features.registry import FEATURES
from matching.plain import plan_texts
from matching.plain.adviser import ADVISER_NO, adviser_sentence, value_text


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_every_feature_has_the_advisers_norwegian_sentence_with_the_same_number(feature) -> None:
    assert feature.name in ADVISER_NO, f"matching/plain/adviser.py has no Norwegian sentence for {feature.name}"
    for english, norwegian in zip((feature.speaks_for, feature.speaks_against), ADVISER_NO[feature.name], strict=True):
        assert ("{value}" in english) == ("{value}" in norwegian), (english, norwegian)
        assert not any(f" {word} " in f" {norwegian} " for word in ("du", "deg", "din", "ditt", "dine"))


def test_numbers_are_written_the_norwegian_way() -> None:
    assert value_text(0.12, "{:.0%}", "no") == "12 %" and value_text(0.12, "{:.0%}", "en") == "12%"
    assert value_text(0.705, "{:.2f}", "no") == "0,70" or value_text(0.705, "{:.2f}", "no") == "0,71"
    assert value_text(3, "{:.0f}", "no") == "3"
    reason = {"feature": "task_coverage", "sentence": "masters most ...", "contribution": 0.2}
    assert adviser_sentence(reason, {"task_coverage": 0.85}, True, "no") == (
        "mestrer det meste av det oppgavene krever (85 % av nødvendig nivå)",
        "no",
    )
    assert adviser_sentence(reason, {"task_coverage": 0.85}, True, "en") == ("masters most ...", "en")
    congested = {"feature": "congestion", "sentence": "already suggested to 4 others for 1 free slot"}
    assert adviser_sentence(congested, {}, False, "no") == ("allerede foreslått for 4 andre, til 1 ledig plass", "no")
    unknown = {"feature": "something_new", "sentence": "a new reason"}
    assert adviser_sentence(unknown, {}, True, "no") == ("a new reason", "en")


def test_drafted_texts_are_stored_in_english_and_shown_in_norwegian() -> None:
    # the English texts are exactly those plans were drafted with before: stored plans still read
    reason = plan_texts.purpose_reason("recruitment", hire_rate=0.62, coverage=0.857, interest=0.7123)
    assert reason == (
        "the employer has hired many earlier trainees (smoothed rate 62%) and the fit is good "
        "(tasks covered 86%, interest similarity 0.71, no required support missing)"
    )
    shown = plan_texts.drafted_text(reason, "no")
    assert "glattet andel 62 %" in shown and "oppgavene dekket 86 %" in shown and "interesselikhet 0,71" in shown
    assert plan_texts.drafted_text(reason, "en") == reason
    asked = "the occupation is one the person has asked for"
    assert plan_texts.drafted_text(asked, "no") == "yrket er et av dem personen selv har ønsket seg"
    training = plan_texts.training("Cook")
    assert training == "train the person in the tasks of the job (Cook)"
    assert plan_texts.drafted_text(training, "no", "Kokk") == "lære opp personen i arbeidsoppgavene i jobben (Kokk)"
    assert plan_texts.drafted_text("Egen tekst fra veilederen", "no") == "Egen tekst fra veilederen"
    assert plan_texts.open_points(False, ["mentor"]) == (
        "the workplace tutor is to be named",
        "required support the workplace cannot give: mentor",
    )
    assert plan_texts.open_points(True, [], "no") == ()
    assert plan_texts.open_points(False, [], "no") == ("veilederen på arbeidsplassen (fadder) skal navngis",)
