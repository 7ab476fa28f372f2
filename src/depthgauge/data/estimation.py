"""Label-free performance estimation: a classifier's quality on traffic whose labels have not arrived.

Confidence-based performance estimation. At assessment time the classifier's probabilities are calibrated on
the holdout (isotonic regression or temperature scaling, whichever scores better across five validation folds of
the holdout), so that of the rows given 0.8, eight in ten turn out right. On live traffic the calibrated
probabilities give the expected confusion matrix, and accuracy, precision, recall, F1 and ROC-AUC follow from it,
without a label. Each stretch of the log keeps sums that add up (`window_sums`), so a window of any size is
merged, never recomputed from its rows.

Where it holds and where it does not: it assumes that P(label | input) is what the holdout showed.
- Covariate shift (other inputs, the same relation): it tracks the truth.
- Label-prior shift (another mix of classes): ROC-AUC, which does not depend on the mix, holds. Accuracy, precision,
  recall and F1 hold only as far as the model separates the classes: for a model of ROC-AUC near 0.7 they were off
  by about 0.11 (`bench/performance_estimation.py`), because the unlabelled rows cannot tell a new class mix from
  new inputs. The primary metric of a binary classifier is ROC-AUC, so the alert rests on the figure that holds.
- Concept drift (the relation itself changes): it cannot see it. Only labels can tell, so the monitoring report
  sets the estimate beside the labelled quality whenever labels exist, and says when they disagree.

The intervals are the spread of the realised metric given the calibrated probabilities (normal approximations);
they leave out the error of the calibration itself. Binary classifiers get all five metrics; multiclass ones get
accuracy, from the calibrated probability of the predicted class.

Regressors get direct loss estimation: two small gradient-boosted models, fitted on the holdout, predict each row's
absolute and squared error from its inputs and the prediction; a window's MAE and RMSE are their means. It too is
blind to concept drift, and it can only predict errors of the size the holdout showed where inputs looked alike.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from depthgauge.data.reference import column_or_missing
from depthgauge.data.values import as_bool

FOLDS = 5
AUC_BINS = 64  # quantile bins of the holdout's scores; pairs within one bin count half
Z = 1.959964  # 95% normal quantile
BINARY_METRICS = ("accuracy", "roc_auc", "precision", "recall", "f1")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _fit_temperature(scores: np.ndarray, target: np.ndarray) -> dict:
    """The temperature T minimising the log loss of sigmoid(logit(score) / T)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import expit

    logits = _logit(scores)

    def loss(log_t: float) -> float:
        q = np.clip(expit(logits / math.exp(log_t)), 1e-12, 1 - 1e-12)
        return float(-np.mean(target * np.log(q) + (1 - target) * np.log(1 - q)))

    found = minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded")
    return {"method": "temperature", "temperature": float(math.exp(found.x))}


def _fit_isotonic(scores: np.ndarray, target: np.ndarray) -> dict:
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, target)
    return {"method": "isotonic", "x": [float(v) for v in fitted.X_thresholds_],
            "y": [float(v) for v in fitted.y_thresholds_]}


def calibrate(calibration: dict, scores) -> np.ndarray:
    """Return the calibrated probabilities of raw `scores` (NaN stays NaN)."""
    scores = np.asarray(scores, float)
    if calibration["method"] == "temperature":
        from scipy.special import expit

        return expit(_logit(scores) / calibration["temperature"])
    return np.interp(scores, calibration["x"], calibration["y"])


def review_confidence(review_calibration: dict | None, probabilities: dict | None, confidence: float | None):
    """Return a served answer's calibrated confidence, by the map its assessment fitted on validation rows (the one
    its review share was measured with); the raw confidence where there is no map."""
    if review_calibration is None or confidence is None or not probabilities:
        return confidence
    if review_calibration["task"] == "binary":
        q = float(calibrate(review_calibration["calibration"], [probabilities[review_calibration["positive_class"]]])[0])
        return max(q, 1.0 - q)
    return float(calibrate(review_calibration["calibration"], [confidence])[0])


def _choose(scores: np.ndarray, target: np.ndarray, seed: int) -> tuple[dict, dict]:
    """Fit both maps on the whole holdout; keep the one with the lower Brier score across validation folds."""
    fits = {"temperature": _fit_temperature, "isotonic": _fit_isotonic}
    brier = {name: 0.0 for name in fits}
    order = np.random.default_rng(seed).permutation(len(scores))
    folds = np.array_split(order, FOLDS)
    for held in folds:
        kept = np.setdiff1d(order, held)
        if len(np.unique(target[kept])) < 2:
            continue
        for name, fit in fits.items():
            brier[name] += float(np.sum((calibrate(fit(scores[kept], target[kept]), scores[held]) - target[held]) ** 2))
    best = min(brier, key=lambda name: (brier[name], name != "temperature"))  # a tie keeps the smoother map
    return fits[best](scores, target), {name: value / len(scores) for name, value in brier.items()}


