"""Capacity-aware shortlists for a whole caseload.

Built one candidate at a time, shortlists pile onto the same few good workplaces: a workplace
with 2 free slots can end up on 40 lists, and most of those suggestions cannot be taken up. The
allocation chooses up to `top_k` workplaces per candidate so that no workplace is suggested to
more than `per_slot x slots` candidates, maximising the total expected success (the model's
calibrated P(hired), summed over all suggestions).

That is a b-matching, solved exactly as a min-cost flow with OR-Tools:

    source --(top_k)--> candidate --(1, -value)--> workplace --(per_slot x slots)--> sink
    source --(candidates x top_k, 0)--> sink      (a shortlist place left empty costs nothing)

Maximising the sum alone would take suggestions from the people whose predicted success is
lowest, often those with the most extensive support needs. So each candidate's first `floor`
suggestions carry a large bonus (the source arc is split in two: `floor` places with the bonus,
the rest without): the solver first gives as many people as it can at least `floor` suggestions,
and only then maximises expected success.

The constraint matrix is totally unimodular, so the optimal flow is integral: every pair arc
carries 0 or 1, and its flow is the decision. Values are scaled to integers (1e-6 resolution).
Only each candidate's `pool` best pairs enter the graph: a workplace far down a person's list is
not worth suggesting even when it is free, and it keeps the graph to `pool x candidates` arcs.

`summarise` says what a set of shortlists promises; `allocation_report` sets the independent
top-k and the allocation side by side (`jobmatch score --allocate`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

VALUE_SCALE = 1_000_000
FLOOR_BONUS = 1_000 * VALUE_SCALE  # worth more than any exchange of values along a path


@dataclass(frozen=True)
class Allocation:
    """Which pairs are chosen, and how the solve went."""

    chosen: np.ndarray  # boolean mask over the input pairs
    objective: float  # total value of the chosen pairs
    seconds: float
    arcs: int


def capacities(slots: np.ndarray, per_slot: float) -> np.ndarray:
    """Most candidates a workplace may be suggested to: `floor(per_slot x slots)`, at least 1 for
    a workplace with a free slot."""
    slots = np.asarray(slots, dtype=np.float64)
    cap = np.floor(per_slot * slots + 1e-9).astype(np.int64)
    return np.where(slots > 0, np.maximum(cap, 1), 0)


def allocate(
    c_idx: np.ndarray,
    w_idx: np.ndarray,
    value: np.ndarray,
    top_k: int,
    capacity: np.ndarray,
    floor: int = 0,
) -> Allocation:
    """Choose at most `top_k` pairs per candidate and `capacity[w]` per workplace, maximising the
    summed `value` once as many candidates as possible have `floor` suggestions.

    Args:
        c_idx: candidate of each pair (any integer labels).
        w_idx: workplace of each pair, an index into `capacity`.
        value: the pair's expected success, in [0, 1].
        top_k: the most suggestions per candidate.
        capacity: the most suggestions per workplace.
        floor: suggestions every candidate should get first, where capacity allows (0: none).

    Raises:
        ValueError: on mismatched lengths, values outside [0, 1], or a solver failure.
    """
    c_idx, w_idx = np.asarray(c_idx, dtype=np.int64), np.asarray(w_idx, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    if not (len(c_idx) == len(w_idx) == len(value)):
        raise ValueError("c_idx, w_idx and value must have the same length")
    if len(value) and (not np.isfinite(value).all() or value.min() < 0 or value.max() > 1):
        raise ValueError("values must be expected success rates in [0, 1]")
    started = time.perf_counter()
    if len(value) == 0 or top_k <= 0:
        return Allocation(np.zeros(len(value), dtype=bool), 0.0, time.perf_counter() - started, 0)
    candidates, c_node = np.unique(c_idx, return_inverse=True)
    workplaces, w_node = np.unique(w_idx, return_inverse=True)
    n_c, n_w = len(candidates), len(workplaces)
    source, sink = 0, 1 + n_c + n_w
    cand = 1 + np.arange(n_c)
    work = 1 + n_c + np.arange(n_w)
    pair_tail, pair_head = 1 + c_node, 1 + n_c + w_node
    floor = min(max(floor, 0), top_k)
    tails = np.concatenate([np.full(n_c, source), np.full(n_c, source), pair_tail, work, [source]])
    heads = np.concatenate([cand, cand, pair_head, np.full(n_w, sink), [sink]])
    caps = np.concatenate(
        [
            np.full(n_c, top_k - floor),
            np.full(n_c, floor),
            np.ones(len(value), dtype=np.int64),
            np.asarray(capacity, dtype=np.int64)[workplaces],
            [n_c * top_k],
        ]
    )
    costs = np.concatenate(
        [
            np.zeros(n_c, dtype=np.int64),
            np.zeros(n_c, dtype=np.int64),
            -np.rint(value * VALUE_SCALE).astype(np.int64),
            np.zeros(n_w, dtype=np.int64),
            [0],
        ]
    )
    costs[n_c : 2 * n_c] = -FLOOR_BONUS  # flow into a candidate can only leave as a suggestion
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = n_c * top_k
    solver.set_nodes_supplies(np.array([source, sink]), np.array([supply, -supply]))
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise ValueError(f"the allocation solver did not find an optimum (status {status})")
    flows = solver.flows(arcs[2 * n_c : 2 * n_c + len(value)])
    chosen = flows > 0
    return Allocation(chosen, float(value[chosen].sum()), time.perf_counter() - started, len(arcs))


def summarise(
    c_idx: np.ndarray,
    w_idx: np.ndarray,
    value: np.ndarray,
    chosen: np.ndarray,
    top_k: int,
    slots: np.ndarray,
    candidates: int,
    open_workplaces: int,
) -> dict[str, float]:
    """What a set of shortlists promises.

    - expected_success: the summed P(hired) of every suggestion, as if each could be taken up;
    - expected_hires_within_slots: per workplace at most its free slots, `sum_w min(slots_w,
      sum of P(hired) of its suggestions)`: what the suggestions can actually turn into;
    - full_shortlists: share of `candidates` with `top_k` suggestions;
    - without_suggestions: share of `candidates` with none;
    - workplaces_suggested: share of `open_workplaces` suggested to anyone;
    - max_per_slot: the most suggestions any workplace carries per free slot.
    """
    c, w, v = c_idx[chosen], w_idx[chosen], value[chosen]
    per_candidate = np.unique(c, return_counts=True)[1]
    used, inverse = np.unique(w, return_inverse=True)
    load = np.bincount(inverse, weights=v, minlength=len(used))
    count = np.bincount(inverse, minlength=len(used))
    slot = np.asarray(slots, dtype=np.float64)[used]
    return {
        "suggestions": float(len(c)),
        "expected_success": float(v.sum()),
        "expected_hires_within_slots": float(np.minimum(slot, load).sum()),
        "full_shortlists": float((per_candidate >= top_k).sum() / max(candidates, 1)),
        "without_suggestions": float(1 - len(per_candidate) / max(candidates, 1)),
        "workplaces_suggested": float(len(used) / max(open_workplaces, 1)),
        "max_per_slot": float((count / np.maximum(slot, 1)).max()) if len(used) else 0.0,
    }


def allocation_report(figures: dict[str, Any], top_k: int) -> str:
    """Independent top-k against the capacity-aware allocation, as a small table."""
    rows = [
        ("suggestions", "suggestions", "{:,.0f}"),
        ("expected success (sum of P(hired))", "expected_success", "{:,.1f}"),
        ("expected hires within free slots", "expected_hires_within_slots", "{:,.1f}"),
        (f"candidates with a full shortlist ({top_k})", "full_shortlists", "{:.1%}"),
        ("candidates without any suggestion", "without_suggestions", "{:.1%}"),
        ("open workplaces suggested at all", "workplaces_suggested", "{:.1%}"),
        ("most suggestions per free slot", "max_per_slot", "{:,.1f}"),
    ]
    lines = [
        f"allocation (at most {figures['per_slot']:g} suggestions per free slot, {figures['floor']} first for "
        f"everyone; solved in "
        f"{figures['solve_seconds']:.2f}s over {figures['arcs']:,} arcs):",
        f"  {'':42} {'independent top-k':>18} {'allocated':>12}",
    ]
    for label, key, fmt in rows:
        left, right = figures["independent"][key], figures["allocated"][key]
        lines.append(f"  {label:42} {fmt.format(left):>18} {fmt.format(right):>12}")
    return "\n".join(lines)
