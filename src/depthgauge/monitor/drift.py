"""Drift of live inputs and predictions against a version's reference profile.

Per feature: the population stability index (PSI) and Jensen–Shannon distance over the
reference bins, and a test — Kolmogorov–Smirnov for numerics, chi-square for categories —
from scipy. A feature counts as drifted only when the shift is both large (PSI at least 0.2,
the usual "act on it" line) and significant (p below 0.05 divided by the number of features
tested, a Bonferroni correction): a big window makes every test significant, a small one
makes PSI noisy, and requiring both keeps false alarms rare at any window size. A numeric
feature whose share of missing values rose by 0.2 or more counts as drifted too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from depthgauge.monitor.reference import OTHER, feature_values

PSI_DRIFT = 0.2
MISSING_RISE = 0.2
ALPHA = 0.05
MIN_ROWS = 50
KS_LIVE_SAMPLE = 5000  # the KS test sees a random sample of the window; PSI and JS see every row
_EPSILON = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(np.asarray(expected, float), _EPSILON, None)
    a = np.clip(np.asarray(actual, float), _EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric(reference: dict, values: np.ndarray, rng: np.random.Generator) -> dict:
    present = values[~np.isnan(values)]
    edges = np.asarray(reference["edges"])
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    live = counts / max(counts.sum(), 1)
    sample = present if len(present) <= KS_LIVE_SAMPLE else rng.choice(present, KS_LIVE_SAMPLE, replace=False)
    test = stats.ks_2samp(reference["sample"], sample) if len(sample) and reference["sample"] else None
    return {"test": "kolmogorov-smirnov", "statistic": None if test is None else float(test.statistic),
            "p_value": None if test is None else float(test.pvalue), "psi": psi(reference["shares"], live),
            "js_distance": float(jensenshannon(reference["shares"], live, base=2)) if counts.sum() else None,
            "missing_share": float(1 - len(present) / max(len(values), 1)),
            "reference_missing_share": reference["missing_share"],
            "live_median": float(np.median(present)) if len(present) else None}


def _categorical(reference: dict, values: pd.Series) -> dict:
    known = reference["shares"]
    counts = values.astype("string").fillna("__missing__").value_counts()
    live = {k: 0.0 for k in known}
    unseen = 0
    for category, count in counts.items():
        if category in live:
            live[category] += count
        elif OTHER in live:
            live[OTHER] += count
        else:
            unseen += count
    n = int(counts.sum())
    keys = list(known) + (["__unseen__"] if unseen else [])
    observed = np.array([live.get(k, 0.0) for k in known] + ([unseen] if unseen else []), float)
    expected_shares = np.array([known[k] for k in known] + ([0.0] if unseen else []), float)
    smoothed = np.clip(expected_shares, _EPSILON, None)
    smoothed /= smoothed.sum()
    test = stats.chisquare(observed, smoothed * n) if n else None
    live_shares = observed / max(n, 1)
    top = sorted(zip(keys, live_shares - expected_shares), key=lambda kv: -abs(kv[1]))[:3]
    return {"test": "chi-square", "statistic": None if test is None else float(test.statistic),
            "p_value": None if test is None else float(test.pvalue), "psi": psi(expected_shares, live_shares),
            "js_distance": float(jensenshannon(smoothed, np.clip(live_shares, 0, None) + 0.0, base=2)) if n else None,
            "unseen_share": unseen / max(n, 1), "largest_changes": {k: round(float(d), 4) for k, d in top}}


def _judge(result: dict, alpha: float) -> dict:
    p = result.get("p_value")
    shifted = result["psi"] >= PSI_DRIFT and p is not None and p < alpha
    emptier = result.get("missing_share", 0.0) - result.get("reference_missing_share", 0.0) >= MISSING_RISE
    result["drifted"] = bool(shifted or emptier)
    result["reason"] = "distribution shifted" if shifted else ("more values missing" if emptier else None)
    return result


def feature_drift(reference: dict, frame: pd.DataFrame, seed: int = 0) -> dict[str, dict]:
    """Return the drift measures of every referenced feature of `frame`, most drifted first."""
    rng = np.random.default_rng(seed)
    alpha = ALPHA / max(len(reference["features"]), 1)
    results = {}
    for name, ref in reference["features"].items():
        if name not in frame:
            values = pd.Series([None] * len(frame), dtype="object")
        else:
            values = frame[name]
        if ref["kind"] == "numeric":
            result = _numeric(ref, feature_values(ref, values), rng)
        else:
            result = _categorical(ref, values)
        results[name] = _judge(result, alpha)
    return dict(sorted(results.items(), key=lambda kv: (-kv[1]["drifted"], -kv[1]["psi"])))


def prediction_drift(reference: dict, predictions: pd.Series, confidence: np.ndarray | None, seed: int = 0) -> dict:
    """Return the drift of the predicted labels (or values), and of the classifier's confidence."""
    rng = np.random.default_rng(seed)
    ref = reference["predictions"]
    if ref.get("kind") == "numeric":
        return _judge(_numeric(ref, pd.to_numeric(predictions, errors="coerce").to_numpy(float), rng), ALPHA)
    result = _judge(_categorical(ref, predictions.astype("string")), ALPHA)
    if confidence is not None and "confidence" in ref:
        result["confidence"] = _judge(_numeric(ref["confidence"], np.asarray(confidence, float), rng), ALPHA)
    return result


def drift_score(features: dict[str, dict], importance: dict[str, float]) -> float:
    """Return the share of features that drifted, weighted by importance where it is known."""
    if not features:
        return 0.0
    weights = {name: max(float(importance.get(name, 0.0)), 0.0) for name in features}
    if sum(weights.values()) <= 0:
        weights = {name: 1.0 for name in features}
    total = sum(weights.values())
    return float(sum(w for name, w in weights.items() if features[name]["drifted"]) / total)