def fit_estimator(task: str, proba: np.ndarray | None, y: np.ndarray, pred: np.ndarray, classes: list,
                  positive: int, seed: int = 0) -> dict | None:
    """Return the JSON-ready estimator of a classifier from its holdout outputs (integer class codes), or None
    where quality cannot be estimated without labels (regression, anomaly detection, no probabilities, a holdout
    with a single class)."""
    if task not in ("binary", "multiclass") or proba is None or len(y) < 2 * FOLDS:
        return None
    if task == "binary":
        scores, target = proba[:, positive], (y == positive).astype(float)
    else:
        scores, target = proba.max(axis=1), (pred == y).astype(float)
    if len(np.unique(target)) < 2:
        return None
    calibration, brier = _choose(scores, target, seed)
    estimator = {"task": task, "calibration": calibration, "validation_brier": brier, "holdout_rows": len(y)}
    if task == "binary":
        edges = np.unique(np.quantile(scores, np.linspace(0, 1, AUC_BINS + 1)[1:-1]))
        estimator.update(positive_class=str(classes[positive]), score_edges=[float(e) for e in edges])
    return estimator


def window_sums(estimator: dict, scores, predicted_positive=None) -> dict:
    """Return the sums one stretch of traffic adds to a window's estimate.

    `scores`: the probability of the positive class (binary) or of the predicted class (multiclass), as the model
    gave it; `predicted_positive`: whether each row was predicted positive (binary only). Missing scores are left out.
    """
    scores = np.asarray(scores, float)
    present = ~np.isnan(scores)
    q = calibrate(estimator["calibration"], scores[present])
    if estimator["task"] == "multiclass":
        return {"n": int(present.sum()), "correct": float(q.sum()), "variance": float(np.sum(q * (1 - q)))}
    said = np.asarray(predicted_positive, bool)[present]
    right = np.where(said, q, 1 - q)
    bins = np.searchsorted(np.asarray(estimator["score_edges"], float), scores[present], side="right")
    size = len(estimator["score_edges"]) + 1
    return {"n": int(present.sum()), "tp": float(q[said].sum()), "fp": float((1 - q[said]).sum()),
            "fn": float(q[~said].sum()), "tn": float((1 - q[~said]).sum()),
            "variance": float(np.sum(right * (1 - right))),
            "positives": np.bincount(bins, weights=q, minlength=size).tolist(),
            "negatives": np.bincount(bins, weights=1 - q, minlength=size).tolist()}


def merge_sums(parts: list[dict]) -> dict | None:
    """Add the sums of several stretches (those without any are skipped); None when none has any."""
    parts = [p for p in parts if p]
    if not parts:
        return None
    return {key: (np.sum([p[key] for p in parts], axis=0).tolist() if isinstance(parts[0][key], list)
                  else sum(p[key] for p in parts)) for key in parts[0]}


def _interval(value: float, se: float, low: float = 0.0, high: float = 1.0) -> dict:
    return {"value": value, "low": max(low, value - Z * se), "high": min(high, value + Z * se)}


def _share(value: float, n: float) -> dict:
    return _interval(value, math.sqrt(max(value * (1 - value), 0.0) / n)) if n > 0 else None


def estimate(sums: dict) -> dict:
    """Return each estimable metric of the window as {value, low, high}; a metric left undefined is None."""
    n = sums["n"]
    if not n:
        return {}
    if "abs" in sums:
        return _loss_estimate(sums)
    if "correct" in sums:
        return {"accuracy": _interval(sums["correct"] / n, math.sqrt(sums["variance"]) / n)}
    tp, fp, fn, tn = sums["tp"], sums["fp"], sums["fn"], sums["tn"]
    result = {"accuracy": _interval((tp + tn) / n, math.sqrt(sums["variance"]) / n),
              "precision": _share(tp / (tp + fp), tp + fp) if tp + fp > 0 else None,
              "recall": _share(tp / (tp + fn), tp + fn) if tp + fn > 0 else None,
              "f1": _share(2 * tp / (2 * tp + fp + fn), tp + (fp + fn) / 2) if tp + fp + fn > 0 else None,
              "roc_auc": None}
    positives, negatives = np.asarray(sums["positives"]), np.asarray(sums["negatives"])
    p, m = positives.sum(), negatives.sum()
    if p > 0 and m > 0:
        below = np.concatenate([[0.0], np.cumsum(negatives)[:-1]])
        auc = float(np.sum(positives * (below + negatives / 2)) / (p * m))
        q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)  # Hanley and McNeil's variance of the AUC
        variance = (auc * (1 - auc) + (p - 1) * (q1 - auc * auc) + (m - 1) * (q2 - auc * auc)) / (p * m)
        result["roc_auc"] = _interval(auc, math.sqrt(max(variance, 0.0)))
    return result


