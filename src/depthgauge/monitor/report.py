"""One monitoring report for a served model version, read from its prediction log over a window.

Five parts, as in an assessment: drift (inputs and predictions against the version's reference),
live quality (from feedback and review labels, next to the holdout figure), operations
(latency, throughput, error and review rates), cost (per 1,000 predictions and the monthly run
rate at the instance price) and business impact (the value matrix applied to labeled traffic).
"""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import func, select

from depthgauge.assessment import business, quality
from depthgauge.assessment.options import ValueMatrix
from depthgauge.cost.catalog import DEFAULT_INSTANCE, load_catalog
from depthgauge.data import estimation
from depthgauge.errors import DepthgaugeError
from depthgauge.monitor import drift
from depthgauge.monitor.profiles import Window, WindowSpec, read_window
from depthgauge.monitor.whole_input import whole_input_drift
from depthgauge.serve.deploy import active_deployment
from depthgauge.store.tables import (
    AssessmentRow,
    FeedbackRow,
    ModelVersionRow,
    PredictionLogRow,
    ServingCountRow,
    utcnow,
)

HOURS_PER_MONTH = 730.0
RESAMPLES = 1000
MIN_LABELS = 30  # fewer labels than this give an interval too wide to alert on


def monitored_version(session, reference: str) -> ModelVersionRow:
    """Return the version `reference` names: NAME means the deployed version (else production); NAME:V or NAME@ALIAS as given."""
    from depthgauge.registry.refs import parse_ref
    from depthgauge.registry.service import resolve

    ref = parse_ref(reference)
    if ref.version is None and ref.alias is None:
        deployed = active_deployment(session, ref.name)
        if deployed is not None:
            return session.get(ModelVersionRow, deployed.version_id)
        return resolve(session, f"{ref.name}@production")
    return resolve(session, reference)


