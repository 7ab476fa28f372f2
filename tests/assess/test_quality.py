"""The weighted metrics equal scikit-learn's, and the bootstrap behaves as statistics says it should."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from depthgauge.assessment.quality import Outcome, paired_bootstrap_delta, quality_with_intervals, weighted_metrics

ONES = lambda n: np.ones((1, n))  # noqa: E731


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 200))
def test_binary_point_estimates_equal_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p1 = np.round(rng.random(n), 2)  # rounding makes ties, which AUC must handle
    proba = np.column_stack([1 - p1, p1])
    pred = (p1 >= 0.5).astype(int)
    got = {k: v[0] for k, v in weighted_metrics("binary", Outcome(y, pred, proba, 1), ONES(n)).items()}
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=0))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, zero_division=0))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, zero_division=0))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=[0, 1]))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_weighted_auc_equals_sklearn_with_sample_weights(seed):
    rng = np.random.default_rng(seed)
    n = 80
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p1 = np.round(rng.random(n), 1)
    counts = rng.multinomial(n, np.full(n, 1 / n)).astype(float)
    counts[:2] += 1  # both classes present
    got = weighted_metrics("binary", Outcome(y, (p1 > .5).astype(int), np.column_stack([1 - p1, p1])), counts[None, :])
    assert got["roc_auc"][0] == pytest.approx(skm.roc_auc_score(y, p1, sample_weight=counts))


def test_multiclass_and_regression_equal_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    pred = proba.argmax(axis=1)
    got = {k: v[0] for k, v in weighted_metrics("multiclass", Outcome(y, pred, proba), ONES(300)).items()}
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    target, guess = rng.normal(size=300), rng.normal(size=300)
    got = {k: v[0] for k, v in weighted_metrics("regression", Outcome(target, guess), ONES(300)).items()}
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(target, guess))
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(target, guess)))
    assert got["r2"] == pytest.approx(skm.r2_score(target, guess))


def test_intervals_contain_the_estimate_and_narrow_with_more_rows():
    def width(n):
        rng = np.random.default_rng(1)
        y = rng.integers(0, 2, n)
        p1 = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1)
        result = quality_with_intervals("binary", Outcome(y, (p1 > .5).astype(int), np.column_stack([1 - p1, p1])),
                                        resamples=300)
        for interval in result.values():
            assert interval.low <= interval.value <= interval.high
        return result["roc_auc"].high - result["roc_auc"].low
    assert width(4000) < width(250) / 2


def test_paired_delta_finds_a_real_gain_and_no_gain_between_equals():
    rng = np.random.default_rng(2)
    n = 2000
    y = rng.integers(0, 2, n)
    good = np.clip(y * 0.4 + rng.random(n) * 0.6, 0, 1)
    weak = np.clip(y * 0.1 + rng.random(n) * 0.9, 0, 1)
    as_outcome = lambda p: Outcome(y, (p > .5).astype(int), np.column_stack([1 - p, p]))  # noqa: E731
    gain = paired_bootstrap_delta("binary", "roc_auc", as_outcome(good), as_outcome(weak), resamples=300)
    assert gain.low > 0
    same = paired_bootstrap_delta("binary", "roc_auc", as_outcome(good), as_outcome(good), resamples=300)
    assert same.value == 0 and same.low == 0 and same.high == 0
    worse = paired_bootstrap_delta("regression", "rmse", Outcome(y.astype(float), weak), Outcome(y.astype(float), good),
                                   resamples=300)
    assert worse.high < 0  # lower-is-better metrics are turned so that positive always means better


def test_mean_with_interval_uses_the_same_bootstrap_and_brackets_the_mean():
    from depthgauge.assessment.quality import mean_with_interval

    values = np.random.default_rng(3).random(400)
    interval = mean_with_interval(values, resamples=500, seed=1)
    assert interval.value == pytest.approx(values.mean())
    assert interval.low < interval.value < interval.high and interval.high - interval.low < 0.1
    assert mean_with_interval(values, resamples=500, seed=1) == interval, "seeded: the same interval twice"
