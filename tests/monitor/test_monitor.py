"""Monitoring end to end: traffic through a real server, drift and quality decay detected, alerts stored and delivered."""

import json
import time

import httpx
import numpy as np
import pytest

from depthgauge.errors import DepthgaugeError
from depthgauge.govern.audit import verify
from depthgauge.monitor.alerts import Webhook, deliver, load_rules
from depthgauge.monitor.service import run_monitor
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.cli import cli_json, run_cli
from tests.helpers.monitoring import Receiver, post_traffic, served_answers, settle_log, traffic, write_rules
from tests.helpers.servers import LiveServer


def test_drift_fires_a_scheduled_alert_that_reaches_the_webhook_the_api_and_metrics(workspace_copy):
    home, token, ref = workspace_copy
    with Receiver() as receiver:
        write_rules(home / "alerts.yaml", receiver.url)
        app = create_app(home, monitor_every_s=1)
        with LiveServer(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                                   timeout=30) as client:
            records, _ = traffic(seed=99, shift=40.0)
            post_traffic(client, records)
            assert client.post("/v1/models/churn/predict", json={"inputs": {"colour": "red"}}).status_code == 422
            deadline = time.time() + 30
            while not receiver.received and time.time() < deadline:
                time.sleep(0.2)
            assert receiver.received, "the scheduled monitor should have delivered the drift alert"
            alert = receiver.received[0]["alert"]
            assert alert["rule"] == "feature-drift" and alert["status"] == "firing" and alert["ref"] == ref
            assert "monthly_charges" in alert["message"]

            report = client.get("/v1/monitor/churn", params={"window": "400"}).json()
            assert report["ref"] == ref and report["window"]["predictions"] == 400
            assert report["drift"]["drifted_features"][0] == "monthly_charges"
            firing = [a for a in report["alerts"] if a["rule"] == "feature-drift"]
            assert firing[0]["status"] == "firing" and firing[0]["delivery"] == "delivered"
            assert report["operations"]["rejected_rate"] > 0 and report["operations"]["error_rate"] == 0
            assert report["cost"]["monthly_run_rate_usd"] > 0 and report["operations"]["latency_p99_ms"] > 0
            assert client.get("/v1/monitor/churn", params={"window": "fortnight"}).status_code == 422

            metrics = client.get("/metrics").text
            assert 'depthgauge_alerts_firing{model="churn",severity="warning"} 1.0' in metrics
            assert 'depthgauge_drift_score{model="churn"}' in metrics
            monitor = next(job for job in app.state.serving.jobs if job.name == "monitor")
            seen, deadline = monitor.runs, time.time() + 30
            while monitor.runs < seen + 2 and time.time() < deadline:  # two more runs with the rule still breached
                time.sleep(0.1)
            assert monitor.runs >= seen + 2, "the scheduled monitor should keep running"
        assert len(receiver.received) == 1, "a rule that stays breached fires once, not on every run"
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert verify(session).ok
        from sqlalchemy import select

        from depthgauge.store.tables import AuditEventRow

        actions = session.scalars(select(AuditEventRow.action).where(AuditEventRow.actor == "system:monitor")).all()
        assert "alert.fire" in actions


def test_flipped_labels_fire_a_quality_alert_and_true_labels_resolve_it(workspace_copy):
    home, token, ref = workspace_copy
    rules = write_rules(home / "rules.yaml")
    records, labels = traffic(seed=7)
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        ids = post_traffic(client, records)

        def label(flip: bool):
            for request_id, truth in list(zip(ids, labels))[:300]:
                given = {"yes": "no", "no": "yes"}[truth] if flip else truth
                assert client.post("/v1/feedback", json={"request_id": request_id, "label": given}).status_code == 200

        label(flip=False)
        healthy = cli_json("--home", str(home), "monitor", "churn", "--window", "400", "--rules", str(rules))[0]
        assert healthy["quality"]["labeled"] == 300 and healthy["quality"]["drop"] < 0.05
        assert healthy["quality"]["estimated"]["labels"] == "agree"
        assert healthy["quality"]["live"]["low"] <= healthy["quality"]["live"]["value"] <= healthy["quality"]["live"]["high"]
        assert healthy["business"]["net_value_per_1k"] is not None
        assert not [a for a in healthy["alerts"] if a["rule"] == "quality-drop"]

        label(flip=True)
        decayed = cli_json("--home", str(home), "monitor", "churn", "--window", "400", "--rules", str(rules))[0]
        assert decayed["quality"]["drop"] >= 0.05
        assert decayed["quality"]["false_positive_rate"] > healthy["quality"]["false_positive_rate"]
        assert decayed["business"]["net_value_per_1k"] < healthy["business"]["net_value_per_1k"]
        fired = [a for a in decayed["alerts"] if a["rule"] == "quality-drop"]
        assert fired and fired[0]["severity"] == "critical" and fired[0]["delivery"] == "none"
        # A concept shift: the inputs are as before, so the label-free estimate stays put; the labels disagree.
        estimated = decayed["quality"]["estimated"]
        assert abs(estimated["value"] - healthy["quality"]["estimated"]["value"]) < 1e-9
        assert estimated["labels"] == "disagree" and "concept drift" in estimated["disagreement"]
        assert decayed["quality"]["live"]["high"] < estimated["low"]

        label(flip=False)
        recovered = cli_json("--home", str(home), "monitor", "churn", "--window", "400", "--rules", str(rules))[0]
        assert not [a for a in recovered["alerts"] if a["rule"] == "quality-drop"]
    text = run_cli("--home", str(home), "monitor", "churn", "--window", "400", "--rules", str(rules))
    assert text.returncode == 0 and "quality (roc_auc): holdout" in text.stdout and "drift score" in text.stdout


