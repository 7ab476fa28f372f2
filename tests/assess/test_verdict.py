"""The verdict rule on controlled outcomes: significance and cost decide, in that order."""

import pytest

from depthgauge.assessment.business import business_impact
from depthgauge.assessment.options import ValueMatrix
from depthgauge.assessment.results import CandidateResult
from depthgauge.assessment.verdict import decide_verdict
from depthgauge.cost.ownership import call_cost
from tests.helpers.verdicts import TERMS, N, candidate


def test_deep_is_recommended_only_when_it_wins_significantly_and_is_affordable():
    cands = [candidate("dummy", False, 0.0, 1e6), candidate("lightgbm", False, 0.2, 1e5), candidate("mlp", True, 0.5, 5e4)]
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert verdict.deep_recommended and verdict.recommended == "mlp"
    assert verdict.deep_vs_simple.low > 0
    assert "earns its keep" in verdict.headline and "points higher than lightgbm's, i.e. better" in verdict.headline


def test_a_significant_win_that_costs_too_much_a_month_is_not_recommended():
    cands = [candidate("lightgbm", False, 0.2, 1e6), candidate("mlp", True, 0.5, 0.5)]  # 5 instances at peak
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert cands[1].cost.instances == 5
    assert not verdict.deep_recommended and verdict.recommended == "lightgbm"
    assert verdict.extra_monthly_cost == pytest.approx(4 * 0.1008 * 730)
    assert "does not pay for itself: it costs $294.34 / month more" in verdict.headline
    assert "--max-extra-cost" in verdict.headline
    allowed = decide_verdict("binary", "roc_auc", cands, False, 300.0, 200, 0)  # the user allows $300 a month more
    assert allowed.deep_recommended and allowed.recommended == "mlp"


def test_no_significant_difference_keeps_the_simple_model():
    cands = [candidate("lightgbm", False, 0.3, 1e5), candidate("mlp", True, 0.3, 1e5)]
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert not verdict.deep_recommended and verdict.call in ("equivalent", "inconclusive")
    assert verdict.deep_vs_simple.low <= 0 <= verdict.deep_vs_simple.high


def test_the_value_matrix_flips_the_verdict_when_it_pays_for_the_deep_model_and_when_it_does_not():
    def run(values):
        matrix = ValueMatrix(values)
        cands = [candidate("dummy", False, 0.0, 1e6, matrix), candidate("lightgbm", False, 0.2, 1e6, matrix),
                 candidate("mlp", True, 0.5, 0.05, matrix)]  # 46 instances at peak: $3,300 a month more
        return cands, decide_verdict("binary", "roc_auc", cands, True, 100.0, 200, 0)

    cands, pays = run({"tp": 100, "fp": -20, "fn": -500})
    assert cands[2].cost.instances == 46 and pays.extra_monthly_cost > 3000
    assert pays.deep_recommended, pays.headline  # far more value a month than its extra instances cost
    assert "net of owning it, it is worth" in pays.headline and "/ month" in pays.headline
    gain = cands[2].business["monthly_net_value_usd"] - cands[1].business["monthly_net_value_usd"]
    assert gain > pays.extra_monthly_cost
    cands, does_not = run({"tp": 0.001, "fp": -0.0002, "fn": -0.005})  # the same outcomes, worth 1/100,000
    assert not does_not.deep_recommended and does_not.recommended == "lightgbm", does_not.headline
    assert does_not.min_effect > pays.min_effect  # the break-even gain is larger when a point is worth less


def test_a_failed_deep_model_is_reported_not_hidden():
    failed = CandidateResult("mlp", "MLP", "mlp", True, "failed", {}, error="RuntimeError: out of memory")
    verdict = decide_verdict("binary", "roc_auc", [candidate("linear", False, 0.3, 1e5), failed], False, 100.0, 200, 0)
    assert verdict.recommended == "linear" and "out of memory" in verdict.headline


def test_a_deep_model_that_is_significantly_worse_is_called_so():
    cands = [candidate("lightgbm", False, 0.5, 1e5), candidate("mlp", True, 0.2, 1e5)]
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert verdict.deep_vs_simple.high < 0
    assert verdict.call == "deep_worse" and "i.e. worse" in verdict.headline


def vendor(signal, price_per_1k, matrix=None, failed=0):
    from depthgauge.assessment.operations import Operations
    result = candidate("endpoint:v", False, signal, 1e6, matrix)
    result.family = "endpoint"
    result.cost = call_cost("v", price_per_1k, 0.0, TERMS)
    result.business = business_impact("binary", result.outcome, matrix, result.cost)
    result.operations = Operations(40.0, 90.0, 20.0, 0.0, 0.0, 0)
    result.params = {"calls": N, "answered": N - failed}
    result.risk = {"errors": {"timeout": failed}} if failed else {}
    return result


def test_a_vendor_endpoint_is_never_in_the_deep_or_simple_pools_and_loses_on_price():
    cands = [candidate("lightgbm", False, 0.3, 1e5), candidate("mlp", True, 0.3, 1e5), vendor(0.6, 2.0, failed=30)]
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert verdict.recommended == "lightgbm" and verdict.best_simple == "lightgbm" and verdict.deep == "mlp"
    assert verdict.endpoint == "endpoint:v" and verdict.endpoint_vs_own.low > 0
    assert "a significant gain, but it does not pay for itself" in verdict.headline
    assert "it costs $1,926 / month more than lightgbm" in verdict.headline  # $2,000 of calls against one instance
    assert any("30 of its 3,000 calls failed" in r and "30 timeout" in r for r in verdict.reasons)


def test_a_vendor_endpoint_that_wins_and_pays_for_itself_is_recommended():
    matrix = ValueMatrix({"tp": 100, "fp": -20, "fn": -500})
    cands = [candidate("lightgbm", False, 0.2, 1e6, matrix), vendor(0.6, 0.5, matrix)]
    verdict = decide_verdict("binary", "roc_auc", cands, True, 100.0, 200, 0)
    assert verdict.recommended == "endpoint:v" and not verdict.deep_recommended
    assert verdict.headline.startswith("Use the vendor endpoint v:")
    worse = decide_verdict("binary", "roc_auc", [candidate("lightgbm", False, 0.5, 1e6), vendor(0.1, 0.5)], False,
                           100.0, 200, 0)
    assert worse.recommended == "lightgbm" and "significantly worse" in worse.headline


def test_a_retrained_challenger_is_promoted_only_if_measurably_better_or_as_good_and_cheaper():
    from depthgauge.assessment.quality import Interval
    from depthgauge.assessment.verdict import promotion

    better, unsure, worse = Interval(0.02, 0.01, 0.03), Interval(0.0, -0.01, 0.01), Interval(-0.02, -0.03, -0.01)
    assert promotion("roc_auc", better, 200.0, 100.0)[0] == "promote"  # better wins even at twice the cost
    assert promotion("roc_auc", unsure, 89.0, 100.0) == (
        "promote", "the challenger is not measurably worse on roc_auc and at least 10% cheaper to own per month")
    assert promotion("roc_auc", unsure, 91.0, 100.0)[0] == "keep"  # 9% cheaper is within timing noise
    assert promotion("roc_auc", worse, 10.0, 100.0) == ("keep", "the challenger is measurably worse on roc_auc")
