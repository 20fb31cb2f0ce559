"""The workplace's side of "what would make it work": which support, if the workplace started to
offer it, would make the most persons within reach eligible, or better matched.

"Within reach": the consenting, active persons whose own commute reaches the workplace (the same
rule as candidate generation, `matching.candidates.CandidatePool`). Only supports the workplace
does not offer yet and only a workplace can give count (the support system arranges the others
itself). `more_eligible`: persons now left out only because they require this one support;
`better_matched`: persons already eligible who need it (it helps them, or they require it and the
support system would otherwise have to arrange it). Counts only: no person is named.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from features.support import HELPFUL_NEED, OFFERED, REQUIRED_NEED
from matching.candidates import CandidatePool, WorkplacePool


def offer_gains(pool: WorkplacePool, candidates: CandidatePool, workplace: int) -> list[dict[str, Any]]:
    """For each support the workplace at position `workplace` could start to offer: `support`,
    `more_eligible` and `better_matched`, most persons first; supports that gain no one are left out."""
    c_idx, _ = candidates.generate_pairs(pool, workplace, exclude_unmet_required=False)
    if len(c_idx) == 0:
        return []
    needs = candidates.table.arrays["needs"][c_idx]
    offered = pool.arrays["offers"][workplace] >= OFFERED
    blocking = (needs >= REQUIRED_NEED) & ~offered[None, :] & pool.workplace_only[None, :]
    blocked = blocking.sum(axis=1)
    eligible = blocked == 0
    supports = pool.catalogue.vocabulary.supports
    gains = []
    for j in np.flatnonzero(~offered & pool.workplace_only):
        more = int(((blocked == 1) & blocking[:, j]).sum())
        better = int((eligible & (needs[:, j] >= HELPFUL_NEED)).sum())
        if more or better:
            gains.append({"support": supports[j], "more_eligible": more, "better_matched": better})
    return sorted(gains, key=lambda g: (-g["more_eligible"], -g["better_matched"], g["support"]))