def _drifted_workspace(home, token):
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        post_traffic(client, traffic(seed=5, shift=40.0)[0])
    settle_log(home)  # the monitor reads log rows once they are settled


def test_webhook_failures_are_retried_then_recorded(workspace_copy):
    home, token, _ = workspace_copy
    _drifted_workspace(home, token)
    with Receiver(statuses=[500, 502, 503, 500]) as receiver:
        rules = write_rules(home / "rules.yaml", receiver.url, retries=2)
        with Workspace.open(home) as workspace:
            report = run_monitor(workspace, ["churn"], "400", rules)[0]
    alert = next(a for a in report["alerts"] if a["rule"] == "feature-drift")
    assert len(receiver.received) == 3 and alert["delivery"] == "failed" and alert["delivery_attempts"] == 3
    assert "HTTP 503" in alert["delivery_error"] or "HTTP 500" in alert["delivery_error"]


def test_webhook_timeouts_and_client_errors_are_not_waited_on_forever():
    with Receiver(delay_s=1.5) as slow:
        started = time.perf_counter()
        status, attempts, error = deliver({"x": 1}, Webhook(slow.url, timeout_s=0.3, retries=1), sleep=lambda s: None)
        assert status == "failed" and attempts == 2 and "Timeout" in error
        assert time.perf_counter() - started < 3
    with Receiver(statuses=[404]) as missing:
        status, attempts, error = deliver({"x": 1}, Webhook(missing.url, retries=3), sleep=lambda s: None)
        assert status == "failed" and attempts == 1 and error.startswith("HTTP 404")
    status, attempts, error = deliver({"x": 1}, Webhook("http://127.0.0.1:9/hook", timeout_s=0.5, retries=1),
                                      sleep=lambda s: None)
    assert status == "failed" and attempts == 2 and "ConnectError" in error


@pytest.mark.parametrize("edit, problem", [
    ('comparison: ">="', 'comparison: "=>"'),
    ("threshold: 1\n", "threshold: lots\n"),
    ('window: "400"', 'window: "a while"'),
    ("url: null", "url: ftp://example.com"),
])
def test_a_malformed_rules_file_is_refused_naming_the_line(tmp_path, edit, problem):
    path = write_rules(tmp_path / "rules.yaml")
    path.write_text(path.read_text().replace(edit, problem, 1))
    with pytest.raises(DepthgaugeError, match=r"rules\.yaml:\d+"):
        load_rules(path)


def test_the_built_in_rules_load_and_the_cli_refuses_bad_input(workspace_copy):
    home, _, _ = workspace_copy
    from depthgauge.monitor.alerts import BUILTIN

    assert {r.name for r in load_rules(BUILTIN).rules} >= {"input-drift", "quality-drop", "latency-p99", "error-rate"}
    bad = run_cli("--home", str(home), "monitor", "churn", "--window", "soon")
    assert bad.returncode == 2 and "Unknown window 'soon'" in bad.stderr
    unknown = run_cli("--home", str(home), "monitor", "nope")
    assert unknown.returncode == 2 and "Unknown model 'nope'" in unknown.stderr
    quiet = cli_json("--home", str(home), "monitor", "churn")[0]
    assert quiet["drift"]["status"] == "insufficient data" and quiet["window"]["predictions"] == 0


