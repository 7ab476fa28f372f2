"""Drift statistics against a reference profile: a shifted feature is named, identical traffic stays quiet."""

import numpy as np
import pytest

from depthgauge.data.reference import build_reference
from depthgauge.data.synth import churn_table
from depthgauge.monitor import drift


def measure(reference, frame, seed=0):
    """Summarise `frame` as the monitor summarises log rows, in two parts merged, and measure its drift."""
    half = len(frame) // 2
    parts = [drift.profile_frame(reference, frame.iloc[:half], seed), drift.profile_frame(reference, frame.iloc[half:], seed + 1)]
    merged = {name: drift.merge([p[name] for p in parts]) for name in reference["features"]}
    return drift.feature_drift(reference, merged, seed)

ROLES = {"numeric": ["tenure_months", "monthly_charges", "support_calls", "usage_0", "usage_1", "usage_2"],
         "categorical": ["contract", "region"], "boolean": [], "datetime": []}


@pytest.fixture(scope="module")
def table():
    return churn_table(8000, 8, seed=3).drop(columns=["churned"])


def test_a_shifted_numeric_feature_is_flagged_by_name_and_nothing_else(table):
    reference = build_reference(table.iloc[:4000], ROLES, {}, seed=1)
    live = table.iloc[4000:5000].copy()
    live["monthly_charges"] = live["monthly_charges"] + 20  # less than one standard deviation (25)
    features = measure(reference, live)
    assert [name for name, f in features.items() if f["drifted"]] == ["monthly_charges"]
    shifted = features["monthly_charges"]
    assert shifted["psi"] >= drift.PSI_DRIFT and shifted["p_value"] < 1e-6 and shifted["js_distance"] > 0.1
    assert drift.drift_score(features, {}) == pytest.approx(1 / 8)
    assert drift.drift_score(features, {"monthly_charges": 3.0, "tenure_months": 1.0}) == pytest.approx(0.75)


def test_a_shifted_category_mix_is_flagged_with_its_largest_change(table):
    reference = build_reference(table.iloc[:4000], ROLES, {}, seed=1)
    live = table.iloc[4000:5000].copy()
    live.loc[live.index[:600], "contract"] = "two-year"
    live.loc[live.index[600:700], "region"] = "atlantis"  # unseen in training
    features = measure(reference, live)
    assert features["contract"]["drifted"] and features["contract"]["test"] == "chi-square"
    assert max(features["contract"]["largest_changes"], key=lambda k: features["contract"]["largest_changes"][k]) == "two-year"
    assert features["region"]["unseen_share"] == pytest.approx(0.1)
    assert not features["region"]["drifted"]  # unseen categories are their own signal, not drift of the column


def test_twenty_random_no_drift_splits_raise_at_most_one_false_alarm(table):
    alarms = 0
    for seed in range(20):
        order = np.random.default_rng(seed).permutation(len(table))
        reference = build_reference(table.iloc[order[:4000]], ROLES, {}, seed=seed)
        features = measure(reference, table.iloc[order[4000:5000]], seed=seed)
        alarms += any(f["drifted"] for f in features.values())
    assert alarms / 20 <= 0.05


def test_missing_values_and_a_missing_column_count_as_what_they_are(table):
    reference = build_reference(table.iloc[:4000], ROLES, {}, seed=1)
    live = table.iloc[4000:4500].drop(columns=["usage_1"]).copy()
    live.loc[live.index[:250], "tenure_months"] = np.nan
    features = measure(reference, live)
    assert features["tenure_months"]["missing_share"] == pytest.approx(0.5)
    assert features["tenure_months"]["drifted"] and features["tenure_months"]["reason"] == "more values missing"
    assert features["usage_1"]["missing_share"] == 1.0 and features["usage_1"]["drifted"]
    assert not features["usage_0"]["drifted"] and features["usage_0"]["reason"] is None


def test_psi_is_zero_for_identical_shares_and_grows_with_the_shift():
    same = drift.psi([0.25, 0.25, 0.5], [0.25, 0.25, 0.5])
    small = drift.psi([0.25, 0.25, 0.5], [0.3, 0.25, 0.45])
    large = drift.psi([0.25, 0.25, 0.5], [0.6, 0.2, 0.2])
    assert same == pytest.approx(0.0) and 0 < small < large
