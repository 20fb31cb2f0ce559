"""The fairness rule, defined once for the training report (`training.fairness`) and the live
loop's report (`matching.store.live_fairness`): the audit attributes a report groups by (never
features), the four-fifths rule (a group whose value is under `THRESHOLD` of the best group's is
flagged), and the size under which a group is shown but neither flagged nor the reference."""

from __future__ import annotations

ATTRIBUTES = ("age_band", "gender")
THRESHOLD = 0.8
SMALL_GROUP = 30
