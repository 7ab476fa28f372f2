"""Measuring a fitted candidate on the test rows: quality with intervals, operations, cost, risk and business value.

Public because `monitor/retrain.py` scores a challenger exactly as an assessment scores a candidate.
"""

from __future__ import annotations

import numpy as np

from depthgauge.assessment import business, calibration, operations, quality, risk
from depthgauge.assessment.plan import BudgetPlan
from depthgauge.cost.ownership import CostTerms, monthly_cost
from depthgauge.data.estimation import fit_estimator, fit_loss_estimator
from depthgauge.data.reference import prediction_reference as _reference_of


def outcome_of(model, task, X_test, y_test, positive_label) -> quality.Outcome:
    """Return what a fitted model predicts for the test rows, with the right answers, ready to be scored."""
    if not model.is_classifier:
        return quality.Outcome(y_test.astype(float), model.predict(X_test))
    proba = model.predict_proba(X_test)
    index = {c: i for i, c in enumerate(model.classes_)}
    codes = np.array([index[v] for v in y_test])
    # anomaly detectors flag at their own threshold (the expected contamination), not at the larger probability
    predicted = np.array([index[v] for v in model.predict(X_test)]) if task == "anomaly" else proba.argmax(axis=1)
    return quality.Outcome(codes, predicted, proba, index[positive_label] if positive_label is not None else 1)


def record_training(result, model) -> None:
    """Keep how the fit went: the learning curve of a network, the boosting round kept, a rule list."""
    history = getattr(model, "history_", None)
    if history is not None:
        result.learning_curve = {"train_loss": history.train_loss, "val_loss": history.val_loss,
                                 "best_epoch": history.best_epoch, "stopped_because": history.stopped_because}
    if hasattr(model, "rules_text"):
        result.rules = model.rules_text()
    if hasattr(model, "best_iteration_"):
        result.params["best_iteration"] = model.best_iteration_


def evaluate(result, model, task, X_test, y_test, positive_label, plan: BudgetPlan, peak_mb, terms: CostTerms,
             matrix, review_threshold, groups, seed, validation=None) -> None:
    """Score a fitted candidate on the test rows in all five dimensions. A classifier is first calibrated on the
    `validation` rows (X, y); its review share, value and error rates then use calibrated probabilities."""
    outcome = outcome_of(model, task, X_test, y_test, positive_label)
    result.outcome, result.model = outcome, model
    detector, task = task == "anomaly", "binary" if task == "anomaly" else task
    result.quality = quality.quality_with_intervals(task, outcome, plan.resamples, seed)
    threshold = 0.5
    if outcome.proba is not None and not detector:  # a detector flags at its expected contamination
        found = calibration.fit_calibration(task, model, *(validation or (None, None)), outcome.positive, seed)
        result.params["calibration"] = found.as_dict()
        outcome.calibrated = found.apply(outcome.proba, outcome.positive)
        if found.mapping is not None:
            result.calibration = {"task": task, "calibration": found.mapping,
                                  "positive_class": str(model.classes_[outcome.positive]) if task == "binary" else None}
        if task == "binary":
            threshold = calibration.decision_threshold(matrix)
            q = outcome.calibrated if outcome.calibrated is not None else outcome.proba[:, outcome.positive]
            outcome.decided = np.where(q >= threshold, outcome.positive, 1 - outcome.positive)
    result.risk = risk.risk_metrics(task, outcome, review_threshold, groups, model.explainability, threshold)
    measure_operations(result, model, X_test, plan, peak_mb, terms)
    result.business = business.business_impact(task, outcome, matrix, result.cost)


def measure_operations(result, model, X_test, plan: BudgetPlan, peak_mb, terms: CostTerms) -> None:
    from depthgauge.zoo import sentence

    with sentence.uncached():  # a served model's encoder reads every request's text
        latencies = operations.measure_latency_ms(model, X_test, max_seconds=plan.latency_s)
        throughput = operations.measure_throughput(model, X_test, min_seconds=plan.throughput_s)
    result.operations = operations.Operations(
        latency_p50_ms=operations.percentile(latencies, 50), latency_p99_ms=operations.percentile(latencies, 99),
        throughput_rows_per_s=throughput, fit_seconds=result.fit_seconds, peak_memory_mb=peak_mb, artifact_bytes=0,
        latencies_ms=latencies,
    )
    result.cost = monthly_cost(result.fit_seconds, throughput, result.operations.latency_p99_ms,
                               result.risk.get("review_share"), result.is_deep, terms)


def evaluate_unlabelled(result, model, X_test, plan: BudgetPlan, peak_mb, terms: CostTerms) -> None:
    """Without labels: the share of test rows flagged (with a Wilson interval) and the spread of the raw scores."""
    share = model.predict_proba(X_test)[:, 0]
    flagged = share >= 1.0 - model.contamination
    codes = np.where(flagged, 0, 1)
    result.outcome = quality.Outcome(codes, codes, np.column_stack([share, 1.0 - share]), positive=0)
    result.model = model
    result.quality = {"flagged_share": quality.wilson_interval(int(flagged.sum()), len(flagged))}
    scores = model.anomaly_scores(X_test)
    result.params["test_scores"] = {f"p{q}": float(np.percentile(scores, q)) for q in (50, 90, 95, 99)}
    result.params["expected_share"] = model.contamination
    result.risk = {"false_positive_rate": None, "false_negative_rate": None, "calibration_error": None,
                   "review_share": None, "explainability": model.explainability}  # error rates need labels
    measure_operations(result, model, X_test, plan, peak_mb, terms)


def monitoring_reference(task: str, result, features_reference: dict, X_test, seed: int) -> dict:
    """Return what the monitor compares the fitted candidate's traffic with: the training inputs' profile
    (`features_reference`), its holdout outputs, its input importance, and its label-free quality estimator
    (calibrated confidence for classifiers; a loss model over the holdout inputs `X_test` for regressors)."""
    outcome = result.outcome
    if outcome.proba is None:
        predictions = _reference_of(task, outcome.pred, None, seed)
    else:
        labels = np.asarray(result.model.classes_, dtype=object)[outcome.pred]
        predictions = _reference_of(task, labels, outcome.proba.max(axis=1), seed)
    classes = None if outcome.proba is None else list(result.model.classes_)
    if task == "regression":
        estimator = fit_loss_estimator(X_test, outcome.pred, outcome.y, features_reference["joint_sample"], seed)
    else:
        estimator = fit_estimator(task, outcome.proba, outcome.y, outcome.pred, classes, outcome.positive, seed)
    return {**features_reference, "predictions": predictions, "importance": result.model.input_importance(),
            "estimator": estimator, "review_calibration": result.calibration}
