"""`depthgauge.assess` end to end: real training of every candidate on small real data, stored and reported."""

import json
import re
import time

import numpy as np
import pytest
from sqlalchemy import select

import depthgauge
from depthgauge.store.tables import AssessmentRow, DatasetRow, RunRow
from depthgauge.workspace import Workspace
from depthgauge.zoo import load_model
from tests.helpers.cli import BREAST_CANCER

FIVE_DIMENSIONS = ["roc_auc", "roc_auc_low", "roc_auc_high", "latency_p50_ms", "latency_p99_ms", "throughput_rows_per_s",
                   "fit_seconds", "peak_memory_mb", "artifact_bytes", "training_cost_usd", "cost_per_1k_predictions_usd",
                   "instances", "monthly_cost_usd", "false_positive_rate", "false_negative_rate", "calibration_error",
                   "review_share", "explainability", "monthly_net_value_usd"]


@pytest.fixture(scope="module")
def churn_assessment(tmp_path_factory):
    from depthgauge.data.synth import churn_table

    home = tmp_path_factory.mktemp("ws")
    frame = churn_table(1500, 10, seed=2)
    result = depthgauge.assess(frame, target="churned", time_budget="40s", value="tp=50,fp=-10,fn=-80,tn=0",
                               sensitive="region", home=home, resamples=300)
    return result, home


def test_every_candidate_is_scored_on_all_five_dimensions(churn_assessment):
    result, _ = churn_assessment
    card = result.scorecard
    assert list(card.index) == ["dummy", "linear", "rules", "lightgbm", "mlp", "tabm"]
    assert (card["status"] == "ok").all()
    for column in FIVE_DIMENSIONS:
        assert column in card.columns, column
        assert card[column].notna().all(), column
    assert (card["roc_auc_low"] <= card["roc_auc"]).all() and (card["roc_auc"] <= card["roc_auc_high"]).all()
    assert card.loc["mlp", "deep"] and not card.loc["lightgbm", "deep"]
    assert card.loc["lightgbm", "roc_auc"] > card.loc["dummy", "roc_auc"] + 0.1
    assert set(card.loc["linear", [c for c in card.columns if c.startswith("group_gap_")]].index) >= {"group_gap_accuracy"}


def test_the_verdict_names_a_model_and_carries_its_numbers(churn_assessment):
    result, _ = churn_assessment
    verdict = result.verdict
    assert verdict.recommended in result.scorecard.index
    assert verdict.primary_metric == "roc_auc"
    assert verdict.deep in {"mlp", "tabm"} and verdict.deep_vs_simple is not None
    assert f"{verdict.deep_vs_simple.value * 100:.2f}".lstrip("-") in verdict.headline
    assert verdict.deep_recommended == bool(result.scorecard.loc[verdict.recommended, "deep"])


def test_report_is_self_contained_and_stored(churn_assessment):
    result, home = churn_assessment
    html = result.report_path.read_text()
    assert result.report_path.parent == home / "reports"
    assert result.verdict.headline.split(":")[0] in html
    # Works offline: every script is inline, and the markup outside scripts points at nothing remote.
    assert all("src=" not in tag for tag in re.findall(r"<script[^>]*>", html))
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert not re.search(r"""(src|href)=["']?https?://""", markup)
    assert "Plotly.newPlot" in html and "ROC curves" in html and "learning curves" in html
    assert "IF " in html  # the rules candidate, readable


def test_the_report_shows_why(churn_assessment):
    result, _ = churn_assessment
    html = result.report_path.read_text()
    board = html[html.index('id="leaderboard"'):html.index("<h3>Model quality</h3>")]
    order = [c.display_name for c in sorted((c for c in result.candidates if c.ok),
                                            key=lambda c: -np.mean(c.split_scores or [c.quality["roc_auc"].value]))]
    positions = [board.index(f">{name}") for name in order]
    assert positions == sorted(positions)  # ranked by the primary metric, best first
    recommended = result.scorecard.loc[result.verdict.recommended, "model"]
    assert f"Confusion matrix: {recommended}" in html and "actual \\ predicted" in html
    assert "Reliability: stated confidence" in html and 'id="legend"' in html and "calibration error</dt>" in html
    groups = html[html.index(f'id="groups-{result.verdict.recommended}"'):]
    for region in ("north", "south"):
        assert f"<td>{region}</td>" in groups[:3000]  # every group named, with its count of rows
    assert html.count("Plotly.newPlot") >= 5 and html.count("plotly.js v") == 1  # the bundle once
    summary = html[html.index('id="summary"'):html.index("<h2>Verdict</h2>")]
    assert summary.count("<li>") == 3 and "/ month" in summary and "How sure:" in summary
    importance = html[html.index('id="importance"'):html.index("<h3>Operations")]
    for candidate in result.candidates:
        if candidate.ok and candidate.family != "dummy":
            assert candidate.importance and f">{candidate.display_name} (" in importance, candidate.name
    cost = html[html.index('id="cost"'):]
    assert "instances at peak" in cost and "--peak-factor" in cost and "prices as of" in cost
    assert "Human review is not priced: pass --review-threshold or --review-cost" in cost  # it was not asked for


