"""Congestion in POST /shortlists: live suggestions per free slot push a crowded workplace down for
the next person, rejected or expired suggestions stop counting, and the penalty can be turned off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient

from matching.candidates import CandidateTable, WorkplacePool, eligible_candidates
from matching.congestion import Congestion, congestion_factor
from matching.settings import Settings
from matching.shortlist import Matcher
from matching.store.db import session_scope
from matching.store.decisions import record_decision
from matching.store.shortlists import get_shortlist, live_suggestions, save_shortlist
from serving.app import create_app

PER_SLOT = 3.0
OTHERS = 40


def test_the_factor_formula():
    live = np.array([0, 2, 3, 5, 11, 0])
    slots = np.array([1, 1, 1, 2, 2, 5])
    expected = [1.0, 1.0, 0.75, 1.0, 0.5, 1.0]
    np.testing.assert_allclose(congestion_factor(live, slots, 3.0), expected)
    np.testing.assert_allclose(congestion_factor(live, slots, 1.0), [1.0, 1 / 3, 0.25, 1 / 3, 1 / 6, 1.0])
    np.testing.assert_array_equal(congestion_factor(live, slots, 0.0), np.ones(6))  # the penalty off


def test_a_person_counts_once_per_workplace_and_never_for_their_own_list():
    congestion = Congestion(PER_SLOT, 14.0)
    congestion.record("A", ["W1", "W2"])
    congestion.record("A", ["W1"])  # asked again: still one person
    congestion.record("B", ["W1"])
    assert congestion.live(["W1", "W2", "W3"]).tolist() == [2, 1, 0]
    assert congestion.live(["W1", "W2", "W3"], excluding="A").tolist() == [1, 0, 0]


def test_the_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("JOBMATCH_SUGGESTIONS_PER_SLOT", "0")
    monkeypatch.setenv("JOBMATCH_CONGESTION_WINDOW_DAYS", "7.5")
    settings = Settings()
    assert settings.suggestions_per_slot == 0.0 and settings.congestion_window_days == 7.5
    assert Settings.model_fields["suggestions_per_slot"].default == 3.0
    assert Settings.model_fields["congestion_window_days"].default == 14.0


@dataclass
class Crowd:
    """A person `target` whose best workplace `workplace` (one free slot) is eligible for `others`."""

    target: str
    workplace: str
    others: list[str]
    plain: list[dict]  # the target's plain (score-ordered) shortlist
    eligible: dict[str, set[str]]  # candidate id -> eligible workplace ids


def find_crowd(trained) -> Crowd:
    """The first person whose best workplace has one free slot and many neighbours, and loses its
    first place once each of those neighbours has been suggested every workplace they can reach."""
    table = CandidateTable.build(trained.dataset.candidates)
    pool = WorkplacePool(trained.dataset.workplaces, outcomes=trained.dataset.outcomes)  # as served: history up to now
    matcher = Matcher(trained.model.ranker, table, pool)
    rows = eligible_candidates(table.frame)
    c_idx, w_idx = pool.generate_pairs(table.arrays, rows)
    ids = table.frame["candidate_id"].to_numpy()
    wids = pool.frame["workplace_id"].to_numpy()
    per_candidate = np.bincount(c_idx, minlength=len(ids))
    small = set(np.flatnonzero((per_candidate > 0) & (per_candidate <= 100)).tolist())  # top_k=100 holds them all
    by_workplace: dict[int, list[int]] = {}
    for c, w in zip(c_idx.tolist(), w_idx.tolist(), strict=True):
        if c in small:
            by_workplace.setdefault(w, []).append(c)
    for row in rows[:400]:
        if row not in small:
            continue
        scored = matcher.score_rows(np.array([row]))
        top = int(scored.w_idx[np.argmax(scored.scores)])
        if pool.arrays["slots"][top] != 1:
            continue
        others = [c for c in by_workplace.get(top, []) if c != row][:OTHERS]
        if len(others) < 15:
            continue
        live = np.zeros(len(pool), dtype=np.int64)
        for c in others:
            live[w_idx[c_idx == c]] += 1
        expected = trained.model.ranker.expected_success(scored.scores)
        adjusted = expected * congestion_factor(live[scored.w_idx], pool.arrays["slots"][scored.w_idx], PER_SLOT)
        if int(scored.w_idx[np.argmax(adjusted)]) == top:
            continue
        plain = matcher.shortlist(int(row), 10).items
        eligible = {str(ids[c]): set(wids[w_idx[c_idx == c]].tolist()) for c in [*others, int(row)]}
        return Crowd(str(ids[row]), str(wids[top]), [str(ids[c]) for c in others], plain, eligible)
    raise AssertionError("the synthetic data has no crowded workplace to test with")


@pytest.fixture(scope="module")
def crowd(trained) -> Crowd:
    return find_crowd(trained)


@pytest.fixture(scope="module")
def own_store(trained, tmp_path_factory) -> Settings:
    """Settings over the trained model with a store of its own: no shortlist of other tests counts."""
    home = tmp_path_factory.mktemp("congestion")
    return trained.settings().model_copy(update={"database_url": f"sqlite:///{home / 'store.db'}"})


@pytest.fixture(scope="module")
def client(own_store, trained):
    with TestClient(create_app(own_store), headers=trained.key("batch")) as client:
        yield client


def shortlist(client, candidate_id: str, top_k: int = 10) -> dict:
    response = client.post("/shortlists", json={"candidate_id": candidate_id, "top_k": top_k})
    assert response.status_code == 200, response.text
    return response.json()


def position(body: dict, workplace_id: str) -> int | None:
    return next((i["rank"] for i in body["items"] if i["workplace_id"] == workplace_id), None)


def ranking_key(item: dict) -> tuple[float, float]:
    return (item["expected_success"] * item["congestion"]["factor"], item["score"])


@pytest.fixture(scope="module")
def crowded(client, crowd) -> dict:
    """The target's shortlist before and after many neighbours were sent their shortlists."""
    before = shortlist(client, crowd.target)
    sent = {other: shortlist(client, other, top_k=100) for other in crowd.others}
    after = shortlist(client, crowd.target)
    return {"before": before, "sent": sent, "after": after}


