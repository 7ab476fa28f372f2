"""Permutation importance through our own predictors: a planted informative column comes first, for a tree and a
network alike, and the repeats give an interval; with no time for two repeats it is not measured at all."""

import numpy as np
import pandas as pd
import pytest

from depthgauge.assessment.importance import permutation_importance_of, sample_rows
from depthgauge.zoo import FAMILIES


def _planted(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"noise_{i}": rng.normal(size=n) for i in range(5)})
    frame["signal"] = rng.normal(size=n)
    frame["plan"] = rng.choice(["basic", "pro", "team"], n)  # a categorical that carries nothing
    y = np.where(frame["signal"] + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    return frame, y


@pytest.mark.parametrize("family,task,metric", [("lightgbm", "binary", "roc_auc"), ("mlp", "binary", "accuracy"),
                                                ("linear", "regression", "rmse")])
def test_the_planted_informative_column_is_ranked_first(family, task, metric):
    X, y = _planted()
    if task == "regression":
        y = X["signal"].to_numpy() * 3 + np.random.default_rng(1).normal(size=len(X)) * 0.1
    roles = {"numeric": [c for c in X if c != "plan"], "categorical": ["plan"], "boolean": [], "datetime": []}
    model = FAMILIES[family](task, roles, seed=0, time_limit_s=20).fit(X.iloc[:1000], y[:1000])
    found = permutation_importance_of(model, task, metric, X.iloc[1000:], y[1000:], "yes", 0, allowance_s=30.0)
    first, *rest = found["features"]
    assert first["feature"] == "signal", found["features"][:3]
    assert first["low"] > 0 and first["low"] <= first["drop"] <= first["high"]
    assert all(r["drop"] < first["low"] for r in rest)  # every other column far below
    assert found["repeats"] == 5 and found["rows"] == 500 and found["metric"] == metric


def test_without_time_for_two_repeats_nothing_is_claimed():
    X, y = _planted(400)
    roles = {"numeric": [c for c in X if c != "plan"], "categorical": ["plan"], "boolean": [], "datetime": []}
    model = FAMILIES["lightgbm"]("binary", roles, seed=0, time_limit_s=10).fit(X.iloc[:300], y[:300])
    assert permutation_importance_of(model, "binary", "roc_auc", X.iloc[300:], y[300:], "yes", 0, 0.0) is None


def test_every_candidate_is_measured_on_the_same_sample_of_rows():
    assert (sample_rows(10_000, 3) == sample_rows(10_000, 3)).all() and len(sample_rows(10_000, 3)) == 2000
    assert (sample_rows(50, 3) == np.arange(50)).all()
