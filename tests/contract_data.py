"""A small, hand-made, valid contract dataset for tests that need exact control of each value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matching.datasets import write_table
from matching.records import load_catalogue


def tiny_tables() -> dict[str, pd.DataFrame]:
    voc = load_catalogue().vocabulary
    workplaces = pd.DataFrame(
        {
            "workplace_id": ["W1", "W2", "W3"],
            "employer_id": ["E1", "E1", "E2"],
            "occupation_code": ["5223", "9112", "5223"],
            "lat": [59.91, 59.92, 59.95],
            "lon": [10.75, 10.76, 10.70],
            "hours_per_week": [20.0, 30.0, 15.0],
            "slots": [2, 1, 3],
            **{f"task_{a}": [0.5, 0.4, 0.6] for a in voc.activities},
            **{f"demand_{c}": [0.5, 0.3, 0.4] for c in voc.contexts},
            **{f"offers_{s}": [True, False, True] for s in voc.supports},
            "past_placements": [4, 0, 2],
            "past_hires": [2, 0, 1],
            "active": [True, True, True],
        }
    )
    candidates = pd.DataFrame(
        {
            "candidate_id": ["C1", "C2"],
            "adviser_id": ["A1", "A1"],
            "lat": [59.91, 59.93],
            "lon": [10.74, 10.75],
            "max_commute_km": [15.0, 10.0],
            "desired_hours": [20.0, 25.0],
            "preferred_occupations": [["5223"], []],
            **{f"interest_{r}": [0.5, 0.4] for r in voc.riasec},
            **{f"skill_{a}": [0.6, 0.3] for a in voc.activities},
            **{f"tolerance_{c}": [0.6, 0.5] for c in voc.contexts},
            **{f"needs_{s}": [1, 0] for s in voc.supports},
            "consent": [True, True],
            "active": [True, True],
        }
    )
    outcomes = pd.DataFrame(
        {
            "candidate_id": ["C1", "C1", "C2"],
            "workplace_id": ["W1", "W2", "W1"],
            "suggested_on": ["2025-01-10", "2025-01-10", "2025-02-01"],
            "grade": [3, 0, 1],
        }
    )
    return {"workplaces": workplaces, "candidates": candidates, "outcomes": outcomes}


def write_tiny(folder: Path, fmt: str = "csv", **changes: pd.DataFrame) -> Path:
    tables = {**tiny_tables(), **changes}
    for name, frame in tables.items():
        write_table(frame, folder, name, fmt)
    return folder
