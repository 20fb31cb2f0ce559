"""Task fit: does the person master what the job's tasks require?"""

from __future__ import annotations

import numpy as np

from features.pairs import PairFrame

REQUIRED_TASK_LEVEL = 0.5


def task_coverage(p: PairFrame) -> np.ndarray:
    """Share of the job's required task levels the person masters (1.0 when nothing is required)."""
    task, skill = p.w("task"), p.c("skill")
    need = task.sum(axis=1)
    met = np.minimum(task, skill).sum(axis=1)
    return np.divide(met, need, out=np.ones_like(need), where=need > 0)


def task_largest_gap(p: PairFrame) -> np.ndarray:
    """The largest shortfall of skill on a task the job requires (level >= 0.5), 0 if none."""
    task, skill = p.w("task"), p.c("skill")
    gap = np.where(task >= REQUIRED_TASK_LEVEL, np.maximum(task - skill, 0.0), 0.0)
    return gap.max(axis=1)
