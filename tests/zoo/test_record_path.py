"""The records fast path (no DataFrame: numbers straight into rows, categories through dicts) gives exactly the
numbers of the frame path, on every family that has it, for any record the input contract lets through: missing
values, unseen categories, booleans written as words, dates, numbers sent as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depthgauge.contract import ContractError, InputContract
from depthgauge.data.profile import profile_table
from depthgauge.zoo import FAMILIES

FAST = sorted(name for name, family in FAMILIES.items() if family.reads_records)


def _table(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "amount": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(3, 1, n)),
        "visits": rng.integers(0, 30, n).astype(float),
        "member": rng.choice(["yes", "no"], n),
        "signed_up": pd.date_range("2024-01-01", periods=n, freq="13h").astype(str),
        "plan": np.where(rng.random(n) < 0.1, None, rng.choice(["basic", "plus", "pro", "team"], n)),
        "region": rng.choice([f"r{i}" for i in range(12)], n),
    })
    frame["target"] = np.where(frame["visits"] + (frame["plan"] == "pro") * 10 > 18, "churn", "stay")
    frame["spend"] = frame["visits"] * 3.0 + rng.normal(0, 1, n)
    return frame


def _fitted(family: str, task: str):
    frame = _table()
    target = "target" if task == "binary" else "spend"
    profile, frame = profile_table(frame.drop(columns=["spend" if task == "binary" else "target"]), target)
    roles = {r: profile.features(r) for r in ("numeric", "categorical", "boolean", "datetime")}
    y = frame[target].astype(str).to_numpy() if task == "binary" else frame[target].to_numpy(float)
    params = {"max_epochs": 2} if FAMILIES[family].is_deep else {}
    model = FAMILIES[family](task, roles, seed=0, **params).fit(frame[profile.features()], y)
    return model, InputContract(model.input_schema(), None)


@pytest.fixture(scope="module", params=[(f, t) for f in FAST for t in ("binary", "regression")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def fitted(request):
    return _fitted(*request.param)


_values = {
    "amount": st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(["12.5", "7", "n/a"])),
    "visits": st.one_of(st.none(), st.integers(-5, 100), st.floats(0, 50, allow_nan=False)),
    "member": st.one_of(st.none(), st.booleans(), st.sampled_from(["yes", "no", " Yes ", "TRUE", "0", "maybe"])),
    "signed_up": st.one_of(st.none(), st.sampled_from(["2024-03-01", "2025-12-31 23:59:00", "2024-02-30", "soon"])),
    "plan": st.one_of(st.none(), st.sampled_from(["basic", "plus", "pro", "team", "enterprise", ""]),
                      st.integers(0, 3)),
    "region": st.one_of(st.sampled_from([f"r{i}" for i in range(14)]), st.none()),
}
records = st.fixed_dictionaries({}, optional=_values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(records, min_size=1, max_size=4))
def test_records_give_the_numbers_of_the_batch_path(fitted, batch):
    model, contract = fitted
    try:
        rows, _ = contract.check_records(batch)
    except ContractError:
        return  # refused before any model sees it, on both paths
    framed = model._predict_raw(pd.DataFrame(rows, columns=contract.names))
    fast = model.predict_records_raw(rows)
    np.testing.assert_array_equal(fast, framed)
    if len(rows) > 1:  # a record's numbers do not depend on its batch-mates (beyond float rounding in a network)
        np.testing.assert_allclose(model.predict_records_raw(rows[-1:]), framed[-1:], rtol=1e-5, atol=1e-7)


def test_every_table_family_but_the_anomaly_detectors_has_the_fast_path():
    assert {"dummy", "linear", "rules", "lightgbm", "mlp", "tabm"} <= set(FAST)
    assert not {"isolation_forest", "autoencoder", "pixels_linear", "cnn", "tfidf"} & set(FAST)
