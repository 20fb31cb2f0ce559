"""Training from the store (`jobmatch train --from-db`): the records to train on and the
settled suggestions with the feature values the model saw when it suggested them, labelled by
`matching.labels`; the suggestions left out for now are counted and reported."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from matching.datasets import Dataset, load_dataset
from matching.labels import LEFT_OUT
from matching.settings import get_settings
from matching.store.contract import export_dataset
from matching.store.db import make_engine, session_scope, shown
from matching.store.outcomes import stored_labels


def left_out_lines(left_out: dict[str, int], settle_days: float) -> list[str]:
    """One line saying how many stored suggestions were left out of training, then one per why."""
    total = sum(left_out.values())
    lines = [f"{total} stored suggestions left out of training for now (settled after {settle_days:g} days)"]
    lines += [f"  {left_out[why]} {why}: {meaning}" for why, meaning in LEFT_OUT.items() if left_out.get(why)]
    return lines


def training_data_from_store(
    data: Path | None,
    url: str | None,
    progress: Callable[[str], None],
    report: Callable[[str], None] | None = None,
) -> tuple[Path | Dataset, pd.DataFrame]:
    """The records to train on (the `--data` folder, else the store's records exported and validated)
    and the store's settled suggestions with the feature values the model saw.

    A suggestion still under way (`matching.labels`: a placement running, or accepted with no
    event yet, within `JOBMATCH_OUTCOME_SETTLE_DAYS`) is left out of both the stored rows and the
    exported outcomes; how many and why is reported.

    Args:
        data: a dataset folder to train on, or None for the store's own records.
        url: the store's database URL (None: the configured one).
        progress: called with a line before the store is read.
        report: called with each line about the suggestions left out (default: `progress`).

    Returns:
        `(data, stored)`: the folder as given, or the store's records as a dataset (with no path);
        and the stored outcomes in the contract's `outcomes` form with their feature values.
    """
    settle_days = get_settings().outcome_settle_days
    engine = make_engine(url)
    try:
        progress(f"reading decisions and outcomes from {shown(engine.url)}")
        with session_scope(engine, readonly=True) as session:
            labels = stored_labels(session, with_features=True, settle_days=settle_days)
        for line in left_out_lines(labels.left_out, settle_days):
            (report or progress)(line)
        if data is None:
            with tempfile.TemporaryDirectory() as tmp:
                export_dataset(engine, Path(tmp))
                dataset = load_dataset(tmp)
                dataset.path = None
            return dataset, labels.frame
    finally:
        engine.dispose()
    return data, labels.frame
