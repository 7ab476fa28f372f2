"""The reference profile a model version is monitored against, built once at training time.

Numeric features: bin edges at the training data's deciles, the share in each bin and a small
sample (for the Kolmogorov–Smirnov test). Categorical and boolean features: the frequency of
each category seen. Free-text features: the frequency of the most common words (the rest pooled as one), so a
change in what people write is drift like any other. Predictions: class frequencies (and a sample of the top-class probability)
for classifiers, bins and a sample of the predicted values for regressors. Everything is JSON.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from depthgauge.data.values import as_bool

SAMPLE_SIZE = 1000  # for the KS test; six significant digits each keep the profile small
JOINT_ROWS = 1000  # whole training rows kept for the whole-input (classifier two-sample) drift test
MAX_CATEGORIES = 50
MAX_WORDS = 100  # words of a text column whose frequency is kept; the rest count together
TEXT_ROWS = 20_000  # training texts the word frequencies are counted on
OTHER = "__other__"
EMPTY = "__empty__"  # a missing or wordless text counts once as this
_WORD = re.compile(r"(?u)\b\w\w+\b")  # the words TF-IDF reads (two or more letters or digits)


def words(text) -> list[str]:
    """Return the words of one text as the monitor counts them (lower case; EMPTY for none)."""
    found = [] if text is None or (isinstance(text, float) and np.isnan(text)) else _WORD.findall(str(text).lower())
    return found or [EMPTY]


def feature_values(profile: dict, series: pd.Series) -> np.ndarray | pd.Series:
    """Return `series` as the profile compares it: numbers (booleans as 0/1), or categories."""
    if profile.get("boolean"):
        return as_bool(series).to_numpy(float)
    if profile["kind"] == "numeric":
        return pd.to_numeric(series, errors="coerce").to_numpy(float)
    return series


def _numeric_profile(values: np.ndarray, rng: np.random.Generator) -> dict:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return {"kind": "numeric", "edges": [], "shares": [1.0], "missing_share": 1.0, "sample": []}
    edges = np.unique(np.quantile(present, np.linspace(0.1, 0.9, 9)))
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    sample = present if len(present) <= SAMPLE_SIZE else rng.choice(present, SAMPLE_SIZE, replace=False)
    return {"kind": "numeric", "edges": edges.tolist(), "shares": (counts / counts.sum()).tolist(),
            "missing_share": float(1 - len(present) / len(values)),
            "sample": [float(f"{v:.6g}") for v in np.sort(sample)]}


def _categorical_profile(values: pd.Series) -> dict:
    counts = values.astype("string").fillna("__missing__").value_counts()
    kept = counts.iloc[:MAX_CATEGORIES]
    shares = (kept / counts.sum()).to_dict()
    if len(counts) > MAX_CATEGORIES:
        shares[OTHER] = float(counts.iloc[MAX_CATEGORIES:].sum() / counts.sum())
    return {"kind": "categorical", "shares": {str(k): float(v) for k, v in shares.items()}}


def _text_profile(values: pd.Series, rng: np.random.Generator) -> dict:
    if len(values) > TEXT_ROWS:
        values = values.iloc[np.sort(rng.choice(len(values), TEXT_ROWS, replace=False))]
    counts = Counter(w for text in values.tolist() for w in words(text))
    total = sum(counts.values()) or 1
    kept = dict(counts.most_common(MAX_WORDS))
    shares = {w: n / total for w, n in kept.items()}
    shares[OTHER] = (total - sum(kept.values())) / total
    return {"kind": "text", "shares": {w: float(v) for w, v in shares.items()}}


def build_reference(X_train: pd.DataFrame, roles: dict[str, list[str]], predictions: dict,
                    importance: dict[str, float] | None = None, seed: int = 0) -> dict:
    """Return the JSON-ready reference for a model trained on `X_train` whose holdout outputs are `predictions`."""
    rng = np.random.default_rng(seed)
    features = {}
    for name in roles.get("numeric", []):
        features[name] = _numeric_profile(pd.to_numeric(X_train[name], errors="coerce").to_numpy(float), rng)
    for name in roles.get("boolean", []):
        features[name] = {**_numeric_profile(as_bool(X_train[name]).to_numpy(float), rng), "boolean": True}
    for name in roles.get("categorical", []):
        features[name] = _categorical_profile(X_train[name])
    for name in roles.get("text", []):
        features[name] = _text_profile(X_train[name], rng)
    return {"rows": len(X_train), "features": features, "predictions": predictions,
            "importance": importance or {}, "not_monitored": roles.get("datetime", []),
            "joint_sample": joint_sample(X_train, roles.get("numeric", []), roles.get("boolean", []),
                                         roles.get("categorical", []), JOINT_ROWS, rng)}


def column_or_missing(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column `name` of `frame`, or all missing where traffic does not carry it (derived training columns)."""
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype="object")


def joint_sample(frame: pd.DataFrame, numeric: list[str], boolean: list[str], categorical: list[str], size: int,
                 rng: np.random.Generator) -> dict:
    """Return up to `size` whole rows of `frame`, JSON-ready: numbers (booleans as 0/1) to six significant digits,
    categories as text. Text, image and date columns are left out."""
    chosen = frame if len(frame) <= size else frame.iloc[np.sort(rng.choice(len(frame), size, replace=False))]
    numbers = [pd.to_numeric(column_or_missing(chosen, c), errors="coerce").to_numpy(float) for c in numeric]
    numbers += [as_bool(column_or_missing(chosen, c)).to_numpy(float) for c in boolean]
    texts = [column_or_missing(chosen, c).astype("string").to_numpy(dtype=object) for c in categorical]
    rows = [[None if np.isnan(column[i]) else float(f"{column[i]:.6g}") for column in numbers]
            + [None if pd.isna(column[i]) else str(column[i]) for column in texts] for i in range(len(chosen))]
    return {"columns": numeric + boolean + categorical, "numeric": numeric, "boolean": boolean,
            "categorical": categorical, "rows": rows}


def prediction_reference(task: str, predicted: np.ndarray, top_probability: np.ndarray | None, seed: int = 0) -> dict:
    """Return the reference of a model's outputs on the holdout: labels for classifiers, values for regressors."""
    rng = np.random.default_rng(seed)
    if task == "regression":
        return {"kind": "numeric", **{k: v for k, v in _numeric_profile(np.asarray(predicted, float), rng).items()
                                      if k != "kind"}}
    profile = _categorical_profile(pd.Series(predicted))
    if top_probability is not None:
        profile["confidence"] = _numeric_profile(np.asarray(top_probability, float), rng)
    return profile
