"""Every family speaks the same protocol, on every task, and round-trips through safe files exactly."""

import numpy as np
import pandas as pd
import pytest

from depthgauge.data.profile import profile_table
from depthgauge.data.split import split_rows
from depthgauge.errors import NotFittedError
from depthgauge.zoo import FAMILIES, TABULAR_CANDIDATES, load_model


def prepared(frame, target):
    profile, frame = profile_table(frame, target)
    roles = {r: profile.features(r) for r in ("numeric", "categorical", "boolean", "datetime")}
    y = frame[target].to_numpy(float) if profile.task == "regression" else frame[target].astype(str).to_numpy()
    split = split_rows(frame, frame[target].astype(str) if profile.task != "regression" else frame[target], profile.task)
    X = frame[profile.features()]
    return profile.task, roles, X, y, split


@pytest.fixture(params=["churn", "regression_table", "multiclass_table"])
def dataset(request):
    frame = request.getfixturevalue(request.param)
    target = {"churn": "churned", "regression_table": "target", "multiclass_table": "target"}[request.param]
    return prepared(frame, target)


@pytest.mark.parametrize("family", TABULAR_CANDIDATES)  # the other kinds: test_kind_models.py
def test_fit_predict_save_load_gives_identical_predictions(family, dataset, tmp_path):
    task, roles, X, y, split = dataset
    model = FAMILIES[family](task, roles, seed=0, time_limit_s=20)
    assert model.fit(X.iloc[split.train], y[split.train], validation=(X.iloc[split.validation], y[split.validation])) is model
    test = X.iloc[split.test]
    predicted = model.predict(test)
    assert len(predicted) == len(test)
    if task == "regression":
        assert predicted.dtype.kind == "f"
        with pytest.raises(Exception, match="regression model"):
            model.predict_proba(test)
    else:
        proba = model.predict_proba(test)
        assert proba.shape == (len(test), len(model.classes_))
        assert np.allclose(proba.sum(axis=1), 1.0)
        assert set(predicted) <= set(model.classes_)
    folder = model.save(tmp_path / family)
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib", ".pt") for p in folder.iterdir())
    loaded = load_model(folder)
    assert type(loaded) is type(model)
    assert np.array_equal(loaded.predict(test), predicted)
    if task != "regression":
        assert np.array_equal(loaded.predict_proba(test), model.predict_proba(test))


@pytest.mark.parametrize("family", TABULAR_CANDIDATES)  # the other kinds: test_kind_models.py
def test_predict_before_fit_says_to_call_fit(family):
    model = FAMILIES[family]("binary", {"numeric": ["x"], "categorical": [], "boolean": [], "datetime": []})
    with pytest.raises(NotFittedError, match=r"Call fit\(X, y\)"):
        model.predict(pd.DataFrame({"x": [1.0]}))


@pytest.mark.parametrize("family", ["linear", "lightgbm", "mlp", "rules"])
def test_unseen_category_and_missing_values_are_handled_like_training_did(family, churn):
    task, roles, X, y, split = prepared(churn, "churned")
    model = FAMILIES[family](task, roles, time_limit_s=10).fit(X.iloc[split.train], y[split.train])
    odd = X.iloc[:3].copy()
    odd["contract"] = ["lifetime", None, "two-year"]
    odd["tenure_months"] = [np.nan, 5.0, np.nan]
    proba = model.predict_proba(odd)
    assert np.isfinite(proba).all()


def test_learning_models_beat_the_majority_baseline(churn):
    task, roles, X, y, split = prepared(churn, "churned")
    test = X.iloc[split.test]
    scores = {}
    for family in TABULAR_CANDIDATES:
        model = FAMILIES[family](task, roles, time_limit_s=20)
        model.fit(X.iloc[split.train], y[split.train], validation=(X.iloc[split.validation], y[split.validation]))
        scores[family] = (model.predict(test) == y[split.test]).mean()
    for family in ("linear", "lightgbm", "mlp"):
        assert scores[family] > scores["dummy"] + 0.03, scores


def test_rules_read_as_if_then_in_the_data_own_words(churn):
    task, roles, X, y, split = prepared(churn, "churned")
    model = FAMILIES["rules"](task, roles).fit(X, y)
    rules = model.rules_text()
    assert 2 <= len(rules) <= 8
    assert all(r.startswith("IF ") and " THEN " in r for r in rules)
    assert any("contract" in r and "'" in r for r in rules)  # categories appear by name
