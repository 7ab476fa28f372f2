"""Drift of live inputs and predictions against a version's reference profile.

Live traffic is summarised the same way as the reference (see `profile_values`): counts over
the reference's bins or categories, missing values, and a sample of numbers. Per feature: the
population stability index (PSI) and Jensen–Shannon distance over those counts, and a test —
Kolmogorov–Smirnov for numerics, chi-square for categories — from scipy. A feature counts as
drifted only when the shift is both large (PSI at least 0.2, the usual "act on it" line) and
significant (p below 0.05 divided by the number of features tested, a Bonferroni correction):
a big window makes every test significant, a small one makes PSI noisy, and requiring both
keeps false alarms rare at any window size. A numeric feature whose share of missing values
rose by 0.2 or more counts as drifted too. A free-text feature is compared as a category over its words: the
shares of the training rows' 100 most common words and of all others together (chi-square over word counts is
quick to call a shift significant, so the PSI line does the judging there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from depthgauge.data.reference import OTHER, feature_values, words

PSI_DRIFT = 0.2
MISSING_RISE = 0.2
ALPHA = 0.05
MIN_ROWS = 50
SAMPLE_PER_PROFILE = 500  # numbers kept per summarised stretch of traffic, for the KS test
KS_LIVE_SAMPLE = 5000  # the KS test sees at most this many of them; PSI and JS see every row
MISSING = "__missing__"
_EPSILON = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(np.asarray(expected, float), _EPSILON, None)
    a = np.clip(np.asarray(actual, float), _EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


# Summaries of live traffic ---------------------------------------------------------------

def profile_values(reference: dict, values, rng: np.random.Generator) -> dict:
    """Return the mergeable summary of `values` for a feature (or prediction) with this reference profile."""
    if reference["kind"] == "numeric":
        numbers = np.asarray(values, float)
        present = numbers[~np.isnan(numbers)]
        edges = np.asarray(reference["edges"])
        counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
        sample = present if len(present) <= SAMPLE_PER_PROFILE else rng.choice(present, SAMPLE_PER_PROFILE,
                                                                                replace=False)
        return {"counts": counts.tolist(), "missing": int(len(numbers) - len(present)),
                "sample": [float(f"{v:.6g}") for v in sample]}
    if reference["kind"] == "text":
        known = reference["shares"]
        counted: dict[str, int] = {}
        for text in values:
            for word in words(text):
                key = word if word in known else OTHER
                counted[key] = counted.get(key, 0) + 1
        return {"counts": counted}
    counts = pd.Series(values, dtype="object").astype("string").fillna(MISSING).value_counts()
    return {"counts": {str(k): int(v) for k, v in counts.items()}}


def profile_frame(reference: dict, frame: pd.DataFrame, seed: int = 0) -> dict[str, dict]:
    """Return the summary of every referenced input feature of `frame` (absent columns count as missing)."""
    rng = np.random.default_rng(seed)
    summaries = {}
    for name, ref in reference["features"].items():
        series = frame[name] if name in frame else pd.Series([None] * len(frame), dtype="object")
        summaries[name] = profile_values(ref, feature_values(ref, series), rng)
    return summaries


def merge(summaries: list[dict]) -> dict:
    """Return the summary of all of `summaries` together (counts add up, samples join)."""
    first = summaries[0]
    if isinstance(first["counts"], list):
        return {"counts": np.sum([s["counts"] for s in summaries], axis=0).tolist(),
                "missing": sum(s["missing"] for s in summaries),
                "sample": [v for s in summaries for v in s["sample"]]}
    counts: dict[str, int] = {}
    for s in summaries:
        for key, n in s["counts"].items():
            counts[key] = counts.get(key, 0) + n
    return {"counts": counts}


# Measures ----------------------------------------------------------------------------------

def _numeric(reference: dict, live: dict, rng: np.random.Generator) -> dict:
    counts = np.asarray(live["counts"], float)
    present = counts.sum()
    shares = counts / max(present, 1)
    sample = np.asarray(live["sample"], float)
    if len(sample) > KS_LIVE_SAMPLE:
        sample = rng.choice(sample, KS_LIVE_SAMPLE, replace=False)
    test = stats.ks_2samp(reference["sample"], sample) if len(sample) and reference["sample"] else None
    total = present + live["missing"]
    return {"test": "kolmogorov-smirnov", "statistic": None if test is None else float(test.statistic),
            "p_value": None if test is None else float(test.pvalue), "psi": psi(reference["shares"], shares),
            "js_distance": float(jensenshannon(reference["shares"], shares, base=2)) if present else None,
            "missing_share": float(live["missing"] / total) if total else 0.0,
            "reference_missing_share": reference["missing_share"],
            "live_median": float(np.median(sample)) if len(sample) else None}


def _categorical(reference: dict, live: dict) -> dict:
    """Chi-square and PSI over the categories training saw; categories it never saw are their own signal
    (`unseen_share`, counted by the service as they arrive), not drift of the column."""
    known = reference["shares"]
    observed_by_key = {k: 0.0 for k in known}
    unseen = 0
    for category, count in live["counts"].items():
        if category in observed_by_key:
            observed_by_key[category] += count
        elif OTHER in observed_by_key:
            observed_by_key[OTHER] += count
        else:
            unseen += count
    total = int(sum(live["counts"].values()))
    keys = list(known)
    observed = np.array([observed_by_key[k] for k in keys], float)
    n = float(observed.sum())
    expected_shares = np.array([known[k] for k in keys], float)
    smoothed = np.clip(expected_shares, _EPSILON, None)
    smoothed /= smoothed.sum()
    test = stats.chisquare(observed, smoothed * n) if n else None
    live_shares = observed / max(n, 1)
    top = sorted(zip(keys, live_shares - expected_shares), key=lambda kv: -abs(kv[1]))[:3]
    return {"test": "chi-square", "statistic": None if test is None else float(test.statistic),
            "p_value": None if test is None else float(test.pvalue),
            "psi": psi(expected_shares, live_shares) if n else 0.0,
            "js_distance": float(jensenshannon(smoothed, live_shares, base=2)) if n else None,
            "unseen_share": unseen / max(total, 1), "largest_changes": {k: round(float(d), 4) for k, d in top}}


def _judge(result: dict, alpha: float) -> dict:
    p = result.get("p_value")
    shifted = result["psi"] >= PSI_DRIFT and p is not None and p < alpha
    emptier = result.get("missing_share", 0.0) - result.get("reference_missing_share", 0.0) >= MISSING_RISE
    result["drifted"] = bool(shifted or emptier)
    result["reason"] = "distribution shifted" if shifted else ("more values missing" if emptier else None)
    return result


def compare(reference: dict, live: dict, alpha: float, rng: np.random.Generator) -> dict:
    """Return the drift measures of one feature (or the predictions) from its reference and live summaries."""
    measured = _numeric(reference, live, rng) if reference["kind"] == "numeric" else _categorical(reference, live)
    return _judge(measured, alpha)


def feature_drift(reference: dict, live: dict[str, dict], seed: int = 0) -> dict[str, dict]:
    """Return the drift measures of every referenced feature, most drifted first."""
    rng = np.random.default_rng(seed)
    alpha = ALPHA / max(len(reference["features"]), 1)
    results = {name: compare(ref, live[name], alpha, rng) for name, ref in reference["features"].items()}
    return dict(sorted(results.items(), key=lambda kv: (-kv[1]["drifted"], -kv[1]["psi"])))


def drift_score(features: dict[str, dict], importance: dict[str, float]) -> float:
    """Return the share of features that drifted, weighted by importance where it is known."""
    if not features:
        return 0.0
    weights = {name: max(float(importance.get(name, 0.0)), 0.0) for name in features}
    if sum(weights.values()) <= 0:
        weights = {name: 1.0 for name in features}
    total = sum(weights.values())
    return float(sum(w for name, w in weights.items() if features[name]["drifted"]) / total)
