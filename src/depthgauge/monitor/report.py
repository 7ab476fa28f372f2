"""One monitoring report for a served model version, read from its prediction log over a window.

Five parts, as in an assessment: drift (inputs and predictions against the version's reference),
live quality (from feedback and review labels, next to the holdout figure), operations
(latency, throughput, error and review rates), cost (per 1,000 predictions and the monthly run
rate at the instance price) and business impact (the value matrix applied to labeled traffic).
"""

from __future__ import annotations

import json
import math

import numpy as np
from sqlalchemy import func, select

from depthgauge.assess import business, quality
from depthgauge.assess.options import ValueMatrix
from depthgauge.cost.catalog import DEFAULT_INSTANCE, load_catalog
from depthgauge.errors import DepthgaugeError
from depthgauge.monitor import drift
from depthgauge.monitor.window import Window, WindowSpec, latest_labels, read_window
from depthgauge.store.tables import AssessmentRow, DeploymentRow, ModelVersionRow, ServingCountRow, utcnow

HOURS_PER_MONTH = 730.0
RESAMPLES = 1000
MIN_LABELS = 30  # fewer labels than this give an interval too wide to alert on


def monitored_version(session, reference: str) -> ModelVersionRow:
    """Return the version `reference` names: NAME means the deployed version (else production); NAME:V or NAME@ALIAS as given."""
    from depthgauge.registry.refs import parse_ref
    from depthgauge.registry.service import resolve

    ref = parse_ref(reference)
    if ref.version is None and ref.alias is None:
        deployed = session.scalars(select(DeploymentRow).where(DeploymentRow.model_name == ref.name,
                                                               DeploymentRow.active.is_(True))).first()
        if deployed is not None:
            return session.get(ModelVersionRow, deployed.version_id)
        return resolve(session, f"{ref.name}@production")
    return resolve(session, reference)


def _finite(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _live_outcome(window: Window, labels: dict, task: str, classes: list | None, positive: str | None):
    """Return the Outcome of the labeled predictions, and how many labels named a class the model does not know."""
    index = [i for i, request_id in enumerate(window.request_ids) if request_id in labels]
    if task == "regression":
        y = np.array([float(labels[window.request_ids[i]]) for i in index])
        return quality.Outcome(y, window.predictions.to_numpy(float)[index]), 0
    codes = {str(c): k for k, c in enumerate(classes)}
    kept = [i for i in index if str(labels[window.request_ids[i]]) in codes]
    y = np.array([codes[str(labels[window.request_ids[i]])] for i in kept], int)
    pred = np.array([codes.get(str(window.predictions.iloc[i]), -1) for i in kept], int)
    proba = np.array([[json.loads(window.outputs_by_id[window.request_ids[i]])["probabilities"].get(str(c), 0.0)
                       for c in classes] for i in kept], float).reshape(len(kept), len(classes))
    return quality.Outcome(y, pred, proba, codes.get(str(positive), 1)), len(index) - len(kept)


def _quality(session, window: Window, version: ModelVersionRow, options: dict) -> tuple[dict, object]:
    task = version.lineage["task"]
    metric = options.get("metric") or quality.PRIMARY[task]
    holdout = version.scorecard["quality"].get(metric)
    labels = latest_labels(session, window.request_ids)
    result = {"metric": metric, "holdout": holdout, "live": None, "labeled": 0, "drop": None,
              "false_positive_rate": None, "false_negative_rate": None}
    if not labels:
        return result, None
    outcome, unknown = _live_outcome(window, labels, task, version.input_schema.get("classes"),
                                     options.get("positive_class"))
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
    if task == "binary":
        actual, said = outcome.y == outcome.positive, outcome.pred == outcome.positive
        result["false_positive_rate"] = _finite(np.sum(said & ~actual) / max(np.sum(~actual), 1))
        result["false_negative_rate"] = _finite(np.sum(~said & actual) / max(np.sum(actual), 1))
    return result, outcome


def _operations(session, window: Window, version: ModelVersionRow) -> dict:
    n = len(window)
    result = {"predictions": n, "latency_p50_ms": None, "latency_p95_ms": None, "latency_p99_ms": None,
              "throughput_per_s": None, "error_rate": None, "review_rate": None}
    if n == 0:
        return result
    p50, p95, p99 = np.percentile(window.latency_ms, [50, 95, 99])
    first, last = min(window.at), max(window.at)
    span_s = max((last - first).total_seconds(), 1.0)
    counts = session.execute(select(func.sum(ServingCountRow.requests), func.sum(ServingCountRow.server_errors),
                                    func.sum(ServingCountRow.client_errors))
                             .where(ServingCountRow.model_name == version.model_name,
                                    ServingCountRow.at >= first)).one()
    requests, server_errors, client_errors = (int(c or 0) for c in counts)
    result.update(latency_p50_ms=float(p50), latency_p95_ms=float(p95), latency_p99_ms=float(p99),
                  throughput_per_s=n / span_s, review_rate=float(np.mean(window.review_status != "none")),
                  requests_counted=requests,
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
        result["cost_per_1k_at_capacity_usd"] = hourly / 3600 * operations["latency_p50_ms"] / 1000 * 1000
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
    impact = business.business_impact(task, outcome, ValueMatrix(values), per_1k_cost)
    return {**impact, "labeled": len(outcome.y)}


def build_report(session, reference: str, spec: WindowSpec, prices=None) -> dict:
    """Return the monitoring report of the version `reference` names over the window `spec`."""
    version = monitored_version(session, reference)
    if version.reference is None:
        raise DepthgaugeError(f"{version.ref} has no reference profile to compare traffic with: it was registered "
                              "before monitoring existed. Re-run `depthgauge assess ... --name NAME` or "
                              f"`depthgauge retrain {version.model_name} --data FILE` and deploy the new version.")
    assessment = session.get(AssessmentRow, version.assessment_id) if version.assessment_id else None
    options = assessment.options if assessment is not None else {}
    task = version.lineage["task"]
    window = read_window(session, version.ref, spec, version.input_schema, task)
    report = {"model": version.model_name, "ref": version.ref, "family": version.family, "at": utcnow().isoformat(),
              "window": {"spec": spec.describe(), "predictions": len(window),
                         "from": min(window.at).isoformat() if len(window) else None,
                         "to": max(window.at).isoformat() if len(window) else None}}
    if len(window) < drift.MIN_ROWS:
        report["drift"] = {"status": "insufficient data", "score": None, "drifted_features": [],
                           "reason": f"{len(window)} predictions in the window; drift needs at least {drift.MIN_ROWS}."}
    else:
        features = drift.feature_drift(version.reference, window.inputs)
        report["drift"] = {"status": "measured", "score": drift.drift_score(features, version.reference.get("importance", {})),
                           "drifted_features": [name for name, f in features.items() if f["drifted"]],
                           "drifted_count": sum(f["drifted"] for f in features.values()),
                           "features": features,
                           "predictions": drift.prediction_drift(version.reference, window.predictions, window.confidence),
                           "not_monitored": version.reference.get("not_monitored", [])}
    report["quality"], outcome = _quality(session, window, version, options)
    report["operations"] = _operations(session, window, version)
    report["cost"] = _cost(report["operations"], options, prices)
    report["business"] = _business(task, outcome, options, report["cost"])
    return report
