"""The monthly cost of ownership on worked examples: instances at peak, review labour, retraining, a GPU for a slow
deep model, and clear errors for terms that make no sense."""

import pytest

from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.ownership import CostTerms, call_cost, instances_needed, monthly_cost
from depthgauge.errors import DepthgaugeError

CATALOG = load_catalog()
M7I = CATALOG.get("aws.m7i.large")  # $0.1008 an hour


def test_a_quiet_model_pays_for_one_always_on_instance_and_its_reviews():
    terms = CostTerms(M7I, 1_000_000, review_cost_usd=0.5, retrain_every="weekly")
    cost = monthly_cost(fit_seconds=3600, throughput_rows_per_s=20_000, latency_p99_ms=3.0, review_share=0.02,
                        is_deep=False, terms=terms)
    assert cost.instances == 1
    assert cost.monthly["serving"] == pytest.approx(0.1008 * 730)  # $73.58
    assert cost.monthly["human_review"] == pytest.approx(0.02 * 1_000_000 * 0.5)  # $10,000
    assert cost.monthly["retraining"] == pytest.approx(0.1008 * 4.345)  # one hour of training, weekly
    assert cost.monthly_total_usd == pytest.approx(73.584 + 10_000 + 0.1008 * 4.345)
    assert cost.breakdown().startswith("$10,074 / month (1 × aws.m7i.large $73.58, review $10,000")


def test_a_slow_model_needs_three_instances_at_peak():
    # 100M predictions a month is 38.05 rows/s on average, 114.2 at a peak of 3×; an instance that measured
    # 80 rows/s is planned at 50% of it, 40 rows/s: 2.85, so 3 instances.
    terms = CostTerms(M7I, 100_000_000, peak_factor=3.0, utilisation=0.5)
    assert terms.peak_rows_per_s == pytest.approx(100_000_000 / (730 * 3600) * 3)
    cost = monthly_cost(60, 80.0, 12.0, None, True, terms)
    assert cost.instances == 3
    assert cost.monthly["serving"] == pytest.approx(3 * 0.1008 * 730)
    assert cost.monthly["human_review"] == 0.0  # regression: no review share
    assert any("3 instances carry the peak of 114 rows/s at 50% of the 80 rows/s" in n for n in cost.notes)
    assert instances_needed(114.2, 80.0, 1.0, 1) == 2  # planned at full use: 1.43, so 2
    assert instances_needed(0.5, 1e6, 0.5, 4) == 4  # never fewer than the minimum kept on


def test_a_deep_model_that_misses_the_latency_goal_on_cpu_is_priced_on_a_gpu_and_says_so():
    gpu = CATALOG.cheapest_gpu()
    assert gpu.name == "aws.g4dn.xlarge" and gpu.gpu == "NVIDIA T4"
    terms = CostTerms(M7I, 1_000_000, latency_slo_ms=20.0, gpu=gpu)
    slow_deep = monthly_cost(10, 500.0, 45.0, 0.0, True, terms)
    assert slow_deep.instance == "aws.g4dn.xlarge" and slow_deep.monthly["serving"] == pytest.approx(0.526 * 730)
    assert "misses --latency-slo 20 ms" in slow_deep.notes[0] and "Measured on CPU only" in slow_deep.notes[0]
    slow_simple = monthly_cost(10, 500.0, 45.0, 0.0, False, terms)  # a GPU does not speed up trees: flagged only
    assert slow_simple.instance == "aws.m7i.large" and "misses --latency-slo" in slow_simple.notes[0]
    fast_deep = monthly_cost(10, 500.0, 5.0, 0.0, True, terms)
    assert fast_deep.instance == "aws.m7i.large" and not fast_deep.notes


def test_a_vendor_endpoint_pays_per_call_and_for_its_reviews():
    cost = call_cost("acme", 2.0, 0.1, CostTerms(M7I, 500_000, review_cost_usd=0.25))
    assert cost.instances == 0
    assert cost.monthly == {"serving": pytest.approx(1000.0), "human_review": pytest.approx(12_500.0), "retraining": 0.0}


@pytest.mark.parametrize("change,message", [
    ({"peak_factor": 0.5}, "--peak-factor is the busiest rate over the average rate, 1 or more"),
    ({"utilisation": 0.0}, "--utilisation is the share"),
    ({"utilisation": 1.5}, "--utilisation is the share"),
    ({"min_instances": -1}, "--min-instances is a whole number of 0 or more"),
    ({"review_cost_usd": -0.1}, "--review-cost is dollars per reviewed prediction"),
    ({"retrain_every": "hourly"}, "--retrain-every 'hourly' is not a cadence"),
    ({"latency_slo_ms": 0}, "--latency-slo is a p99 latency"),
])
def test_terms_that_make_no_sense_are_refused_with_the_flag_to_fix(change, message):
    with pytest.raises(DepthgaugeError, match=message):
        CostTerms(M7I, **change)


def test_the_review_cost_default_comes_from_the_price_catalog_and_says_so():
    from depthgauge.assessment.options import DecisionOptions

    terms = DecisionOptions().cost_terms(CATALOG, 1_000_000)
    assert terms.review_cost_usd == CATALOG.review_cost_usd == 0.5
    assert "price catalog" in terms.review_cost_source and "$30 an hour" in terms.review_cost_source
    assert DecisionOptions(review_cost=2.0).cost_terms(CATALOG, 1).review_cost_usd == 2.0


def test_a_bad_cost_flag_on_assess_is_refused_before_anything_is_written(tmp_path):
    from tests.helpers.cli import BREAST_CANCER, run_cli

    home = tmp_path / "ws"
    refused = run_cli("--home", str(home), "assess", str(BREAST_CANCER), "--target", "diagnosis", "--utilisation", "0")
    assert refused.returncode == 2 and "--utilisation is the share" in refused.stderr
    assert not home.exists()
