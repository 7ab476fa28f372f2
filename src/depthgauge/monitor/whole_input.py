"""Drift of the whole input at once: a classifier two-sample test.

Per-feature tests miss a shift in how features go together: two features each as common as before, but now
high together. Here a gradient-boosted classifier learns to tell reference rows (a sample of the training rows,
kept in the version's reference) from live rows (a sample of each stretch of the log). It is trained on half of the
rows and scored on the other half: an ROC-AUC near 0.5 means it cannot tell them apart. The p-value comes from
permuting the held-out half's labels against its fixed scores (valid, because the classifier never saw that half).
The features that drive it are those whose shuffling costs the most AUC on the held-out half.

Per-feature alarms keep their own Bonferroni correction (`drift.py`); this is one more test, at ALPHA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHA = 0.05
MIN_ROWS = 100  # of each sample
PERMUTATIONS = 1000
DRIVERS = 5


def _frame(sample: dict) -> pd.DataFrame:
    frame = pd.DataFrame(sample["rows"], columns=sample["columns"])
    for column in sample["categorical"]:
        frame[column] = frame[column].astype("string").fillna("__missing__").astype("category")
    for column in sample["numeric"] + sample["boolean"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC by ranks (Mann-Whitney), ties counted half."""
    ranks = pd.Series(scores).rank().to_numpy()
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def whole_input_drift(reference: dict | None, live: dict | None, seed: int = 0) -> dict:
    """Return {status, auc, p_value, drifted, drivers, rows} for the joint samples `reference` and `live`."""
    if reference is not None and not reference["columns"]:
        return {"status": "not applicable", "reason": "no numeric, boolean or categorical inputs"}
    if reference is None:
        return {"status": "no reference rows", "reason": "the version was registered before whole-input drift was "
                                                         "measured; retrain or re-assess to get it"}
    rows = {"reference": len(reference["rows"]), "live": len((live or {}).get("rows", []))}
    if min(rows.values()) < MIN_ROWS:
        return {"status": "insufficient data", "rows": rows,
                "reason": f"the whole-input test needs {MIN_ROWS} rows of each; it has {rows}"}
    from sklearn.ensemble import HistGradientBoostingClassifier

    shared = {**reference, "rows": reference["rows"] + live["rows"]}
    frame = _frame(shared)
    labels = np.r_[np.zeros(rows["reference"], int), np.ones(rows["live"], int)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    train, held = order[: len(order) // 2], order[len(order) // 2:]
    if len(np.unique(labels[held])) < 2 or len(np.unique(labels[train])) < 2:
        return {"status": "insufficient data", "rows": rows, "reason": "one sample is too small to split"}
    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False,
                                           categorical_features="from_dtype", random_state=seed)
    model.fit(frame.iloc[train], labels[train])
    scores = model.predict_proba(frame.iloc[held])[:, 1]
    auc = _auc(labels[held], scores)
    # The held-out scores stay fixed, so their ranks do too: each permutation only moves the labels over them.
    ranks = pd.Series(scores).rank().to_numpy()
    positives = int(labels[held].sum())
    shuffled = rng.permuted(np.tile(labels[held], (PERMUTATIONS, 1)), axis=1)
    permuted = ((shuffled * ranks).sum(axis=1) - positives * (positives + 1) / 2) / (positives * (len(held) - positives))
    p_value = float((1 + np.sum(permuted >= auc)) / (1 + PERMUTATIONS))
    drivers = []
    if p_value < ALPHA:
        for column in frame.columns:
            shuffled = frame.iloc[held].copy()
            shuffled[column] = rng.permutation(shuffled[column].to_numpy())
            drop = auc - _auc(labels[held], model.predict_proba(shuffled)[:, 1])
            drivers.append({"feature": column, "auc_drop": float(drop)})
        drivers = sorted((d for d in drivers if d["auc_drop"] > 0), key=lambda d: -d["auc_drop"])[:DRIVERS]
    return {"status": "measured", "auc": auc, "p_value": p_value, "drifted": p_value < ALPHA, "drivers": drivers,
            "rows": rows, "alpha": ALPHA}


def merge_samples(samples: list[dict], size: int, seed: int = 0) -> dict | None:
    """Pool the joint samples of several stretches, keeping at most `size` rows (drawn evenly at random)."""
    samples = [s for s in samples if s]
    if not samples:
        return None
    rows = [row for s in samples for row in s["rows"]]
    if len(rows) > size:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), size, replace=False))
        rows = [rows[i] for i in keep]
    return {**samples[0], "rows": rows}
