"""Risk: error rates at the decision threshold, calibration, human-review share, per-group gaps."""

from __future__ import annotations

import numpy as np

from depthgauge.assessment.quality import Outcome

CALIBRATION_BINS = 10
MIN_GROUP_ROWS = 10


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Return the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(gap)


def _error_rates(outcome: Outcome, mask: np.ndarray | None = None) -> tuple[float, float]:
    y, pred = outcome.y, outcome.acted
    if mask is not None:
        y, pred = y[mask], pred[mask]
    classes = [outcome.positive] if outcome.proba is not None and outcome.proba.shape[1] == 2 else np.unique(y)
    fprs, fnrs = [], []
    for k in classes:
        actual, said = y == k, pred == k
        negatives, positives = (~actual).sum(), actual.sum()
        fprs.append((said & ~actual).sum() / negatives if negatives else np.nan)
        fnrs.append((~said & actual).sum() / positives if positives else np.nan)
    return float(np.nanmean(fprs)), float(np.nanmean(fnrs))


def risk_metrics(task: str, outcome: Outcome, review_threshold: float, groups: np.ndarray | None,
                 explainability: str, decision_threshold: float = 0.5) -> dict:
    """Return the risk dimension for one candidate: error rates at the decision threshold, calibration error before
    and after calibration, and the review share from calibrated confidence (raw where `outcome` has none)."""
    result: dict = {"explainability": explainability}
    if task == "regression":
        result.update(false_positive_rate=None, false_negative_rate=None, calibration_error=None, review_share=None)
        if groups is not None:
            result["group_gaps"] = _group_gaps(groups, lambda m: float(np.mean(np.abs(outcome.pred[m] - outcome.y[m]))), "mae")
        return result
    fpr, fnr = _error_rates(outcome)
    raw = outcome.proba.max(axis=1)
    calibrated, about = outcome.confidence()
    result.update(
        decision_threshold=round(decision_threshold, 4) if task == "binary" else "argmax",
        false_positive_rate=fpr,
        false_negative_rate=fnr,
        calibration_error_raw=expected_calibration_error(raw, outcome.pred == outcome.y),
        calibration_error=expected_calibration_error(calibrated, about == outcome.y),
        review_threshold=review_threshold,
        review_share_raw=float(np.mean(raw < review_threshold)),
        review_share=float(np.mean(calibrated < review_threshold)),
    )
    if groups is not None:
        result["group_gaps"] = _group_gaps(groups, lambda m: float(np.mean(outcome.acted[m] == outcome.y[m])), "accuracy",
                                           extra=lambda m: dict(zip(("false_positive_rate", "false_negative_rate"),
                                                                    _error_rates(outcome, m), strict=True)))
    return result


def _group_gaps(groups: np.ndarray, score, metric: str, extra=None) -> dict:
    per_group = {}
    for value in np.unique(groups):
        mask = groups == value
        if mask.sum() < MIN_GROUP_ROWS:
            continue
        entry = {"rows": int(mask.sum()), metric: score(mask)}
        if extra is not None:
            entry.update(extra(mask))
        per_group[str(value)] = entry
    gaps = {}
    if len(per_group) >= 2:
        for key in next(iter(per_group.values())):
            if key == "rows":
                continue
            values = [g[key] for g in per_group.values() if g[key] is not None and not np.isnan(g[key])]
            if values:
                gaps[key] = float(max(values) - min(values))
    return {"metric": metric, "groups": per_group, "gaps": gaps}
