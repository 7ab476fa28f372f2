"""The ONNX graph against our own predictions on every task, every column type the graph takes, and the edges where
a hand-built preprocessing step could drift: ties among integer values, missing values, unseen categories."""

import numpy as np
import onnxruntime
import pandas as pd
import pytest

from depthgauge.errors import DepthgaugeError
from depthgauge.registry.onnx_graph import model_to_onnx
from depthgauge.zoo import FAMILIES


def _table(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "amount": rng.lognormal(3, 1, n),
        "visits": rng.poisson(2, n).astype(float),  # few distinct values: tied quantiles
        "score": rng.normal(size=n),
        "member": rng.random(n) < 0.4,
        "plan": rng.choice(["basic", "pro", "team", "enterprise"], n),
    })
    frame.loc[rng.random(n) < 0.1, "score"] = np.nan
    frame.loc[rng.random(n) < 0.05, "plan"] = None
    signal = np.log(frame["amount"]) + frame["visits"] - frame["member"] + (frame["plan"] == "pro") * 2
    return frame, signal.to_numpy()


ROLES = {"numeric": ["amount", "visits", "score"], "categorical": ["plan"], "boolean": ["member"], "datetime": []}


def _feeds(frame: pd.DataFrame) -> dict:
    feeds = {name: frame[name].astype(float).to_numpy(np.float32).reshape(-1, 1)
             for name in ROLES["numeric"] + ROLES["boolean"]}
    feeds["plan"] = frame["plan"].fillna("").astype(str).to_numpy(object).reshape(-1, 1)
    return feeds


def _run(model, frame):
    session = onnxruntime.InferenceSession(model_to_onnx(model, "t:1").SerializeToString())
    return session.run(None, _feeds(frame))[0]


@pytest.mark.parametrize("family", ["linear", "lightgbm", "mlp"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_graph_matches_our_predictions(family, task):
    frame, signal = _table()
    if task == "binary":
        y = np.where(signal > np.median(signal), "yes", "no")
    elif task == "multiclass":
        y = np.array(["low", "mid", "high"])[np.digitize(signal, np.quantile(signal, [0.33, 0.66]))]
    else:
        y = signal * 1000.0  # large values: the graph keeps double precision to the end
    model = FAMILIES[family](task, ROLES, seed=0, time_limit_s=15).fit(frame.iloc[:900], y[:900])
    test = frame.iloc[900:].copy()
    test.loc[test.index[::17], "plan"] = "platinum"  # unseen: code 0, as missing
    test.loc[test.index[::19], "amount"] = 1e9  # beyond every training quantile
    got = _run(model, test)
    if task == "regression":
        expected = model.predict(test)
        # within 1e-5 of the value's size: a float32 network's own rounding, scaled by the target's spread
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-5, atol=1e-6)
    else:
        expected = model.predict_proba(test)
        assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-5


def test_a_table_of_only_categories_or_only_numbers_exports():
    frame, signal = _table(600)
    y = np.where(signal > np.median(signal), "yes", "no")
    only_categories = {"numeric": [], "categorical": ["plan"], "boolean": [], "datetime": []}
    model = FAMILIES["lightgbm"]("binary", only_categories, seed=0, time_limit_s=10).fit(frame[["plan"]], y)
    session = onnxruntime.InferenceSession(model_to_onnx(model, "t:1").SerializeToString())
    got = session.run(None, {"plan": frame["plan"].fillna("").astype(str).to_numpy(object).reshape(-1, 1)})[0]
    assert np.abs(got - model.predict_proba(frame[["plan"]])).max() < 1e-5
    only_numbers = {"numeric": ["score"], "categorical": [], "boolean": [], "datetime": []}
    model = FAMILIES["mlp"]("binary", only_numbers, seed=0, time_limit_s=10).fit(frame[["score"]], y)
    session = onnxruntime.InferenceSession(model_to_onnx(model, "t:1").SerializeToString())
    got = session.run(None, {"score": frame[["score"]].to_numpy(np.float32)})[0]
    assert np.abs(got - model.predict_proba(frame[["score"]])).max() < 1e-5


def test_families_and_columns_without_an_onnx_form_are_refused_by_name():
    frame, signal = _table(400)
    y = np.where(signal > np.median(signal), "yes", "no")
    tabm = FAMILIES["tabm"]("binary", ROLES, seed=0, time_limit_s=5).fit(frame, y)
    with pytest.raises(DepthgaugeError, match="The tabm family cannot be exported to ONNX.*linear, lightgbm, mlp"):
        model_to_onnx(tabm, "t:6")
    dated = frame.assign(signed=pd.date_range("2024-01-01", periods=len(frame), freq="D").astype(str))
    roles = {**ROLES, "datetime": ["signed"]}
    model = FAMILIES["linear"]("binary", roles, seed=0).fit(dated, y)
    with pytest.raises(DepthgaugeError, match="reads the date column\\(s\\) signed, and ONNX cannot parse dates"):
        model_to_onnx(model, "t:2")
