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


DOMINANT_FALL = 0.10  # a fall of 10 points (bounded metrics) or 10% of the score (error metrics) from one column
MIN_DOMINANT_FALL = 0.01  # below 1 point (or 1%) of fall, a column that outweighs the rest is noise, not a warning


def dominant_column(display_name: str, importance: dict | None, score: float) -> dict | None:
    """Return the warning for a column that carries most of a model's score, or None.

    A column dominates when shuffling it costs more than shuffling all the others together, or when it costs more
    than `DOMINANT_FALL` on its own. Either way it may be known only after the outcome (a follow-up time, a
    status set later), so the warning asks. It is not a leak verdict: the leak rule stays as it is.
    """
    from depthgauge.assessment.quality import LABELS

    if not importance or not importance.get("features"):
        return None
    metric = importance["metric"]
    features = importance["features"]
    top, rest = features[0], sum(max(f["drop"], 0.0) for f in features[1:])
    relative = metric in LOWER_IS_BETTER  # an error metric has no fixed scale: its fall is a share of the score
    scale = max(abs(score), 1e-12) if relative else 1.0
    fall = top["drop"] / scale
    if not (fall >= DOMINANT_FALL or (top["drop"] > rest and fall >= MIN_DOMINANT_FALL)):
        return None

    def amount(x: float) -> str:
        return f"{x / scale:.0%} of the score" if relative else f"{x * 100:.1f} points"

    message = (f"'{top['feature']}' carries most of the {LABELS[metric]} of {display_name}: shuffled, it costs "
               f"{amount(top['drop'])}; all other columns together cost {amount(rest)}. Is its value known at "
               f"prediction time? If it is recorded only after the outcome, rerun with --drop {top['feature']}.")
    return {"column": top["feature"], "model": display_name, "metric": metric, "fall": top["drop"],
            "others_together": rest, "message": message}
