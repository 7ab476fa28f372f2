import numpy as np
import pandas as pd
import pytest

from depthgauge.data.profile import find_leaky_features, infer_role, profile_table
from depthgauge.errors import DepthgaugeError


def roles(frame, target):
    profile, _ = profile_table(frame, target)
    return {c.name: c.role for c in profile.columns}, profile


def test_each_column_gets_the_role_a_data_scientist_would_give():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "code": [f"C-{i:05d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": rng.normal(5e4, 1e4, n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "active": rng.choice(["yes", "no"], n),
        "signup": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "comment": [f"the customer said item {i} arrived late and the box was damaged" for i in range(n)],
        "label": rng.choice(["a", "b"], n),
    })
    found, _ = roles(frame, "label")
    assert found == {"customer_id": "identifier", "code": "identifier", "age": "numeric", "income": "numeric",
                     "plan": "categorical", "active": "boolean", "signup": "datetime", "comment": "text",
                     "label": "target"}


@pytest.mark.parametrize("values,task", [
    (["yes", "no"] * 50, "binary"),
    ([0, 1, 2] * 40, "multiclass"),
    (["a", "b", "c", "d"] * 30, "multiclass"),
    (list(np.linspace(0, 10, 120)), "regression"),
])
def test_task_is_detected_from_the_target(values, task):
    frame = pd.DataFrame({"x": np.arange(len(values)) % 7, "y": values})
    assert profile_table(frame, "y")[0].task == task


def test_task_override_is_checked():
    frame = pd.DataFrame({"x": range(100), "y": ["a", "b", "c", "d"] * 25})
    with pytest.raises(DepthgaugeError, match="--task binary needs a target with two values"):
        profile_table(frame, "y", task="binary")


def test_unknown_target_suggests_the_closest_columns(churn):
    with pytest.raises(DepthgaugeError, match=r"'churn' is not a column.*Did you mean 'churned'"):
        profile_table(churn, "churn")


@pytest.mark.parametrize("mutate,message", [
    (lambda f: f.assign(churned="yes"), "is constant"),
    (lambda f: f.head(20), "Only 20 rows"),
    (lambda f: f.assign(notes=np.nan), r"Column 'notes' is entirely empty.*--drop notes"),
    (lambda f: f.assign(monthly_charges=f["monthly_charges"].astype(object).where(f.index % 10 != 0, "n/a!")),
     r"Column 'monthly_charges' has mixed types.*'n/a!'"),
])
def test_bad_tables_are_refused_with_the_fix(churn, mutate, message):
    with pytest.raises(DepthgaugeError, match=message):
        profile_table(mutate(churn.copy()), "churned")


def test_empty_column_can_be_dropped(churn):
    profile, _ = profile_table(churn.assign(notes=np.nan), "churned", drop=("notes",))
    assert "notes" not in profile.features()


def test_warnings_for_imbalance_personal_data_and_small_data():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "email": [f"user{i}@example.com" for i in range(n)],
        "phone": [f"+1 (555) {i:03d}-{i:04d}" for i in range(n)],
        "x": rng.normal(size=n),
        "y": np.where(np.arange(n) < 8, "fraud", "ok"),
    })
    profile, _ = profile_table(frame, "y")
    text = " ".join(profile.warnings)
    assert "Heavy class imbalance" in text
    assert "'email' looks like personal data (email addresses)" in text or "'email' looks like personal data" in text
    assert "'phone' looks like personal data" in text
    assert "too few for a deep model" in text


def test_rows_without_target_are_left_out_with_a_note(churn):
    frame = churn.copy()
    frame.loc[:9, "churned"] = np.nan
    profile, kept = profile_table(frame, "churned")
    assert len(kept) == len(churn) - 10
    assert "10 rows without a target value" in profile.notes[0]


def test_a_leaky_feature_is_flagged_and_an_honest_one_is_not(churn):
    frame = churn.copy()
    frame["cancellation_code"] = np.where(frame["churned"] == "yes", "C1", "none")
    y = frame["churned"].to_numpy()
    warnings = find_leaky_features(frame.iloc[:800], y[:800], frame.iloc[800:], y[800:],
                                   ["cancellation_code", "tenure_months"], "binary")
    assert len(warnings) == 1 and "cancellation_code" in warnings[0] and "leakage" in warnings[0]


def test_numbers_stored_as_text_are_numeric():
    series = pd.Series(["1.5", "2", "3.25"] * 10, name="amount")
    assert infer_role(series)[0] == "numeric"


# Columns named neutrally, so only their values can give them away.
LOOK_ALIKES = {
    "c_iso_date": (lambda i: f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}", None),
    "c_timestamp": (lambda i: f"2024-03-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00", None),
    "c_us_date": (lambda i: f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/2023", None),
    "c_zip": (lambda i: f"{10000 + i * 7:05d}", None),
    "c_zip_plus_four": (lambda i: f"{10000 + i * 7:05d}-{i % 9000 + 1000:04d}", None),
    "c_order": (lambda i: f"ORD-{2024000 + i}", None),
    "c_order_number": (lambda i: f"{100 + i % 900}-{1000000 + i * 13}-{2000000 + i * 3}", None),  # 3-7-7 digits
    "c_tel_us": (lambda i: f"(555) {100 + i % 900:03d}-{i:04d}", "phone numbers"),
    "c_tel_intl": (lambda i: f"+44 20 7946 {i:04d}", "phone numbers"),
    "c_tel_dashed": (lambda i: f"555-{100 + i % 900:03d}-{i:04d}", "phone numbers"),
    "c_contact": (lambda i: f"person{i}@example.org", "email addresses"),
}


def test_personal_data_warnings_are_right_about_look_alikes():
    n = 300
    frame = pd.DataFrame({name: [make(i) for i in range(n)] for name, (make, _) in LOOK_ALIKES.items()})
    frame["y"] = ["a", "b", "c"] * (n // 3)
    _, profile = roles(frame, "y")
    flagged = {}
    for warning in profile.warnings:
        if "looks like personal data" in warning:
            name = warning.split("'")[1]
            flagged[name] = warning.split("(")[1].split(")")[0]
    assert flagged == {name: kind for name, (_, kind) in LOOK_ALIKES.items() if kind}
