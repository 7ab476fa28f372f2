"""A verdict that is never wrong for lack of time: fair slices, capped solvers, an honest 'inconclusive', no verdict
on leaking data, and time columns as users have them."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import depthgauge
from depthgauge.assessment.plan import DEEP_SHARE, FitClock
from depthgauge.assessment.quality import Outcome, quality_with_intervals
from depthgauge.assessment.results import CandidateResult
from depthgauge.assessment.verdict import Circumstances, decide_verdict, still_improving
from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.ownership import CostTerms, monthly_cost
from depthgauge.data.split import split_rows
from depthgauge.zoo.gbdt import LightGBMModel
from depthgauge.zoo.linear import fit_logistic

RNG = np.random.default_rng(0)
N = 3000
Y = RNG.integers(0, 2, N)


def _candidate(name, deep, signal, params=None, curve=None):
    p = np.clip(Y * signal + RNG.random(N) * (1 - signal), 0, 1)
    outcome = Outcome(Y, (p > 0.5).astype(int), np.column_stack([1 - p, p]), 1)
    result = CandidateResult(name, name, name, deep, "ok", dict(params or {}), fit_seconds=20.0)
    result.outcome, result.learning_curve = outcome, curve
    result.quality = quality_with_intervals("binary", outcome, resamples=200)
    result.cost = monthly_cost(20.0, 1e5, 5.0, 0.0, deep, CostTerms(load_catalog().get("aws.m7i.large")))
    return result


def _rerun(changes: dict) -> str:
    return "depthgauge assess data.csv --target y " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in changes.items())


FALLING = {"val_loss": [0.9, 0.7, 0.55, 0.45], "train_loss": [1.0, 0.8, 0.6, 0.5], "stopped_because": "time_budget"}
FLAT = {"val_loss": [0.9, 0.5, 0.45, 0.451, 0.452, 0.455], "train_loss": [1, 0.6, 0.5, 0.45, 0.44, 0.43],
        "stopped_because": "time_budget"}


def test_the_deep_candidates_together_get_at_least_half_of_the_fitting_time():
    now = [0.0]
    clock = FitClock(100.0, [(False, True), (False, False), (False, False), (False, False), (True, False)],
                     clock=lambda: now[0])
    assert clock.next_slice(False, instant=True) == 100.0  # the majority baseline: no time of its own
    slices = []
    for _ in range(3):  # each simple model uses its whole slice
        slices.append(clock.next_slice(False))
        now[0] += slices[-1]
    assert slices == pytest.approx([100 * (1 - DEEP_SHARE) / 3] * 3)
    assert clock.next_slice(True) == pytest.approx(100 * DEEP_SHARE)
    early = FitClock(100.0, [(False, False), (True, False)], clock=lambda: now[0])
    start = now[0]
    early.next_slice(False)
    now[0] = start + 10.0  # the simple model finished early: what it left goes to the deep one
    assert early.next_slice(True) == pytest.approx(90.0)


def test_a_slow_linear_solver_is_capped_by_its_slice_and_says_so():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 400))
    y = np.argmax(X[:, :50] @ rng.normal(size=(50, 5)), axis=1)  # separable, 5 classes
    started = time.perf_counter()
    _, summary = fit_logistic(X, y, C=1e6, seed=0, time_limit_s=0.3)  # no regularisation to speak of: slow
    assert time.perf_counter() - started < 3.0
    assert summary["stopped_because"] == "time_budget" and 0 < summary["iterations"] < 1000
    _, done = fit_logistic(X[:500, :5], y[:500], C=1.0, seed=0, time_limit_s=10.0)
    assert done["stopped_because"] == "converged"


def test_lightgbm_cut_by_the_clock_says_so(churn):
    X, y = churn.drop(columns="churned"), churn["churned"].to_numpy()
    roles = {"numeric": [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])],
             "categorical": [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]}
    cut = LightGBMModel("binary", roles, time_limit_s=0.0, learning_rate=0.001).fit(X, y, validation=(X, y))
    assert cut.training_summary()["stopped_because"] == "time_budget"
    free = LightGBMModel("binary", roles, time_limit_s=60.0).fit(X[:800], y[:800], validation=(X[800:], y[800:]))
    assert free.training_summary()["stopped_because"] == "early_stopping"


def test_a_deep_model_cut_while_improving_is_inconclusive_with_a_budget_and_a_command():
    simple = _candidate("lightgbm", False, 0.5, {"stopped_because": "early_stopping"})
    deep = _candidate("cnn", True, 0.2, {"stopped_because": "time_budget", "epochs": 4, "time_slice_s": 20.0}, FALLING)
    assert still_improving(deep)
    verdict = decide_verdict("binary", "roc_auc", [simple, deep], False, 100.0, 200, 0,
                             Circumstances(budget_s=180.0, rerun=_rerun))
    assert verdict.deep_vs_simple.high < 0  # significantly worse so far ...
    assert verdict.call == "inconclusive" and not verdict.deep_recommended  # ... but never called worse
    assert verdict.suggested_budget_s > 180.0 and verdict.suggested_budget_s % 60 == 0
    assert verdict.rerun.endswith(f"--time-budget {verdict.suggested_budget_s / 60:g}m")
    assert "Inconclusive" in verdict.headline and verdict.rerun in verdict.headline
    assert verdict.to_dict()["call"] == "inconclusive"


def test_a_deep_model_that_had_levelled_off_can_be_called_worse():
    simple = _candidate("lightgbm", False, 0.5, {"stopped_because": "early_stopping"})
    deep = _candidate("cnn", True, 0.2, {"stopped_because": "time_budget", "epochs": 6, "time_slice_s": 20.0}, FLAT)
    assert not still_improving(deep)
    verdict = decide_verdict("binary", "roc_auc", [simple, deep], False, 100.0, 200, 0,
                             Circumstances(budget_s=180.0, rerun=_rerun))
    assert verdict.call == "deep_worse" and "i.e. worse" in verdict.headline


def test_a_deep_model_that_wins_while_cut_off_is_better_but_a_cut_simple_model_makes_a_win_inconclusive():
    finished = _candidate("lightgbm", False, 0.2, {"stopped_because": "early_stopping"})
    deep = _candidate("cnn", True, 0.5, {"stopped_because": "time_budget", "epochs": 4, "time_slice_s": 20.0}, FALLING)
    assert decide_verdict("binary", "roc_auc", [finished, deep], False, 100.0, 200, 0).call == "deep_better"
    cut = _candidate("lightgbm", False, 0.2, {"stopped_because": "time_budget", "rounds": 9, "time_slice_s": 20.0})
    verdict = decide_verdict("binary", "roc_auc", [cut, deep], False, 100.0, 200, 0,
                             Circumstances(budget_s=60.0, rerun=_rerun))
    assert verdict.call == "inconclusive" and "9 boosting rounds" in " ".join(verdict.call_reasons)


@pytest.mark.slow
def test_a_leaking_table_gets_no_verdict_unless_allowed(home, churn):
    frame = churn.copy()
    rng = np.random.default_rng(0)
    frame["cancel_code"] = np.where(frame["churned"] == "yes", "C1", "none")  # recorded at cancellation
    # a follow-up time, numeric: short for those who left, long otherwise, with some overlap
    frame["days_followed"] = np.where(frame["churned"] == "yes", rng.normal(30, 10, len(frame)),
                                      rng.normal(300, 40, len(frame))).round()
    leaky = depthgauge.assess(frame, "churned", time_budget="20s", home=home, resamples=200)
    assert leaky.verdict.call == "no_verdict" and leaky.verdict.headline.startswith("No verdict: the data leaks")
    assert {"cancel_code", "days_followed"} <= set(leaky.verdict.leaking_columns)
    assert "--drop cancel_code" in leaky.verdict.rerun and "--drop days_followed" in leaky.verdict.rerun
    assert any("cancel_code" in w for w in leaky.warnings)
    allowed = depthgauge.assess(frame, "churned", time_budget="20s", home=home, resamples=200, allow_leaky=True)
    assert allowed.verdict.call in ("deep_better", "deep_worse", "equivalent", "inconclusive")
    assert any("cancel_code" in w for w in allowed.warnings)
    assert any("--allow-leaky" in r for r in allowed.verdict.reasons)


def test_integer_and_fractional_time_columns_order_the_split():
    frame = pd.DataFrame({"t": np.arange(100, 0, -1), "year": 1749 + np.arange(100)[::-1] / 12, "y": np.arange(100)})
    for column in ("t", "year"):
        split = split_rows(frame, frame["y"], "regression", time_column=column)
        assert split.method == "time-ordered"
        assert frame[column].iloc[split.train].max() < frame[column].iloc[split.test].min()
    with pytest.raises(depthgauge.DepthgaugeError, match="not dates, times or numbers"):
        split_rows(frame.assign(t=["soon"] + ["1"] * 99), frame["y"], "regression", time_column="t")


@pytest.mark.slow
def test_a_monthly_series_on_fractional_years_is_forecast(home):
    months = 600
    year = np.round(1749 + np.arange(months) / 12, 3)  # 1749.0, 1749.083, ...: steps differ in the last digit
    rng = np.random.default_rng(0)
    values = 50 + 30 * np.sin(2 * np.pi * np.arange(months) / 12) + rng.normal(0, 3, months)
    frame = pd.DataFrame({"year": year, "spots": values})
    a = depthgauge.assess(frame, "spots", kind="series", time_column="year", time_budget="20s", home=home,
                          resamples=200)
    assert a.options["series_season"] == 12 and a.split["method"] == "time-ordered"
    assert a.duration_s <= 1.1 * 20
    with pytest.raises(depthgauge.DepthgaugeError, match="duplicate time"):
        depthgauge.assess(frame.assign(year=np.floor(year)), "spots", kind="series", time_column="year",
                          time_budget="20s", home=home)


def test_options_are_checked_where_they_are_defined_and_give_back_the_rerun_command(home, churn):
    from depthgauge.assessment.options import DataOptions, DecisionOptions, RunOptions, command_line

    with pytest.raises(depthgauge.DepthgaugeError, match="--max-extra-cost is dollars a month, 0 or more"):
        DecisionOptions(max_extra_cost=-1)
    with pytest.raises(depthgauge.DepthgaugeError, match="--tune takes a number of trials"):
        RunOptions(tune=-1)
    with pytest.raises(TypeError, match="unknown option"):
        depthgauge.assess(churn, "churned", home=home, time_budjet="1m")
    assert not home.exists()  # nothing written
    command = command_line("/data/churn.csv", DataOptions(target="churned", drop=("a b",)), RunOptions(seed=3),
                           DecisionOptions(allow_leaky=True), time_budget="9m")
    assert command == ("depthgauge assess /data/churn.csv --target churned --drop 'a b' --time-budget 9m --seed 3 "
                       "--allow-leaky")
    named = command_line("/data/churn.csv", DataOptions(target="churned"), RunOptions(),
                         DecisionOptions(value="tp=40,fn=-60", review_threshold=0.7), name="churn", time_budget="9m")
    assert named == ("depthgauge assess /data/churn.csv --target churned --time-budget 9m --value tp=40,fn=-60 "
                     "--review-threshold 0.7 --name churn")  # every flag of the run, --name too
