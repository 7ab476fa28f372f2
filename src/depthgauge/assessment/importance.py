"""Permutation feature importance on the test rows: how much the primary metric drops when one column is shuffled.

Computed for every tabular candidate through its own `predict`/`predict_proba`, so a network's
importance is measured the same way as a tree's. The repeats give an interval (the 2.5th to the
97.5th percentile of the drops); their count, and the rows used, fit the time the plan allows.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from depthgauge.assessment.quality import LOWER_IS_BETTER, weighted_metrics

MAX_ROWS = 2000  # a fixed random sample of the test rows, the same for every candidate
MAX_REPEATS = 5
MIN_REPEATS = 2


def _scorer(task: str, metric: str, positive_label):
    from depthgauge.assessment.evaluation import outcome_of

    def score(model, X, y) -> float:
        outcome = outcome_of(model, task, X, y, positive_label)
        value = float(weighted_metrics(task, outcome, np.ones((1, len(y))), only=metric)[metric][0])
        return -value if metric in LOWER_IS_BETTER else value  # sklearn: higher is better

    return score


def sample_rows(n: int, seed: int, most: int = MAX_ROWS) -> np.ndarray:
    """Return the positions of the test rows importance is measured on."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:most])


def permutation_importance_of(model, task: str, metric: str, X: pd.DataFrame, y: np.ndarray, positive_label,
                              seed: int, allowance_s: float) -> dict | None:
    """Return {"features": [{"feature", "drop", "low", "high"}, ...] most important first, "repeats", "rows"},
    or None when not even two repeats fit in `allowance_s`."""
    from sklearn.inspection import permutation_importance

    score = _scorer(task, metric, positive_label)
    started = time.perf_counter()
    score(model, X, y)  # one scoring pass: what each shuffled column will cost
    per_pass = time.perf_counter() - started
    repeats = min(MAX_REPEATS, int(allowance_s / max(per_pass * X.shape[1], 1e-9)))
    if repeats < MIN_REPEATS:
        return None
    found = permutation_importance(model, X, y, scoring=score, n_repeats=repeats, random_state=seed, n_jobs=1)
    rows = [{"feature": str(name), "drop": float(found.importances_mean[i]),
             "low": float(np.percentile(found.importances[i], 2.5)),
             "high": float(np.percentile(found.importances[i], 97.5))} for i, name in enumerate(X.columns)]
    rows.sort(key=lambda r: -r["drop"])
    return {"features": rows, "repeats": repeats, "rows": len(X), "metric": metric}
