"""The money a buyer reads: calibrated review shares, named assumptions, value against no model, break-even volume,
and the warning for a column that carries the whole score."""

import re

import numpy as np
import pandas as pd
import pytest

from depthgauge.assessment.calibration import decision_threshold
from depthgauge.assessment.economics import break_even_volume, holds_at
from depthgauge.assessment.evaluation import evaluate
from depthgauge.assessment.importance import dominant_column
from depthgauge.assessment.operations import Operations
from depthgauge.assessment.options import DecisionOptions, ValueMatrix
from depthgauge.assessment.plan import BudgetPlan
from depthgauge.assessment.results import CandidateResult
from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.ownership import CostTerms, monthly_cost
from depthgauge.data.synth import churn_table
from depthgauge.zoo import FAMILIES
from tests.helpers.cli import run_cli
from tests.helpers.verdicts import candidate

CATALOG = load_catalog()
PRICED = CostTerms(CATALOG.get("aws.m7i.large"), 1_000_000)  # review priced at $0.50, as --review-threshold asks


def _noisy_table(n=3000, k=20, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, k)), columns=[f"x{i}" for i in range(k)])
    y = np.where(X.x0 + X.x1 + rng.normal(scale=1.2, size=n) > 0, "yes", "no")
    return X, y, {"numeric": list(X.columns), "categorical": [], "boolean": [], "datetime": []}


def _scored(family, params, X, y, roles, terms=PRICED):
    train, validation, test = slice(0, 1800), slice(1800, 2400), slice(2400, len(y))
    model = FAMILIES[family]("binary", roles, seed=0, **params).fit(X.iloc[train], y[train])
    result = CandidateResult(family, family, family, False, "ok", {}, fit_seconds=1.0)
    plan = BudgetPlan(fit_s=10, resamples=100, latency_s=0.2, throughput_s=0.2)
    evaluate(result, model, "binary", X.iloc[test], y[test], "yes", plan, 0.0, terms, None, 0.6, None, 0,
             validation=(X.iloc[validation], y[validation]))
    return result


def test_an_overconfident_model_does_not_come_out_cheaper_once_calibrated():
    X, y, roles = _noisy_table()
    calibrated = _scored("linear", {}, X, y, roles)
    # boosting at learning rate 1 with one-row leaves and no early stopping: it memorises noise and says 0 or 1
    overconfident = _scored("lightgbm", {"learning_rate": 1.0, "num_leaves": 255, "min_data_in_leaf": 1,
                                         "lambda_l2": 0.0, "max_rounds": 200, "feature_fraction": 1.0}, X, y, roles)
    assert overconfident.quality["roc_auc"].value < calibrated.quality["roc_auc"].value - 0.03  # really worse
    # on raw confidence it would look sure of nearly everything, and so cheapest
    assert overconfident.risk["review_share_raw"] < 0.05 < calibrated.risk["review_share_raw"]
    assert overconfident.risk["calibration_error_raw"] > 0.2
    # calibrated on its validation rows, it is as unsure as it really is, and costs more, not less
    assert overconfident.params["calibration"]["validation_rows"] == 600
    assert overconfident.risk["calibration_error"] < overconfident.risk["calibration_error_raw"] / 3
    assert overconfident.risk["review_share"] > calibrated.risk["review_share"]
    assert overconfident.cost.monthly_total_usd > calibrated.cost.monthly_total_usd


def test_human_review_is_priced_only_when_asked_for_and_every_assumed_default_is_named():
    default = DecisionOptions()
    terms = default.cost_terms(CATALOG, 1_000_000)
    cost = monthly_cost(1.0, 1e5, 5.0, 0.4, False, terms)
    assert cost.monthly["human_review"] == 0.0 and "review of 40.0% not priced" in cost.breakdown()
    assumed = {a["flag"]: a["value"] for a in default.assumed(terms)}
    assert assumed["--volume"] == "1,000,000 predictions a month"
    for flag in ("--instance", "--peak-factor", "--retrain-every", "--review-threshold or --review-cost"):
        assert flag in assumed, flag
    asked = DecisionOptions(review_threshold=0.7, volume="50000/month")
    asked_terms = asked.cost_terms(CATALOG, 50_000)
    assert monthly_cost(1.0, 1e5, 5.0, 0.4, False, asked_terms).monthly["human_review"] == pytest.approx(0.4 * 50_000 * 0.5)
    flags = {a["flag"] for a in asked.assumed(asked_terms)}
    assert "--volume" not in flags and "--review-cost" in flags  # the price per review is still a default


def test_the_value_matrix_sets_the_decision_threshold_on_calibrated_probabilities():
    # acting on a positive pays when q·40 + (1 − q)·(−5) > q·(−60): at q above 5/105
    assert decision_threshold(ValueMatrix({"tp": 40, "fp": -5, "fn": -60, "tn": 0})) == pytest.approx(5 / 105)
    assert decision_threshold(None) == 0.5
    assert decision_threshold(ValueMatrix({"tp": 1, "fp": -1, "fn": -1, "tn": 1})) == pytest.approx(0.5)


