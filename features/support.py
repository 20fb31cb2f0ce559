"""Support needs and work demands: can the workplace give what the person needs?

The support levels are defined here, once, for the features, candidate generation (also on
Spark) and the explanations: a need (`needs_<support>`) is 0 (none), 1 (helps) or 2 (required);
a workplace's offer (`offers_<support>`, a boolean read as 0/1) gives the support from one half up.
Which supports only the workplace can give (`workplace_only`) comes from the catalogue.
"""

from __future__ import annotations

import numpy as np

from features.pairs import PairFrame, VocabularyLike

REQUIRED_NEED = 2  # a need at this level is required: without it the placement cannot work
HELPFUL_NEED = 1  # a need at this level (below REQUIRED_NEED) helps
OFFERED = 0.5  # a workplace's offer at or above this gives the support


def workplace_only(vocabulary: VocabularyLike) -> np.ndarray:
    """Per support (in the vocabulary's order), whether only the workplace can give it: a required
    need of such a support excludes a workplace that does not offer it, while one the support
    system can arrange (`Vocabulary.support_system_can_arrange`) does not."""
    can_arrange = getattr(vocabulary, "support_system_can_arrange", lambda support: False)
    return np.array([not can_arrange(s) for s in vocabulary.supports], dtype=bool)


def workplace_only_supports(vocabulary: VocabularyLike) -> tuple[str, ...]:
    """The names of the supports only a workplace can give (see `workplace_only`)."""
    only = workplace_only(vocabulary)
    return tuple(s for s, o in zip(vocabulary.supports, only, strict=True) if o)


def support_needs_covered(p: PairFrame) -> np.ndarray:
    """Share of the person's support needs the workplace offers, required needs counting double."""
    one = p.one_candidate()
    if one is not None:  # one person: a product with their needs (whole numbers: the same sums)
        row = p.candidates["needs"][one]
        total_one = float(row.sum())
        if total_one <= 0:
            return np.ones(len(p))
        return np.asarray(p.w("offers") @ row) / total_one
    needs, offers = p.c("needs"), p.w("offers")
    total = needs.sum(axis=1)
    met = (needs * offers).sum(axis=1)
    return np.divide(met, total, out=np.ones_like(total), where=total > 0)


def support_required_unmet(p: PairFrame) -> np.ndarray:
    """How many supports the person requires (`REQUIRED_NEED`) that the workplace cannot give."""
    one = p.one_candidate()
    if one is not None:  # one person: only the columns of the supports they require
        required = p.candidates["needs"][one] >= REQUIRED_NEED
        return (p.w("offers")[:, required] < OFFERED).sum(axis=1).astype(np.float64)
    needs, offers = p.c("needs"), p.w("offers")
    return ((needs >= REQUIRED_NEED) & (offers < OFFERED)).sum(axis=1).astype(np.float64)


def support_mentor_available(p: PairFrame) -> np.ndarray:
    """1 when the workplace has a named colleague who trains and follows the person."""
    return p.w("offers")[:, p.column_of("offers", "mentor")].astype(np.float64)


def demand_over_tolerance(p: PairFrame) -> np.ndarray:
    """Sum over work contexts of how far the job's demand exceeds what the person copes with."""
    return np.maximum(p.w("demand") - p.c("tolerance"), 0.0).sum(axis=1)
