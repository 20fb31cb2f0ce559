"""The trainer on data no one here made: LightGBM's own learning-to-rank example (MIT licence,
copied with its LICENSE under tests/fixtures/ltr-example/)."""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_svmlight_file

from training.evaluate import ndcg_at_k
from training.fit import fit_ranker

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "ltr-example"


def load(name: str, n_features: int | None = None):
    x, y = load_svmlight_file(str(FOLDER / name), n_features=n_features)
    sizes = np.loadtxt(FOLDER / f"{name}.query", dtype=int)
    return x.toarray(), y.astype(int), sizes


def test_trainer_ranks_lightgbms_example_data_well():
    x, y, sizes = load("rank.train")
    xt, yt, sizes_t = load("rank.test", x.shape[1])
    names = [f"f{i}" for i in range(x.shape[1])]
    booster = fit_ranker(
        (x, y, sizes),
        None,
        params={"learning_rate": 0.1, "num_leaves": 31, "extra_trees": False},
        num_rounds=100,
        names=names,
    )
    groups = np.repeat(np.arange(len(sizes_t)), sizes_t)
    model = ndcg_at_k(yt, booster.predict(xt), groups, 5)
    shuffled = np.mean([ndcg_at_k(yt, np.random.default_rng(s).random(len(yt)), groups, 5) for s in range(20)])
    assert model > shuffled + 0.1, (model, shuffled)
    assert model > 0.6