def _measured(result, throughput=1e5, fit_seconds=1.0, gross_per_1k=0.0, terms=PRICED):
    result.fit_seconds = fit_seconds
    result.operations = Operations(latency_p50_ms=1.0, latency_p99_ms=2.0, throughput_rows_per_s=throughput,
                                   fit_seconds=fit_seconds, peak_memory_mb=0.0, artifact_bytes=0, latencies_ms=[])
    result.cost = monthly_cost(fit_seconds, throughput, 2.0, 0.0, result.is_deep, terms)
    result.business = {"gross_value_per_1k": gross_per_1k}
    return result


def test_the_break_even_volume_is_where_the_extra_value_pays_the_extra_cost():
    simple = _measured(candidate("lightgbm", False, 0.3, 1e5), gross_per_1k=10.0)
    # the deep model retrains for 100 hours a month ($10.08 at $0.1008 an hour) and earns $1 more per 1,000
    deep = _measured(candidate("mlp", True, 0.3, 1e5), fit_seconds=360_000.0, gross_per_1k=11.0)
    found = break_even_volume(deep, simple, PRICED)
    extra = 100 * CATALOG.get("aws.m7i.large").price_per_hour_usd
    assert found["volume"] == pytest.approx(extra * 1000, rel=0.01) and found["says"].startswith("above ")
    assert break_even_volume(simple, simple, PRICED)["says"] == "never"
    # the deep model is recommended at 1,000,000 a month; at a tenth of it, 100,000, it still pays; both hold
    holds = holds_at("deep_better", deep, simple, PRICED, 0.0, True, 100.0, True)
    assert holds["0.1x"]["holds"] and holds["10x"]["holds"]
    small = CostTerms(CATALOG.get("aws.m7i.large"), 20_000)  # a tenth of that is 2,000 a month: below break-even
    assert not holds_at("deep_better", deep, simple, small, 0.0, True, 100.0, True)["0.1x"]["holds"]


def test_a_column_that_carries_the_score_is_named_and_one_among_many_is_not():
    carried = {"metric": "roc_auc", "features": [{"feature": "followup_days", "drop": 0.21},
                                                 {"feature": "age", "drop": 0.02}, {"feature": "stage", "drop": 0.01}]}
    found = dominant_column("LightGBM", carried, 0.96)
    assert found["column"] == "followup_days" and "21.0 points" in found["message"]
    assert "known at prediction time" in found["message"] and "--drop followup_days" in found["message"]
    spread = {"metric": "roc_auc", "features": [{"feature": f"x{i}", "drop": 0.03} for i in range(6)]}
    assert dominant_column("LightGBM", spread, 0.9) is None
    error = {"metric": "rmse", "features": [{"feature": "a", "drop": 3.0}, {"feature": "b", "drop": 0.5}]}
    assert "30% of the score" in dominant_column("MLP", error, 10.0)["message"]


def _readable(line: str) -> bool:
    depth = deepest = 0
    for ch in line:
        depth += ch == "("
        deepest = max(deepest, depth)
        depth -= ch == ")"
    return len(line) <= 170 and deepest <= 1


def test_assess_states_money_against_no_model_with_its_assumptions_and_one_set_of_numbers(tmp_path):
    frame = churn_table(1500, 4, seed=5)
    rng = np.random.default_rng(5)
    # a follow-up time known only after the outcome: strong, but short of the single-column leak rule
    frame["followup_days"] = (frame["churned"].astype(str) == frame["churned"].astype(str).iloc[0]) * 1.0 \
        + rng.normal(0, 0.9, len(frame))
    data = tmp_path / "churn.csv"
    frame.to_csv(data, index=False)
    home = tmp_path / "ws"
    out = run_cli("--home", str(home), "assess", str(data), "--target", "churned", "--time-budget", "40s",
                  "--value", "tp=40,fp=-5,fn=-60,tn=0", "--name", "churn")
    assert out.returncode == 0, out.stderr
    assert "Assumed" in out.stdout and "--volume" in out.stdout and "vs no model" in out.stdout
    assert "followup_days" in out.stdout + out.stderr and "known at prediction time" in out.stdout + out.stderr
    summary = out.stdout.split("In short")[1].split("\n")[1:4]
    assert "an assumed 1,000,000 predictions a month" in summary[1] and "against no model" in summary[1]
    assert all(_readable(line.strip()) for line in summary), summary

    listed = run_cli("--home", str(home), "models", "list", "--json")
    versions = __import__("json").loads(listed.stdout)[0]["versions"]
    assert all(v["primary_metric"] == "roc_auc" and next(iter(v["quality"])) == "roc_auc" for v in versions)

    from depthgauge.store.tables import AssessmentRow
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.session() as session:
        row = session.query(AssessmentRow).one()
        verdict, options = row.verdict, row.options
    assert verdict["no_model"]["monthly_value_usd"] is not None
    assert set(verdict["holds_at"]) == {"0.1x", "10x"} and verdict["break_even"]["says"]
    assert any(d["column"] == "followup_days" for d in verdict["dominant"])
    assert {a["flag"] for a in options["assumed"]} >= {"--volume", "--review-threshold or --review-cost"}
    report = next((home / "reports").glob("*.html")).read_text()
    assert "Net value against volume" in report and 'id="assumed"' in report and "calibration error, raw" in report
    assert re.search(r"followup_days", report)
