"""What would make a suggestion work, and why a list is short: a required support the support
system can arrange no longer excludes a workplace (one only the workplace can give still does);
each suggestion's support options carry the model's own estimate were the support arranged, equal
to a direct re-score, never lower where every changed feature's direction says it helps, and
without touching the shortlist's order or scores; the rules' counts add up to every workplace; and
a workplace's "supports to offer" count exactly the persons an offer would make eligible."""

from __future__ import annotations

import numpy as np
import pytest

from features.registry import FEATURES
from matching.candidates import CandidatePool, CandidateTable, WorkplacePool, eligible_candidates
from matching.offer_gains import offer_gains
from matching.records import load_catalogue
from matching.shortlist import Matcher, top_k_per_candidate
from matching.why_short import RULES, empty_reason, filtered_counts

VOCABULARY = load_catalogue().vocabulary


@pytest.fixture(scope="module")
def world(trained):
    table = CandidateTable.build(trained.dataset.candidates)
    pool = WorkplacePool(trained.dataset.workplaces)
    return table, pool, Matcher(trained.model.ranker, table, pool)


def test_the_catalogue_says_who_can_arrange_each_support():
    arranged = {s for s in VOCABULARY.supports if VOCABULARY.support_system_can_arrange(s)}
    assert arranged == {"mentor", "physical_adaptation", "job_coach_on_site"}
    assert "NAV" in (VOCABULARY.scheme("mentor", "no") or "") and VOCABULARY.scheme("quiet_workspace") is None


def test_only_a_required_support_no_one_else_can_arrange_excludes(trained):
    candidates = trained.dataset.candidates.copy()
    person = int(eligible_candidates(candidates)[0])
    for support in VOCABULARY.supports:
        candidates.loc[person, f"needs_{support}"] = 0
    workplaces = trained.dataset.workplaces.copy()
    workplaces["offers_job_coach_on_site"] = False
    workplaces["offers_quiet_workspace"] = False
    table, pool = CandidateTable.build(candidates), WorkplacePool(workplaces)
    _, before = pool.generate_pairs(table.arrays, np.array([person]))
    assert len(before) > 0
    candidates.loc[person, "needs_job_coach_on_site"] = 2  # the support system brings a job coach
    table = CandidateTable.build(candidates)
    _, coached = pool.generate_pairs(table.arrays, np.array([person]))
    assert np.array_equal(coached, before)
    candidates.loc[person, "needs_quiet_workspace"] = 2  # only a workplace can give a quiet place
    table = CandidateTable.build(candidates)
    _, quiet = pool.generate_pairs(table.arrays, np.array([person]))
    assert len(quiet) == 0
    reverse = CandidatePool(table)
    assert all(person not in reverse.generate_pairs(pool, int(w))[0] for w in before[:20])


def options_of(matcher, table, rows):
    for row in rows:
        for item in matcher.shortlist(int(row), 10, table).items:
            yield row, item


def test_an_option_is_the_models_own_rescore_as_if_arranged(trained, world):
    table, pool, matcher = world
    checked = 0
    for row, item in options_of(matcher, table, eligible_candidates(table.frame)[:40]):
        for option in item["support_options"][:1]:
            workplaces = trained.dataset.workplaces.copy()
            at = workplaces.index[workplaces["workplace_id"] == item["workplace_id"]][0]
            workplaces.loc[at, f"offers_{option['support']}"] = True
            arranged = WorkplacePool(workplaces)
            w = arranged.positions()[item["workplace_id"]]
            direct = Matcher(trained.model.ranker, table, arranged).score_pairs(np.array([row]), np.array([w]))
            expected = trained.model.ranker.expected_success(direct.scores)[0]
            assert option["expected_success_if_arranged"] == pytest.approx(expected, abs=1e-6)
            assert option["arranged_by"] == "support_system" and option["scheme"]
            checked += 1
        if checked >= 5:
            break
    assert checked >= 3, "the synthetic world has pairs with an arrangeable gap"


def test_an_arranged_support_never_lowers_the_estimate_where_the_features_say_it_helps(world):
    table, pool, matcher = world
    directions = np.array([f.direction for f in FEATURES])
    seen = 0
    for row, item in options_of(matcher, table, eligible_candidates(table.frame)[:60]):
        w = pool.positions()[item["workplace_id"]]
        for option in item["support_options"]:
            j = VOCABULARY.supports.index(option["support"])
            arrays = {k: v[w : w + 1].copy() for k, v in pool.arrays.items()}
            before = matcher.ranker.features_of(_pairs(table.arrays, arrays, row))[0]
            arrays["offers"] = arrays["offers"].astype(float)
            arrays["offers"][0, j] = 1.0
            after = matcher.ranker.features_of(_pairs(table.arrays, arrays, row))[0]
            delta = np.sign(after - before)
            if np.all(directions * delta >= 0) and np.all(directions[delta != 0] != 0):
                assert option["expected_success_if_arranged"] >= option["expected_success"] - 1e-9, option
                seen += 1
    assert seen > 0


def _pairs(candidates, workplaces, row):
    from features.pairs import PairFrame

    return PairFrame(candidates, workplaces, np.array([row]), np.array([0]), VOCABULARY)


def test_options_leave_the_shortlists_order_and_scores_as_they_are(world):
    table, pool, matcher = world
    for row in eligible_candidates(table.frame)[:10]:
        items = matcher.shortlist(int(row), 10, table).items
        scored = matcher.score_rows(np.array([row]), table)
        chosen, ranks = top_k_per_candidate(scored.c_idx, scored.scores, 10)
        workplace_ids = pool.frame["workplace_id"].to_numpy()
        assert [i["workplace_id"] for i in items] == list(workplace_ids[scored.w_idx[chosen]])
        assert [i["score"] for i in items] == pytest.approx(list(scored.scores[chosen]))


def test_the_rules_counts_add_up_to_every_workplace(world):
    table, pool, matcher = world
    for row in eligible_candidates(table.frame)[:25]:
        shortlist = matcher.shortlist(int(row), 10, table)
        assert set(shortlist.filtered or {}) == set(RULES)
        assert sum((shortlist.filtered or {}).values()) + shortlist.eligible == len(pool)
    assert "beyond the person's commute" in empty_reason({"not_active": 0, "beyond_commute": 7})


def test_far_from_everything_the_list_is_empty_and_says_why(trained, world):
    table, pool, _ = world
    candidates = trained.dataset.candidates.copy()
    person = int(eligible_candidates(candidates)[0])
    candidates.loc[person, ["lat", "lon", "max_commute_km"]] = [78.2, 15.6, 1.0]  # Svalbard
    far = CandidateTable.build(candidates)
    counts = filtered_counts(pool, far.arrays, person, True)
    assert counts["beyond_commute"] == int(pool.is_open.sum())
    assert empty_reason(counts).startswith("no workplace is eligible")


def test_a_workplaces_supports_to_offer_count_whom_an_offer_would_make_eligible(trained, world):
    table, pool, _ = world
    reverse = CandidatePool(table)
    found = 0
    for w in pool.open_rows[:200]:
        for gain in offer_gains(pool, reverse, int(w))[:1]:
            if not gain["more_eligible"]:
                continue
            workplaces = trained.dataset.workplaces.copy()
            workplaces.loc[int(w), f"offers_{gain['support']}"] = True
            offered = WorkplacePool(workplaces)
            before = len(reverse.generate_pairs(pool, int(w))[0])
            after = len(CandidatePool(table).generate_pairs(offered, int(w))[0])
            assert after - before == gain["more_eligible"]
            found += 1
        if found >= 3:
            break
    assert found > 0