# Regression: direct loss estimation -----------------------------------------------------------

LOSS_MODEL = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 8, "min_child_samples": 10,
              "subsample": 0.8, "subsample_freq": 1, "verbose": -1}


def _loss_frame(estimator: dict, frame: pd.DataFrame, predicted) -> pd.DataFrame:
    """The loss model's inputs: numbers (booleans as 0/1), categories as codes of the holdout's categories (others
    missing), and the model's own prediction."""
    columns = {}
    for name in estimator["numeric"]:
        columns[name] = pd.to_numeric(column_or_missing(frame, name), errors="coerce").to_numpy(float)
    for name in estimator["boolean"]:
        columns[name] = as_bool(column_or_missing(frame, name)).to_numpy(float)
    for name, known in estimator["categories"].items():
        codes = {value: float(k) for k, value in enumerate(known)}
        columns[name] = column_or_missing(frame, name).astype("string").map(codes).astype(float).to_numpy()
    columns["__prediction__"] = np.asarray(predicted, float)
    return pd.DataFrame(columns)


def fit_loss_estimator(X: pd.DataFrame, predicted: np.ndarray, y: np.ndarray, shape: dict,
                       seed: int = 0) -> dict | None:
    """Return the JSON-ready direct loss estimator of a regressor, from its holdout inputs, predictions and truth:
    two small gradient-boosted models (LightGBM text) of the absolute and the squared error. None below 50 rows."""
    import lightgbm

    if len(y) < 50:
        return None
    estimator = {"task": "regression", "numeric": list(shape["numeric"]), "boolean": list(shape["boolean"]),
                 "categories": {name: sorted(X[name].astype("string").dropna().unique().tolist())[:200]
                                for name in shape["categorical"]}, "holdout_rows": len(y)}
    frame = _loss_frame(estimator, X, predicted)
    error = np.asarray(y, float) - np.asarray(predicted, float)
    order = np.random.default_rng(seed).permutation(len(y))
    for name, target in (("abs", np.abs(error)), ("sq", error ** 2)):
        out_of_fold = np.zeros(len(y))
        for held in np.array_split(order, FOLDS):
            kept = np.setdiff1d(order, held)
            fitted = lightgbm.LGBMRegressor(random_state=seed, **LOSS_MODEL).fit(frame.iloc[kept], target[kept])
            out_of_fold[held] = np.clip(fitted.predict(frame.iloc[held]), 0, None)
        final = lightgbm.LGBMRegressor(random_state=seed, **LOSS_MODEL).fit(frame, target)
        estimator[f"{name}_model"] = final.booster_.model_to_string()
        estimator[f"{name}_spread"] = float(np.mean((target - out_of_fold) ** 2))  # per-row variance around the model
    return estimator


_BOOSTERS: dict[str, object] = {}  # loss models by their text: parsed once per process, not once per stretch


def _booster(text: str):
    import lightgbm

    if text not in _BOOSTERS:
        if len(_BOOSTERS) > 32:
            _BOOSTERS.clear()
        _BOOSTERS[text] = lightgbm.Booster(model_str=text)
    return _BOOSTERS[text]


def loss_sums(estimator: dict, frame: pd.DataFrame, predicted) -> dict:
    """Return the sums one stretch of a regressor's traffic adds to a window's estimated MAE and RMSE."""
    predicted = np.asarray(predicted, float)
    present = ~np.isnan(predicted)
    features = _loss_frame(estimator, frame.loc[present], predicted[present])
    n = int(present.sum())
    if not n:
        return {"n": 0, "abs": 0.0, "sq": 0.0, "abs_spread": 0.0, "sq_spread": 0.0}
    absolute = np.clip(_booster(estimator["abs_model"]).predict(features), 0, None)
    squared = np.clip(_booster(estimator["sq_model"]).predict(features), 0, None)
    return {"n": n, "abs": float(absolute.sum()), "sq": float(squared.sum()),
            "abs_spread": n * estimator["abs_spread"], "sq_spread": n * estimator["sq_spread"]}


def _loss_estimate(sums: dict) -> dict:
    n = sums["n"]
    mae, mse = sums["abs"] / n, sums["sq"] / n
    se_mae, se_mse = math.sqrt(sums["abs_spread"]) / n, math.sqrt(sums["sq_spread"]) / n
    return {"mae": _interval(mae, se_mae, 0.0, math.inf),
            "rmse": {"value": math.sqrt(mse), "low": math.sqrt(max(mse - Z * se_mse, 0.0)), "high": math.sqrt(mse + Z * se_mse)}}