def test_assessment_runs_and_artifacts_are_in_the_workspace(churn_assessment, tmp_path):
    result, home = churn_assessment
    workspace = Workspace.open(home)
    with workspace.session() as session:
        row = session.get(AssessmentRow, result.id)
        assert row.task == "binary" and row.verdict["recommended"] == result.verdict.recommended
        assert session.get(DatasetRow, row.dataset_id).fingerprint == result.dataset_fingerprint
        runs = session.scalars(select(RunRow).where(RunRow.assessment_id == result.id)).all()
        assert len(runs) == 6 and row.recommended_run_id in {r.id for r in runs}
        json.dumps(row.verdict, allow_nan=False)  # strict JSON, so PostgreSQL will take it too
        assert all(json.dumps(r.scorecard, allow_nan=False) for r in runs)
        mlp = next(r for r in runs if r.family == "mlp")
    model = load_model(workspace.artifacts.get_dir(mlp.artifact_digest, tmp_path / "mlp"))
    from depthgauge.data.synth import churn_table

    assert len(model.predict(churn_table(20, 10, seed=9).drop(columns="churned"))) == 20
    workspace.close()


def test_regression_and_multiclass_work_end_to_end(regression_table, multiclass_table, home):
    reg = depthgauge.assess(regression_table, target="target", time_budget="30s", value="error=-1.5", home=home,
                            resamples=200)
    assert reg.verdict.primary_metric == "rmse"
    assert {"mae", "rmse", "r2", "monthly_net_value_usd"} <= set(reg.scorecard.columns)
    assert reg.scorecard.loc["linear", "r2"] > reg.scorecard.loc["dummy", "r2"] + 0.15
    assert "Residuals against prediction" in reg.report_path.read_text()
    multi = depthgauge.assess(multiclass_table, target="target", time_budget="30s", home=home, resamples=200)
    assert multi.verdict.primary_metric == "accuracy"
    assert multi.scorecard.loc["linear", "accuracy"] > 0.85


def test_the_time_budget_bounds_the_whole_run(home):
    from depthgauge.data.synth import churn_table

    frame = churn_table(20000, 20, seed=3)
    started = time.perf_counter()
    result = depthgauge.assess(frame, target="churned", time_budget="20s", home=home, resamples=200)
    elapsed = time.perf_counter() - started
    assert elapsed <= 20 * 1.1, elapsed
    assert result.duration_s <= 22


def test_csv_path_and_time_ordered_split(tmp_path, home):
    from depthgauge.data.synth import churn_table

    frame = churn_table(800, 8, seed=4)
    frame["signup_date"] = np.datetime_as_string(np.datetime64("2022-01-01") + np.arange(800), unit="D")
    path = tmp_path / "churn.csv"
    frame.to_csv(path, index=False)
    result = depthgauge.assess(path, target="churned", time_budget="30s", time_column="signup_date", home=home,
                               resamples=200)
    assert result.split["method"] == "time-ordered"
    assert "signup_date" not in [c for c in result.profile["columns"] if c["role"] in ("numeric", "datetime")]


def test_demo_dataset_gives_a_verdict(home):
    result = depthgauge.assess(BREAST_CANCER, target="diagnosis", time_budget="30s", home=home, resamples=200)
    assert result.options["positive_class"] == "malignant"
    assert result.scorecard.loc["linear", "roc_auc"] > 0.95
    assert any("too few for a deep model" in w for w in result.warnings)
