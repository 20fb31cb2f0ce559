"""Explanations in an adviser's words: what speaks for and against a suggestion, which support
needs are met, and which required tasks will need training."""

from __future__ import annotations

import numpy as np

from features.registry import FEATURES, Feature
from features.support import HELPFUL_NEED, OFFERED, REQUIRED_NEED
from features.task import REQUIRED_TASK_LEVEL
from matching.explanation import Reason, SupportNeed, TaskGap
from matching.records import Vocabulary

MIN_CONTRIBUTION = 1e-3
TRAINING_GAP = 0.1


def reasons(values: np.ndarray, contributions: np.ndarray, limit: int = 3) -> tuple[list[Reason], list[Reason]]:
    """The features that raised and lowered one pair's score most, strongest first.

    Args:
        values: the pair's feature values (registry order).
        contributions: the pair's per-feature contributions (bias last, ignored).
        limit: at most this many on each side.

    Returns:
        `(speaks_for, speaks_against)`.
    """
    contributions = contributions[: len(FEATURES)]
    order = np.argsort(-np.abs(contributions), kind="stable")
    speaks_for: list[Reason] = []
    speaks_against: list[Reason] = []
    for j in order:
        c = float(contributions[j])
        if abs(c) < MIN_CONTRIBUTION:
            break
        side = speaks_for if c > 0 else speaks_against
        if len(side) < limit:
            feature = FEATURES[j]
            side.append(
                Reason(
                    feature=feature.name, sentence=feature.describe(float(values[j]), c > 0), contribution=round(c, 4)
                )
            )
    return speaks_for, speaks_against


def top_reasons(values: np.ndarray, contributions: np.ndarray, limit: int = 3) -> list[list[str]]:
    """For many pairs at once, the `limit` strongest reasons either way as signed sentences
    ("+ ..." or "- ..."), strongest first; "" where fewer reasons carry weight.

    Args:
        values: feature values, one row per pair.
        contributions: per-feature contributions, one row per pair (bias column ignored).
        limit: reasons per pair.

    Returns:
        `limit` lists (first, second, third reason...), each with one sentence per pair.
    """
    n = len(values)
    contributions = contributions[:, : len(FEATURES)]
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :limit]
    out: list[list[str]] = []
    for slot in range(order.shape[1]):
        column = np.full(n, "", dtype=object)
        chosen = order[:, slot]
        weight = contributions[np.arange(n), chosen]
        for j, feature in enumerate(FEATURES):
            for positive, mark in ((True, "+ "), (False, "- ")):
                rows = np.flatnonzero((chosen == j) & ((weight > 0) == positive) & (np.abs(weight) >= MIN_CONTRIBUTION))
                if len(rows):
                    column[rows] = _sentences(feature, values[rows, j], positive, mark)
        out.append(column.tolist())
    out.extend([[""] * n for _ in range(limit - len(out))])
    return out


def _sentences(feature: Feature, values: np.ndarray, positive: bool, mark: str) -> np.ndarray:
    """`mark + feature.describe(value, positive)` for each of `values`, each distinct value
    (bit for bit, so -0.0 and 0.0 stay apart) described once: batch runs explain many pairs
    that share a value."""
    values = np.ascontiguousarray(values)
    _, first, inverse = np.unique(values.view(f"u{values.itemsize}"), return_index=True, return_inverse=True)
    sentences = np.array([mark + feature.describe(float(values[i]), positive) for i in first], dtype=object)
    return sentences[inverse.reshape(-1)]


def support_status(
    needs: np.ndarray, offers: np.ndarray, vocabulary: Vocabulary
) -> tuple[list[SupportNeed], list[SupportNeed]]:
    """The person's support needs the workplace meets, and those it does not."""
    met: list[SupportNeed] = []
    unmet: list[SupportNeed] = []
    for j, support in enumerate(vocabulary.supports):
        if needs[j] < HELPFUL_NEED:
            continue
        arranging = vocabulary.support_system_can_arrange(support)
        entry = SupportNeed(
            support=support,
            need="required" if needs[j] >= REQUIRED_NEED else "helps",
            description=vocabulary.support_descriptions.get(support, support),
            arranged_by="support_system" if arranging else "workplace",
            scheme=vocabulary.scheme(support) if arranging else None,
        )
        (met if offers[j] >= OFFERED else unmet).append(entry)
    return met, unmet


def tasks_needing_training(task: np.ndarray, skill: np.ndarray, vocabulary: Vocabulary) -> list[TaskGap]:
    """Required tasks (level >= 0.5) where the person's skill falls short by more than 0.1."""
    out = []
    for j, activity in enumerate(vocabulary.activities):
        if task[j] >= REQUIRED_TASK_LEVEL and task[j] - skill[j] > TRAINING_GAP:
            out.append(
                TaskGap(task=activity, required_level=round(float(task[j]), 3), skill_level=round(float(skill[j]), 3))
            )
    return out