def _finite(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _labeled(session, window: Window) -> list[tuple[dict, object]]:
    """Return (logged output, latest label) for the window's predictions that have a label."""
    log = PredictionLogRow
    rows = session.execute(select(log.request_id, log.output, FeedbackRow.label)
                           .join(FeedbackRow, FeedbackRow.request_id == log.request_id)
                           .where(log.ref == window.ref, log.at >= window.first_at, log.at <= window.last_at)
                           .order_by(FeedbackRow.created_at)).all()
    latest = {request_id: (output, label) for request_id, output, label in rows}  # the later label wins
    return list(latest.values())


def _live_outcome(labeled: list[tuple[dict, object]], task: str, classes: list | None, positive: str | None):
    """Return the Outcome of the labeled predictions, and how many labels named a class the model does not know."""
    if task == "regression":
        return quality.Outcome(np.array([float(label) for _, label in labeled]),
                               np.array([float(output["prediction"]) for output, _ in labeled])), 0
    codes = {str(c): k for k, c in enumerate(classes)}
    kept = [(output, label) for output, label in labeled if str(label) in codes]
    y = np.array([codes[str(label)] for _, label in kept], int)
    pred = np.array([codes.get(str(output["prediction"]), -1) for output, _ in kept], int)
    proba = np.array([[output["probabilities"].get(str(c), 0.0) for c in classes] for output, _ in kept],
                     float).reshape(len(kept), len(classes))
    return quality.Outcome(y, pred, proba, codes.get(str(positive), 1)), len(labeled) - len(kept)


def _quality(session, window: Window, version: ModelVersionRow, options: dict) -> tuple[dict, object]:
    task = version.lineage["task"]
    metric = options.get("metric") or quality.PRIMARY[task]
    holdout = version.scorecard["quality"].get(metric)
    labeled = _labeled(session, window) if window.predictions else []
    result = {"metric": metric, "holdout": holdout, "live": None, "labeled": 0, "drop": None,
              "false_positive_rate": None, "false_negative_rate": None,
              "estimated": _estimated(window, version, metric)}
    if not labeled:
        return result, None
    outcome, unknown = _live_outcome(labeled, task, version.input_schema.get("classes"), options.get("positive_class"))
    result["labeled"], result["labels_of_unknown_classes"] = len(outcome.y), unknown
    if len(outcome.y) < 2:
        return result, outcome
    intervals = quality.quality_with_intervals(task, outcome, RESAMPLES, seed=0)
    result["live_all"] = {k: v.as_dict() for k, v in intervals.items()}
    chosen = metric if _finite(intervals[metric].value) is not None else ("accuracy" if task != "regression" else metric)
    result["live"] = {"metric": chosen, **intervals[chosen].as_dict()}
    reference = version.scorecard["quality"].get(chosen)
    if reference is not None and len(outcome.y) >= MIN_LABELS:
        sign = -1.0 if chosen in quality.LOWER_IS_BETTER else 1.0
        result["drop"] = sign * (reference["value"] - intervals[chosen].value)  # positive: live is worse
    if result["estimated"] is not None and len(outcome.y) >= MIN_LABELS:
        result["estimated"].update(compared_with_labels(result["estimated"], result["live"]))
    if task == "binary":
        actual, said = outcome.y == outcome.positive, outcome.pred == outcome.positive
        result["false_positive_rate"] = _finite(np.sum(said & ~actual) / max(np.sum(~actual), 1))
        result["false_negative_rate"] = _finite(np.sum(~said & actual) / max(np.sum(actual), 1))
    return result, outcome


def _estimated(window: Window, version: ModelVersionRow, metric: str) -> dict | None:
    """The window's quality estimated without labels (`data.estimation`), beside the holdout's interval.

    `shortfall` is how far the estimated metric lies on the worse side of the holdout's interval (0 within it):
    the alert rule `estimated-quality` fires on it."""
    estimator = (version.reference or {}).get("estimator")
    if estimator is None or window.estimation is None or window.estimation["n"] < drift.MIN_ROWS:
        return None
    metrics = estimation.estimate(window.estimation)
    chosen = metric if metrics.get(metric) is not None else ("accuracy" if "accuracy" in metrics else "rmse")
    value = metrics[chosen]
    holdout = version.scorecard["quality"].get(chosen)
    if holdout is None:
        shortfall = None
    elif chosen in quality.LOWER_IS_BETTER:
        shortfall = max(0.0, value["value"] - holdout["high"])
    else:
        shortfall = max(0.0, holdout["low"] - value["value"])
    method = "loss model" if estimator["task"] == "regression" else f"{estimator['calibration']['method']} calibration"
    return {"metric": chosen, **value, "rows": window.estimation["n"], "metrics": metrics, "method": method,
            "holdout": holdout, "shortfall": shortfall, "labels": None, "note": ESTIMATE_NOTE}


ESTIMATE_NOTE = ("Estimated without labels: from the calibrated confidence of every prediction in the window "
                 "(classifiers), or from a model of each prediction's error fitted on the holdout (regressors). "
                 "It assumes the relation between inputs and labels is unchanged: concept drift is invisible to "
                 "it, and only labels show it.")


def compared_with_labels(estimated: dict, live: dict) -> dict:
    """Whether the labelled quality agrees with the estimate: when their intervals do not overlap, the relation
    between inputs and labels has likely changed (concept drift), which only the labels can show."""
    if live is None or live["metric"] != estimated["metric"]:
        return {}
    if live["high"] >= estimated["low"] and live["low"] <= estimated["high"]:
        return {"labels": "agree", "disagrees": 0}
    below = live["value"] < estimated["value"]
    return {"labels": "disagree", "disagrees": 1, "disagreement": (
        f"The labelled {live['metric']} ({live['value']:.3f}) is {'below' if below else 'above'} the label-free "
        f"estimate ({estimated['value']:.3f}), beyond both intervals. The relation between inputs and labels has "
        "probably changed (concept drift), which the estimate cannot see: trust the labels.")}


def _operations(session, window: Window, version: ModelVersionRow) -> dict:
    n = window.predictions
    result = {"predictions": n, "latency_p50_ms": None, "latency_p95_ms": None, "latency_p99_ms": None,
              "throughput_per_s": None, "error_rate": None, "rejected_rate": None, "review_rate": None}
    if n == 0:
        return result
    span_s = max((window.last_at - window.first_at).total_seconds(), 1.0)
    counts = session.execute(select(func.sum(ServingCountRow.requests), func.sum(ServingCountRow.server_errors),
                                    func.sum(ServingCountRow.client_errors))
                             .where(ServingCountRow.model_name == version.model_name,
                                    ServingCountRow.at >= window.first_at)).one()
    requests, server_errors, client_errors = (int(c or 0) for c in counts)
    result.update(latency_p50_ms=window.latency_percentile(50), latency_p95_ms=window.latency_percentile(95),
                  latency_p99_ms=window.latency_percentile(99), throughput_per_s=n / span_s,
                  review_rate=window.reviews / n, requests_counted=requests,
                  error_rate=(server_errors / requests) if requests else None,
                  rejected_rate=(client_errors / requests) if requests else None)
    return result


def _cost(operations: dict, options: dict, prices=None) -> dict:
    instance = load_catalog(prices).get(options.get("instance") or DEFAULT_INSTANCE)
    hourly = instance.price_per_hour_usd
    result = {"instance": instance.name, "price_per_hour_usd": hourly, "monthly_run_rate_usd": hourly * HOURS_PER_MONTH,
              "cost_per_1k_at_capacity_usd": None, "cost_per_1k_at_observed_traffic_usd": None}
    if operations["latency_p50_ms"] is not None:
        # Compute time per prediction, as if the instance did nothing else: the floor of what a prediction costs.
        result["cost_per_1k_at_capacity_usd"] = hourly / 3600 * operations["latency_p50_ms"]  # 1,000 × ms/1,000
    if operations["throughput_per_s"]:
        # What the always-on instance costs per 1,000 of the predictions it actually serves.
        result["cost_per_1k_at_observed_traffic_usd"] = hourly / 3600 / operations["throughput_per_s"] * 1000
    return result


def _business(task: str, outcome, options: dict, cost: dict) -> dict:
    values = options.get("value")
    if not values or outcome is None or len(outcome.y) == 0:
        return {"value_matrix": values, "net_value_per_1k": None, "gross_value_per_1k": None,
                "labeled": 0 if outcome is None else len(outcome.y)}
    per_1k_cost = cost["cost_per_1k_at_observed_traffic_usd"] or cost["cost_per_1k_at_capacity_usd"] or 0.0
    gross = business.gross_value_per_1k(task, outcome, ValueMatrix(values))
    return {"value_matrix": values, "gross_value_per_1k": gross, "net_value_per_1k": gross - per_1k_cost,
            "labeled": len(outcome.y)}


def build_report(session, reference: str, spec: WindowSpec, prices=None) -> dict:
    """Return the monitoring report of the version `reference` names over the window `spec`, from its log profiles.

    Fold the version's new predictions first (`profiles.fold_new_predictions`) for an up-to-date report.
    """
    version = monitored_version(session, reference)
    if version.reference is None:
        raise DepthgaugeError(f"{version.ref} has no reference profile to compare traffic with: it was registered "
                              "before monitoring existed. Re-run `depthgauge assess ... --name NAME` or "
                              f"`depthgauge retrain {version.model_name} --data FILE` and deploy the new version.")
    assessment = session.get(AssessmentRow, version.assessment_id) if version.assessment_id else None
    options = assessment.options if assessment is not None else {}
    task = version.lineage["task"]
    window = read_window(session, version, spec)
    report = {"model": version.model_name, "ref": version.ref, "family": version.family, "at": utcnow().isoformat(),
              "window": {"spec": spec.describe(), "predictions": window.predictions,
                         "from": window.first_at.isoformat() if window.first_at else None,
                         "to": window.last_at.isoformat() if window.last_at else None}}
    if window.predictions < drift.MIN_ROWS:
        report["drift"] = {"status": "insufficient data", "score": None, "drifted_features": [], "drifted_count": 0,
                           "reason": f"{window.predictions} predictions in the window; drift needs at least "
                                     f"{drift.MIN_ROWS}."}
    else:
        features = drift.feature_drift(version.reference, window.features)
        rng = np.random.default_rng(0)
        predictions = drift.compare(version.reference["predictions"], window.outputs, drift.ALPHA, rng)
        if window.confidence is not None:
            predictions["confidence"] = drift.compare(version.reference["predictions"]["confidence"], window.confidence,
                                                      drift.ALPHA, rng)
        report["drift"] = {"status": "measured", "score": drift.drift_score(features, version.reference.get("importance", {})),
                           "drifted_features": [name for name, f in features.items() if f["drifted"]],
                           "drifted_count": sum(f["drifted"] for f in features.values()),
                           "unseen_categories": {name: round(f["unseen_share"], 4) for name, f in features.items()
                                                 if f.get("unseen_share")},
                           "features": features, "predictions": predictions,
                           "whole_input": whole_input_drift(version.reference.get("joint_sample"), window.joint_sample),
                           "not_monitored": version.reference.get("not_monitored", [])}
    report["quality"], outcome = _quality(session, window, version, options)
    report["operations"] = _operations(session, window, version)
    report["cost"] = _cost(report["operations"], options, prices)
    report["business"] = _business(task, outcome, options, report["cost"])
    return report
