"""Labels from the store: histories recorded through the store's functions (decisions, the
person's answers, plans, placement events with their assessments) read back by `stored_labels`
as `matching.labels` grades them, with the rows not settled yet left out and counted; the
export's outcomes leave them out too. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from matching.store.contract import export_dataset
from matching.store.db import session_scope
from matching.store.decisions import record_decision, record_person_answer
from matching.store.outcomes import stored_labels, stored_outcomes
from matching.store.placements import append_event, open_placement
from matching.store.plans import create_plan
from tests.store.test_store_review_loop import CANDIDATE, DRAFT, T0, shortlist

DAY = dt.timedelta(days=1)
SETTLE = 90


def assessment(source: str, would: str) -> dict[str, object]:
    return {
        "reason_text": None,
        "assessment": {"source": source, "tasks_mastered": 4, "would_continue": would, "what_worked": "mentor"},
    }


# rank -> (decision, answer, events as (kind, reason, payload)); everything from T0 on, a day apart
HISTORIES: dict[int, tuple[str | None, str | None, list[tuple[str, str | None, dict[str, object] | None]]]] = {
    1: ("accept", "interested", []),  # accepted, no event
    2: ("accept", "interested", [("contacted", None, None), ("trial_started", None, None)]),  # running
    3: (
        "accept",
        "interested",
        [
            ("contacted", None, None),
            ("trial_started", None, None),
            ("trial_completed", None, None),
            ("assessment", None, assessment("person", "yes")),
            ("assessment", None, assessment("employer", "yes")),
        ],
    ),
    4: (
        "accept",
        "interested",
        [
            ("contacted", None, None),
            ("trial_started", None, None),
            ("trial_completed", None, None),
            ("assessment", None, assessment("person", "yes")),
            ("assessment", None, assessment("employer", "no")),
        ],
    ),
    5: ("accept", "interested", [("contacted", None, None), ("trial_started", None, None), ("hired", None, None)]),
    6: ("accept", "not_interested", []),  # the person said no after the adviser's accept
    7: (None, "not_interested", []),  # the person said no before any decision
    8: ("reject", None, []),  # the adviser's rejection
    9: ("accept", "interested", [("contacted", None, None), ("ended", "employer_ended", None)]),
    10: (None, "interested", []),  # undecided: no label
}


def record(engine) -> list[int]:
    ids = shortlist(engine, len(HISTORIES))
    with session_scope(engine) as session:
        for rank, (decision, answer, events) in HISTORIES.items():
            item = ids[rank - 1]
            if answer is not None:
                record_person_answer(session, item, answer, "adviser-7", recorded_at=T0)
            if decision == "reject":
                record_decision(session, item, "reject", "adviser-7", "too_far", decided_at=T0)
            elif decision == "accept":
                record_decision(session, item, "accept", "adviser-7", decided_at=T0)
                plan_id = create_plan(session, CANDIDATE, f"SYN-W{rank:06d}", item, DRAFT, "adviser-7", created_at=T0)
                if events:
                    placement_id = open_placement(session, plan_id, created_at=T0)
                    for i, (kind, reason, payload) in enumerate(events, start=1):
                        at = T0 + i * DAY
                        append_event(session, placement_id, kind, reason, payload, "adviser-7", kind, recorded_at=at)
    return ids


def graded(frame: pd.DataFrame) -> dict[str, tuple[int, str | None]]:
    return {r.workplace_id: (r.grade, r.reason) for r in frame.itertuples()}


def test_stored_labels_grade_by_events_assessments_and_answers_and_leave_out_what_runs(loaded):
    record(loaded)
    soon = T0 + 30 * DAY
    with session_scope(loaded) as session:
        early = stored_labels(session, now=soon, settle_days=SETTLE)
        late = stored_labels(session, now=T0 + 200 * DAY, settle_days=SETTLE)
    settled_at_once = {
        "SYN-W000005": (4, None),  # hired
        "SYN-W000006": (0, "not_interested"),
        "SYN-W000007": (0, "not_interested"),
        "SYN-W000008": (0, "too_far"),
        "SYN-W000009": (1, "employer_ended"),
    }
    assert graded(early.frame) == settled_at_once
    # accepted with no event (1); contacted and started (2), completed with assessments (3, 4)
    assert early.left_out == {"awaiting_first_event": 1, "placement_running": 3}
    assert graded(late.frame) == {
        **settled_at_once,
        "SYN-W000001": (0, "no_event"),  # accepted, nothing followed: not "employer contacted"
        "SYN-W000002": (2, None),  # the stage it reached
        "SYN-W000003": (3, None),  # completed, both would go on
        "SYN-W000004": (2, "assessed_stop"),  # completed, the employer would not
    }
    assert not late.left_out
    assert late.frame["grade"].between(0, 4).all() and late.frame["grade"].dtype == "int64"


def test_the_export_leaves_out_the_suggestions_still_under_way(loaded, tmp_path):
    ids = shortlist(loaded, 2, created_at=dt.datetime.now(dt.UTC))
    with session_scope(loaded) as session:
        for rank, item in enumerate(ids, start=1):
            record_person_answer(session, item, "interested", "adviser-7")
            record_decision(session, item, "accept", "adviser-7")
            plan_id = create_plan(session, CANDIDATE, f"SYN-W{rank:06d}", item, DRAFT, "adviser-7")
            placement_id = open_placement(session, plan_id)
            kinds = ["contacted", "ended"] if rank == 1 else ["contacted"]
            for kind in kinds:
                append_event(session, placement_id, kind, "person_quit" if kind == "ended" else None, None, "a-7", kind)
        assert graded(stored_outcomes(session)) == {"SYN-W000001": (1, "person_quit")}
    export_dataset(loaded, tmp_path)
    exported = pd.read_parquet(tmp_path / "outcomes.parquet")
    mine = exported[
        (exported["candidate_id"] == CANDIDATE) & exported["workplace_id"].isin(["SYN-W000001", "SYN-W000002"])
    ]
    today = pd.Timestamp(dt.datetime.now(dt.UTC).date())
    assert graded(mine[mine["suggested_on"] == today]) == {"SYN-W000001": (1, "person_quit")}