def test_without_congestion_the_order_is_the_plain_score_order(crowded, crowd):
    before = crowded["before"]["items"]
    assert [i["workplace_id"] for i in before] == [i["workplace_id"] for i in crowd.plain]
    np.testing.assert_allclose([i["score"] for i in before], [i["score"] for i in crowd.plain], rtol=1e-12)
    assert all(i["congestion"]["factor"] == 1.0 and i["congestion"]["live_suggestions"] == 0 for i in before)
    assert before[0]["workplace_id"] == crowd.workplace
    probabilities = [i["expected_success"] for i in before]
    assert probabilities == sorted(probabilities, reverse=True) and all(0 < p < 1 for p in probabilities)


def test_a_crowded_workplace_moves_down_for_the_next_person(client, crowded, crowd):
    after = crowded["after"]["items"]
    assert (position(crowded["after"], crowd.workplace) or len(after) + 1) > 1
    assert [ranking_key(i) for i in after] == sorted((ranking_key(i) for i in after), reverse=True)
    # every neighbour was sent every workplace they can reach (top_k 100 holds them all)
    for other, body in crowded["sent"].items():
        assert {i["workplace_id"] for i in body["items"]} == crowd.eligible[other]
    everything = shortlist(client, crowd.target, top_k=100)["items"]
    for item in everything:
        live = sum(item["workplace_id"] in crowd.eligible[other] for other in crowd.others)
        congestion = item["congestion"]
        assert congestion["live_suggestions"] == live  # the target's own suggestions are not counted
        assert congestion["factor"] == pytest.approx(min(1.0, PER_SLOT * congestion["free_slots"] / (live + 1)))
        against = [r for r in item["explanation"]["speaks_against"] if r["feature"] == "congestion"]
        assert len(against) == (congestion["factor"] < 1)
    crowded_item = next(i for i in everything if i["workplace_id"] == crowd.workplace)
    assert crowded_item["congestion"] == {
        "live_suggestions": len(crowd.others),
        "free_slots": 1,
        "factor": pytest.approx(PER_SLOT / (len(crowd.others) + 1)),
    }
    assert crowded_item["explanation"]["speaks_against"][-1]["sentence"] == (
        f"already suggested to {len(crowd.others)} others for 1 free slot"
    )
    # the suggestion keeps the model's score; only its place in the list changed
    assert crowded_item["score"] == pytest.approx(crowd.plain[0]["score"], rel=1e-12)
    assert crowded_item["expected_success"] == pytest.approx(crowded["before"]["items"][0]["expected_success"])