def test_the_label_free_estimate_tracks_true_quality_under_covariate_shift(workspace_copy):
    """Traffic resampled towards short tenure and many support calls (other inputs, the same relation): the
    estimate of ROC-AUC and accuracy, from the served answers alone, lands near what the labels would show."""
    from sklearn.metrics import roc_auc_score

    from depthgauge.data.synth import churn_table

    home, token, _ = workspace_copy
    pool = churn_table(12_000, 8, seed=31)
    weights = np.exp(-pool["tenure_months"] / 24.0 + 0.3 * pool["support_calls"].clip(upper=5))
    frame = pool.sample(2_000, weights=weights, random_state=1)
    records = json.loads(frame.drop(columns=["churned"]).to_json(orient="records"))
    truth = frame["churned"].astype(str).to_numpy()
    answers = served_answers(home, token, "churn", records)
    settle_log(home)
    report = cli_json("--home", str(home), "monitor", "churn", "--window", "2000")[0]
    estimated = report["quality"]["estimated"]
    assert estimated["rows"] == 2_000 and estimated["metric"] == "roc_auc" and estimated["labels"] is None
    true_auc = roc_auc_score(truth == "yes", [a["probabilities"]["yes"] for a in answers])
    true_accuracy = float(np.mean([a["prediction"] == label for a, label in zip(answers, truth)]))
    accuracy = estimated["metrics"]["accuracy"]
    # The calibration was fitted on this fixture's 300-row holdout, so its own error adds about 0.02 to the window's
    # sampling error; bench/performance_estimation.py measures the 0.02 goal on real sets with larger holdouts.
    assert abs(estimated["value"] - true_auc) < 0.04, (estimated, true_auc)
    assert abs(accuracy["value"] - true_accuracy) < 0.04, (accuracy, true_accuracy)
    assert estimated["low"] < estimated["value"] < estimated["high"]
    text = run_cli("--home", str(home), "monitor", "churn", "--window", "2000")
    assert "estimated without labels (roc_auc" in text.stdout and "concept drift is invisible" in text.stdout


def test_the_whole_input_test_finds_an_interaction_shift_no_single_feature_shows(workspace_copy):
    """usage_1 and usage_2 are independent in training; live they move together. Each keeps its own distribution,
    so no per-feature test fires, but a classifier tells live rows from training rows."""
    home, token, _ = workspace_copy
    records, _ = traffic(seed=5)
    planted, _ = traffic(seed=6)
    noise = np.random.default_rng(6).normal(0, 1, len(planted))
    for record, extra in zip(planted, noise):
        record["usage_2"] = round(0.97 * record["usage_1"] + (1 - 0.97 ** 2) ** 0.5 * extra, 4)
    reports = []
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for batch in (records, planted):
            post_traffic(client, batch)
            settle_log(home)
            reports.append(cli_json("--home", str(home), "monitor", "churn", "--window", "400")[0]["drift"])
    healthy, shifted = reports
    assert healthy["whole_input"]["status"] == "measured" and not healthy["whole_input"]["drifted"]
    assert healthy["whole_input"]["rows"] == {"reference": 1000, "live": 200}  # at most 1,000 and 200 per stretch
    assert shifted["drifted_count"] == 0, "no single feature shows the shift"
    assert shifted["whole_input"]["drifted"] and shifted["whole_input"]["auc"] > 0.6
    assert {d["feature"] for d in shifted["whole_input"]["drivers"][:2]} == {"usage_1", "usage_2"}
    text = run_cli("--home", str(home), "monitor", "churn", "--window", "400")
    assert "whole input (classifier two-sample test)" in text.stdout and "(drifted) driven by" in text.stdout


def _noisy_where_busy(rows: int, seed: int, busy_share: float = 0.5):
    """A regression table whose noise is four times larger on busy days: the error depends on an input."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    busy = rng.random(rows) < busy_share
    load, hour = rng.normal(0, 1, rows), rng.uniform(0, 24, rows)
    noise = rng.normal(0, 1, rows) * np.where(busy, 2.0, 0.5)
    return pd.DataFrame({"load": load.round(4), "hour": hour.round(2), "busy": np.where(busy, "yes", "no"),
                         "minutes": (10 + 3 * load + 2 * np.sin(hour / 4) + noise).round(3)})


def test_a_regressor_s_error_is_estimated_without_labels_and_alerts_when_it_grows(tmp_path):
    """Traffic shifts towards busy days, where the model errs more: the direct loss estimate of MAE and RMSE follows
    the true error, lies above the holdout's interval, and the built-in estimated-quality rule fires."""
    import depthgauge
    from depthgauge.govern.keys import create_key
    from depthgauge.serve import deploy as deployments

    home = tmp_path / "ws"
    depthgauge.assess(_noisy_where_busy(3000, seed=1), target="minutes", time_budget="20s", home=home, name="eta",
                      resamples=200, candidates=("dummy", "linear"))
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "admin", "admin")[1]
        deployments.deploy(session, "eta", "2")
    live = _noisy_where_busy(1500, seed=2, busy_share=0.9)
    records = json.loads(live.drop(columns=["minutes"]).to_json(orient="records"))
    answers = [a["prediction"] for a in served_answers(home, token, "eta", records)]
    settle_log(home)
    report = cli_json("--home", str(home), "monitor", "eta")[0]
    estimated = report["quality"]["estimated"]
    error = live["minutes"].to_numpy() - np.array(answers)
    true_mae, true_rmse = float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error ** 2)))
    assert estimated["metric"] == "rmse" and estimated["method"] == "loss model" and estimated["rows"] == 1500
    assert abs(estimated["value"] - true_rmse) < 0.1 * true_rmse, (estimated, true_rmse)
    assert abs(estimated["metrics"]["mae"]["value"] - true_mae) < 0.1 * true_mae, (estimated, true_mae)
    assert estimated["shortfall"] > 0 and estimated["value"] > estimated["holdout"]["high"]
    assert "estimated-quality" in [a["rule"] for a in report["alerts"]]
