"""The live loop's fairness over a hand-built store history with a known disparity: the women of
the history reach the employer, a trial and a hire far less often per suggestion than the men,
and a small age group gets no acceptance at all. The report gives each group's shares, their
ratios to the best group and the four-fifths flags (as `training.fairness.flag_groups` does), does
not flag a group under the minimum size, and counts persons as its rules say: withdrawn consent
and no audit row left out, an inactive person with a shortlist kept, an erased person gone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from matching.datasets import load_dataset
from matching.store.contract import upsert_table
from matching.store.db import session_scope
from matching.store.decisions import record_decision
from matching.store.live_fairness import MIN_GROUP, THRESHOLD, LiveFairness, live_fairness
from matching.store.placements import append_event, open_placement
from matching.store.plans import create_plan
from matching.store.rights import erase_person
from matching.store.shortlists import get_shortlist, save_shortlist

IN_PERIOD = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
BEFORE = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
SINCE = dt.date(2025, 1, 1)
KEY = b"live-fairness-test-key"
# how far each person's first suggestion got, by gender and person index (0..39); persons 35..39
# of each gender are "60+", the others "30-39"
MEN = {**dict.fromkeys(range(0, 5), "hired"), **dict.fromkeys(range(5, 10), "trialled")}
MEN |= {**dict.fromkeys(range(10, 20), "pursued"), **dict.fromkeys(range(20, 35), "accepted")}
WOMEN = {0: "hired", 1: "trialled", **dict.fromkeys(range(2, 9), "pursued"), **dict.fromkeys(range(9, 35), "accepted")}
EVENTS = {
    "accepted": [],
    "pursued": [("contacted", "contacted")],
    "trialled": [("contacted", "contacted"), ("trial_started", "trial_started"), ("ended", "ended")],
    "hired": [
        ("contacted", "contacted"),
        ("trial_started", "trial_started"),
        ("trial_completed", "trial_completed"),
        ("hired", "hired"),
    ],
}


def items(workplaces: list[str]) -> list[dict[str, object]]:
    return [
        {"rank": rank, "workplace_id": w, "score": 1.0 / rank, "explanation": {}, "features": {"task_coverage": 0.5}}
        for rank, w in enumerate(workplaces, start=1)
    ]


def shortlist(engine: Engine, person: str, workplaces: list[str], at: dt.datetime = IN_PERIOD) -> list[int]:
    with session_scope(engine) as session:
        shortlist_id = save_shortlist(session, person, "adviser-1", "jobmatch-ranker", "1", 10, items(workplaces), at)
        return get_shortlist(session, shortlist_id).item_ids


def reach(engine: Engine, person: str, workplace: str, item: int, stage: str) -> None:
    """Accept the suggestion and record the placement events of `stage` (by the store's own functions)."""
    with session_scope(engine) as session:
        record_decision(session, item, "accept", "adviser-1", decided_at=IN_PERIOD)
        plan = create_plan(session, person, workplace, item, {"purpose": "try_occupation"}, "adviser-1", IN_PERIOD)
        state = "none"
        if EVENTS[stage]:
            placement = open_placement(session, plan, created_at=IN_PERIOD)
            for kind, new_state in EVENTS[stage]:
                append_event(session, placement, kind, None, None, "adviser-1", new_state, IN_PERIOD, state)
                state = new_state


@pytest.fixture
def history(engine: Engine, store_data: Path) -> dict[str, list[str]]:
    """The store with 80 audited persons (40 men, 40 women) and their history, plus the edge cases."""
    dataset = load_dataset(store_data)
    people = dataset.candidates
    able = people[people["consent"] & people["active"]]
    men, women = able.iloc[:40], able.iloc[40:80]
    no_audit, inactive, erased = able.iloc[80], able.iloc[81], able.iloc[82]
    withdrawn = people[~people["consent"]].iloc[0]
    inactive_row = inactive.copy()
    inactive_row["active"] = False
    stored = pd.concat([men, women, pd.DataFrame([no_audit, inactive_row, erased, withdrawn])], ignore_index=True)
    workplaces = dataset.workplaces.iloc[:3]
    audit = pd.DataFrame(
        {
            "candidate_id": [*men["candidate_id"], *women["candidate_id"], inactive["candidate_id"]]
            + [erased["candidate_id"], withdrawn["candidate_id"]],
            "gender": ["male"] * 40 + ["female"] * 40 + ["male", "female", "female"],
            "age_band": (["30-39"] * 35 + ["60+"] * 5) * 2 + ["30-39"] * 3,
        }
    )
    with session_scope(engine) as session:
        upsert_table(session, "workplaces", workplaces)
        upsert_table(session, "candidates", stored[dataset.candidates.columns])
        upsert_table(session, "audit", audit)
    w1, w2, w3 = workplaces["workplace_id"].astype(str).tolist()
    men_ids, women_ids = men["candidate_id"].astype(str).tolist(), women["candidate_id"].astype(str).tolist()
    for i, person in enumerate(men_ids):
        first, _ = shortlist(engine, person, [w1, w2])
        if i in MEN:
            reach(engine, person, w1, first, MEN[i])
        if i < 5:  # asked again: the same two workplaces are still two suggestions
            shortlist(engine, person, [w2, w1])
    first = shortlist(engine, men_ids[35], [w1])[0]
    with session_scope(engine) as session:  # accepted, then corrected: rejected
        record_decision(session, first, "accept", "adviser-1", decided_at=IN_PERIOD)
        record_decision(session, first, "reject", "adviser-1", "other", "not now", IN_PERIOD + dt.timedelta(hours=1))
    for i, person in enumerate(women_ids):
        if i >= 36:  # no shortlist in the period, one long before it
            shortlist(engine, person, [w1, w2], at=BEFORE)
            continue
        first, _ = shortlist(engine, person, [w1, w2])
        if i in WOMEN:
            reach(engine, person, w1, first, WOMEN[i])
    # counted: inactive now, but had a shortlist in the period (a third workplace, a man)
    shortlist(engine, str(inactive["candidate_id"]), [w3])
    # left out: withdrew consent, and no audit row, both with a hire
    for person in (str(withdrawn["candidate_id"]), str(no_audit["candidate_id"])):
        reach(engine, person, w1, shortlist(engine, person, [w1])[0], "hired")
    # gone: an erased woman with a hire
    gone = str(erased["candidate_id"])
    reach(engine, gone, w1, shortlist(engine, gone, [w1])[0], "hired")
    with session_scope(engine) as session:
        erase_person(session, gone, KEY, "dpo-1", "data_protection_officer", "the person asked")
    return {"men": men_ids, "women": women_ids, "gone": [gone], "withdrawn": [str(withdrawn["candidate_id"])]}


def report(engine: Engine, since: dt.date | None = SINCE, min_group: int = MIN_GROUP) -> LiveFairness:
    with session_scope(engine, readonly=True) as session:
        return live_fairness(session, since, min_group)


def row(result: LiveFairness, attribute: str, group: str) -> dict[str, dict[str, object]]:
    found = next(g for g in result.groups if g.attribute == attribute and g.group == group)
    return {
        m.measure: {"count": m.count, "out_of": m.out_of, "share": m.share, "ratio": m.ratio} for m in found.measures
    }


def test_the_shares_ratios_and_flags_show_the_known_disparity(engine: Engine, history: dict[str, list[str]]) -> None:
    result = report(engine)
    men, women = row(result, "gender", "male"), row(result, "gender", "female")
    # men: 41 persons (40 + the inactive one), all shortlisted; 80 + 1 suggestions (the repeats count once)
    assert men["shortlisted"] == {"count": 41, "out_of": 41, "share": 1.0, "ratio": 1.0}
    assert [men[m]["count"] for m in ("accepted", "pursued", "trialled", "hired")] == [35, 20, 10, 5]
    assert all(men[m]["out_of"] == 81 for m in ("accepted", "pursued", "trialled", "hired"))
    # women: 40 persons, 36 shortlisted in the period, 72 suggestions
    assert women["shortlisted"] == {"count": 36, "out_of": 40, "share": 0.9, "ratio": 0.9}
    assert [women[m]["count"] for m in ("accepted", "pursued", "trialled", "hired")] == [35, 9, 2, 1]
    assert women["accepted"]["share"] == pytest.approx(35 / 72) and women["accepted"]["ratio"] == 1.0
    assert men["accepted"]["ratio"] == pytest.approx((35 / 81) / (35 / 72))
    for measure, (m, w) in {"pursued": (20, 9), "trialled": (10, 2), "hired": (5, 1)}.items():
        assert women[measure]["share"] == pytest.approx(w / 72)
        assert women[measure]["ratio"] == pytest.approx((w / 72) / (m / 81))
        assert men[measure]["ratio"] == 1.0
    female = next(g for g in result.groups if g.group == "female")
    male = next(g for g in result.groups if g.group == "male")
    assert female.flagged_on == ("pursued", "trialled", "hired") and male.flagged_on == ()
    assert (female.persons, female.persons_with_shortlist, female.suggestions) == (40, 36, 72)
    assert THRESHOLD == 0.8 and MIN_GROUP == 30


def test_a_group_under_the_minimum_size_is_shown_but_not_flagged(engine: Engine, history: dict[str, list[str]]) -> None:
    result = report(engine)
    old = next(g for g in result.groups if g.attribute == "age_band" and g.group == "60+")
    # 10 persons; 5 men and 1 woman shortlisted; 12 suggestions, none accepted (one was, then rejected)
    assert (old.persons, old.persons_with_shortlist, old.suggestions) == (10, 6, 12)
    assert old.measure("shortlisted").share == 0.6 and old.measure("accepted").count == 0
    assert all(m.small for m in old.measures) and old.flagged_on == ()
    assert old.measure("shortlisted").ratio == 0.6 and old.measure("accepted").ratio == 0.0
    # the best group is never a small one: 30-39 (71 persons) is the reference on every share
    assert all(m.ratio == 1.0 for m in next(g for g in result.groups if g.group == "30-39").measures)
    smaller = report(engine, min_group=5)
    old = next(g for g in smaller.groups if g.group == "60+")
    assert old.flagged_on == ("shortlisted", "accepted", "pursued", "trialled", "hired")
    assert "fewer than 30 persons" in " ".join(result.rules) and "60+" in "\n".join(result.lines())


def test_who_is_counted_and_the_period(engine: Engine, history: dict[str, list[str]]) -> None:
    result = report(engine)
    assert result.persons == 41 + 40
    assert (result.left_out.without_audit, result.left_out.withdrawn_consent, result.left_out.erased) == (1, 1, 1)
    everything = report(engine, since=None)  # the women's shortlists from before the period count too
    women = next(g for g in everything.groups if g.group == "female")
    assert (women.persons_with_shortlist, women.suggestions) == (40, 80)
    assert women.measure("hired").count == 1  # the erased woman's hire is gone with her
    text = json.dumps(result.as_dict())
    assert not any(person in text for people in history.values() for person in people)  # no one's id


def test_the_flags_are_training_fairness_flag_groups_over_the_groups_that_are_not_small(
    engine: Engine, history: dict[str, list[str]]
) -> None:
    from training.fairness import SMALL_GROUP, flag_groups
    from training.fairness import THRESHOLD as TRAINING_THRESHOLD

    assert (THRESHOLD, MIN_GROUP) == (TRAINING_THRESHOLD, SMALL_GROUP)
    for min_group in (MIN_GROUP, 5):
        result = report(engine, min_group=min_group)
        for index, name in enumerate(("shortlisted", "accepted", "pursued", "trialled", "hired")):
            kept = [g for g in result.groups if not g.measures[index].small]
            frame = pd.DataFrame(
                {"attribute": [g.attribute for g in kept], "group": [g.group for g in kept]}
                | {name: [g.measures[index].share for g in kept]}
            )
            expected = flag_groups(frame, (name,), THRESHOLD)
            assert [g.measures[index].ratio for g in kept] == pytest.approx(expected[f"ratio_{name}"].tolist())
            assert [g.measures[index].flagged for g in kept] == expected["flagged"].tolist()


def test_the_command_line_default_is_the_store_minimum() -> None:
    from jobmatch.fairness import MIN_GROUP as CLI_MIN_GROUP

    assert CLI_MIN_GROUP == MIN_GROUP