def test_turning_the_penalty_off_restores_the_plain_order(own_store, trained, crowd, crowded):
    settings = own_store.model_copy(update={"suggestions_per_slot": 0.0})
    with TestClient(create_app(settings), headers=trained.key("batch")) as off:
        items = shortlist(off, crowd.target)["items"]
    assert [i["workplace_id"] for i in items] == [i["workplace_id"] for i in crowd.plain]
    assert all(i["congestion"]["factor"] == 1.0 for i in items)
    assert all(r["feature"] != "congestion" for i in items for r in i["explanation"]["speaks_against"])
    assert items[0]["congestion"]["live_suggestions"] == len(crowd.others)  # still shown, not applied


def test_rejected_suggestions_no_longer_count(client, crowd, crowded):
    state = client.app.state.service
    with session_scope(state.engine) as session:
        item_ids = []
        for body in crowded["sent"].values():
            stored = get_shortlist(session, body["shortlist_id"])
            rank = next(i["rank"] for i in stored.items if i["workplace_id"] == crowd.workplace)
            item_ids.append(stored.item_id(rank))
            record_decision(session, item_ids[-1], "reject", "test-adviser", reason_code="workplace_not_ready")
    # the process learns of decisions when it next reads the store (at most every refresh_seconds)
    assert state.congestion.live([crowd.workplace], excluding=crowd.target).tolist() == [len(crowd.others)]
    state.congestion.refresh(state.engine)
    assert state.congestion.live([crowd.workplace], excluding=crowd.target).tolist() == [0]
    body = shortlist(client, crowd.target)
    assert position(body, crowd.workplace) == 1
    assert body["items"][0]["congestion"] == {"live_suggestions": 0, "free_slots": 1, "factor": 1.0}

    # a rejection corrected to an acceptance counts again
    with session_scope(state.engine) as session:
        record_decision(session, item_ids[0], "accept", "test-adviser")
    state.congestion.refresh(state.engine)
    assert state.congestion.live([crowd.workplace], excluding=crowd.target).tolist() == [1]


def test_suggestions_older_than_the_window_do_not_count(client, crowd, crowded, trained):
    state = client.app.state.service
    model = trained.model
    taken = {crowd.target, *crowd.others}
    someone = next(c for c in trained.dataset.candidates["candidate_id"] if c not in taken)
    item = {"rank": 1, "workplace_id": crowd.workplace, "score": 0.5, "explanation": {}, "features": {}}
    now = dt.datetime.now(dt.UTC)

    def live() -> int:
        state.congestion.refresh(state.engine)
        return int(state.congestion.live([crowd.workplace], excluding=crowd.target)[0])

    base = live()
    with session_scope(state.engine) as session:
        save_shortlist(session, someone, "test", model.name, model.version, 1, [item], now - dt.timedelta(days=15))
    assert live() == base
    with session_scope(state.engine) as session:
        save_shortlist(session, someone, "test", model.name, model.version, 1, [item], now - dt.timedelta(days=13))
        assert someone in live_suggestions(session, now - dt.timedelta(days=14))[crowd.workplace]
    assert live() == base + 1


def test_a_suggestion_another_worker_records_counts_in_the_next_shortlist_here(client, crowd, trained):
    """Two workers on one store: what one records counts in the other's very next view, long
    before its next whole read; a suggestion recorded already rejected, or outside the window,
    does not."""
    state = client.app.state.service
    other = Congestion(3.0, 14.0, refresh_seconds=3600)  # another worker, reading the store whole only hourly
    other.view(state.engine, crowd.target)
    base = int(other.live([crowd.workplace], excluding=crowd.target)[0])
    now = dt.datetime.now(dt.UTC)
    with session_scope(state.engine, readonly=True) as session:
        live_there = live_suggestions(session, now - dt.timedelta(days=14)).get(crowd.workplace, set())
    taken = {crowd.target, *crowd.others, *live_there}
    newcomers = [c for c in trained.dataset.candidates["candidate_id"] if c not in taken][:3]
    item = {"rank": 1, "workplace_id": crowd.workplace, "score": 0.5, "explanation": {}, "features": {}}
    model = trained.model
    with session_scope(state.engine) as session:
        save_shortlist(session, newcomers[0], "test", model.name, model.version, 1, [item])
    assert int(other.view(state.engine, crowd.target).live([crowd.workplace])[0]) == base + 1
    with session_scope(state.engine) as session:
        save_shortlist(session, newcomers[1], "test", model.name, model.version, 1, [item], now - dt.timedelta(days=20))
        rejected = save_shortlist(session, newcomers[2], "test", model.name, model.version, 1, [item])
        item_id = get_shortlist(session, rejected).item_id(1)
        record_decision(session, item_id, "reject", "test-adviser", reason_code="workplace_not_ready")
    assert int(other.view(state.engine, crowd.target).live([crowd.workplace])[0]) == base + 1
