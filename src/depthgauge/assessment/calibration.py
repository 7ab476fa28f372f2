"""Calibrated probabilities for every money figure: each classifier is calibrated on its own validation rows.

Raw confidence rewards overconfidence: a network that says 0.99 about everything sends nothing to review and
looks cheapest. So before the review share, the value matrix or the error rates are measured on the test rows,
each classifier's probabilities are mapped through a calibration fitted on the validation rows (never the test
rows), by the same chooser the monitor uses: isotonic regression or temperature scaling, whichever has the lower
Brier score across five folds (`data/estimation.py`).

- Binary: the probability q of the positive class is calibrated. Decisions are taken on it: at 0.5, or, with a
  value matrix, at the threshold where acting on a positive is worth more than not acting (Bayes' rule on
  calibrated probabilities). The review confidence is max(q, 1 - q).
- Multiclass: the probability of the predicted class is calibrated (top-label calibration); the decision stays
  the most probable class, and the calibrated probability is the review confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthgauge.data.estimation import calibrate, fit_estimator


@dataclass(frozen=True)
class Calibration:
    """A classifier's calibration map (as `data/estimation.py` stores it), and what it was fitted on."""

    task: str
    mapping: dict | None  # None: too few validation rows, or one class there; raw probabilities are used
    rows: int
    why_not: str | None = None

    def apply(self, proba: np.ndarray, positive: int) -> np.ndarray | None:
        """Return the calibrated P(positive) (binary) or P(most probable class) (multiclass); None if not fitted."""
        if self.mapping is None:
            return None
        raw = proba[:, positive] if self.task == "binary" else proba.max(axis=1)
        return np.clip(calibrate(self.mapping, raw), 0.0, 1.0)

    def as_dict(self) -> dict:
        return {"method": (self.mapping or {}).get("method", "none"), "validation_rows": self.rows,
                "why_not": self.why_not}


def fit_calibration(task: str, model, X_val, y_val, positive: int, seed: int) -> Calibration:
    """Return the calibration of a fitted classifier, fitted on its validation rows `X_val`, `y_val` (labels)."""
    if X_val is None or len(X_val) == 0:
        return Calibration(task, None, 0, "no validation rows")
    proba = model.predict_proba(X_val)
    index = {c: i for i, c in enumerate(model.classes_)}
    known = np.array([v in index for v in y_val])
    codes = np.array([index[v] for v in np.asarray(y_val)[known]])
    proba = proba[known]
    mapping = fit_estimator(task, proba, codes, proba.argmax(axis=1), list(model.classes_), positive, seed)
    if mapping is None:
        return Calibration(task, None, len(codes), "too few validation rows, or a single outcome among them")
    return Calibration(task, mapping["calibration"], len(codes))


def decision_threshold(matrix) -> float:
    """Return the calibrated probability of the positive class above which acting on it is worth more.

    With value v of each outcome, predicting positive is worth q·tp + (1 − q)·fp and negative q·fn + (1 − q)·tn;
    they are equal at q* = (tn − fp) / ((tp − fn) + (tn − fp)). Without a value matrix, 0.5.
    """
    if matrix is None:
        return 0.5
    gain_positive = matrix.get("tp") - matrix.get("fn")  # what calling a real positive positive is worth
    gain_negative = matrix.get("tn") - matrix.get("fp")  # what calling a real negative negative is worth
    total = gain_positive + gain_negative
    if total <= 0:
        return 1.0 if gain_negative >= gain_positive else 0.0
    return float(min(max(gain_negative / total, 0.0), 1.0))
