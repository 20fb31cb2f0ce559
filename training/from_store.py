"""Training from the store (`jobmatch train --from-db`): the records to train on and the
decided suggestions with the feature values the model saw when it suggested them."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from matching.datasets import Dataset, load_dataset
from matching.store.contract import export_dataset
from matching.store.db import make_engine, session_scope, shown
from matching.store.outcomes import stored_outcomes


def training_data_from_store(
    data: Path | None, url: str | None, progress: Callable[[str], None]
) -> tuple[Path | Dataset, pd.DataFrame]:
    """The records to train on (the `--data` folder, else the store's records exported and validated)
    and the store's decided suggestions with the feature values the model saw.

    Args:
        data: a dataset folder to train on, or None for the store's own records.
        url: the store's database URL (None: the configured one).
        progress: called with a line before the store is read.

    Returns:
        `(data, stored)`: the folder as given, or the store's records as a dataset (with no path);
        and the stored outcomes in the contract's `outcomes` form with their feature values.
    """
    engine = make_engine(url)
    try:
        progress(f"reading decisions and outcomes from {shown(engine.url)}")
        with session_scope(engine, readonly=True) as session:
            stored = stored_outcomes(session, with_features=True)
        if data is None:
            with tempfile.TemporaryDirectory() as tmp:
                export_dataset(engine, Path(tmp))
                dataset = load_dataset(tmp)
                dataset.path = None
            return dataset, stored
    finally:
        engine.dispose()
    return data, stored
