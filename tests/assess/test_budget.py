"""How the time budget is split: fitting gets what measuring does not need, and measuring is sized to the data."""

from depthgauge.assessment.plan import EVALUATION_SHARE, MAX_EVALUATION_SHARE, MIN_RESAMPLES, plan_budget


def test_small_data_keeps_most_of_the_budget_for_fitting():
    plan = plan_budget(300, 1.0, "binary", 500, 2, 5, 1000)
    assert plan.resamples == 1000
    assert plan.fit_s == 300 - 1.0 - EVALUATION_SHARE * 300


def test_large_test_sets_under_a_tight_budget_trade_resamples_for_time():
    plan = plan_budget(20, 1.0, "binary", 200_000, 2, 5, 1000)
    assert MIN_RESAMPLES <= plan.resamples < 1000
    assert plan.fit_s >= 20 - 1.0 - MAX_EVALUATION_SHARE * 20 - 1e-9


def test_time_already_spent_comes_out_of_fitting():
    assert plan_budget(30, 20.0, "binary", 500, 2, 5, 1000).fit_s < plan_budget(30, 1.0, "binary", 500, 2, 5, 1000).fit_s - 18
