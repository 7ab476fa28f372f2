"""Model-quality metrics with bootstrap 95% intervals, the paired bootstrap between two models, and the
corrected resampled t interval over repeated splits.

Every metric is written for row weights: weight 1 for every row gives the point estimate
(equal to scikit-learn's), and multinomial resampling counts give bootstrap replicates, all
vectorized. Two models scored with the same counts give a paired bootstrap for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthgauge.metrics import LABELS, LOWER_IS_BETTER, METRICS, PRIMARY  # noqa: F401  (the catalog, used here)

BOOTSTRAP_RESAMPLES = 1000
_CHUNK = 100


@dataclass
class Outcome:
    """What a candidate produced on the test rows. Classes are integer codes; `positive` is the positive class."""

    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None = None
    positive: int = 1
    calibrated: np.ndarray | None = None  # calibrated P(positive) (binary) or P(predicted class); calibration.py
    decided: np.ndarray | None = None  # the class acted on, from calibrated probabilities; None: `pred`

    def confidence(self) -> tuple[np.ndarray, np.ndarray]:
        """Return each row's confidence and the class it is about: calibrated where a calibration was fitted."""
        if self.calibrated is None:
            return self.proba.max(axis=1), self.pred
        if self.proba.shape[1] == 2:
            q = self.calibrated
            return np.maximum(q, 1.0 - q), np.where(q >= 0.5, self.positive, 1 - self.positive)
        return self.calibrated, self.pred

    @property
    def acted(self) -> np.ndarray:
        """Return the classes the money figures act on: decisions from calibrated probabilities where made."""
        return self.pred if self.decided is None else self.decided


@dataclass
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high}


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def _weighted_auc(scores: np.ndarray, is_positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    order = np.argsort(scores, kind="mergesort")
    sorted_scores, positive = scores[order], is_positive[order]
    w = weights[:, order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    group = np.repeat(np.arange(len(first)), counts)
    negative_w = w * (~positive)
    positive_w = w * positive
    cumulative = np.concatenate([np.zeros((len(w), 1)), np.cumsum(negative_w, axis=1)], axis=1)
    below = cumulative[:, first]
    tied = cumulative[:, first + counts] - below
    credit = (below + 0.5 * tied)[:, group]
    numerator = (positive_w * credit).sum(axis=1)
    denominator = positive_w.sum(axis=1) * negative_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _log_loss_rows(outcome: Outcome) -> np.ndarray:
    eps = np.finfo(outcome.proba.dtype).eps  # as scikit-learn clips
    p = np.clip(outcome.proba[np.arange(len(outcome.y)), outcome.y], eps, 1.0)
    return -np.log(p)


def weighted_metrics(task: str, outcome: Outcome, weights: np.ndarray, only: str | None = None) -> dict[str, np.ndarray]:
    """Return each metric of `task` (or just `only`) for every row of `weights` (shape: replicates × rows)."""
    if only in ("roc_auc", "log_loss") and outcome.proba is not None and task == "binary":
        if only == "log_loss":
            return {"log_loss": (weights @ _log_loss_rows(outcome)) / weights.sum(axis=1)}
        return {"roc_auc": _weighted_auc(outcome.proba[:, outcome.positive], outcome.y == outcome.positive, weights)}
    if only == "accuracy":
        return {"accuracy": (weights @ (outcome.y == outcome.pred)) / weights.sum(axis=1)}
    y, pred = outcome.y, outcome.pred
    total = weights.sum(axis=1)
    if task == "regression":
        error = pred.astype(float) - y.astype(float)
        squared = weights @ (error ** 2)
        centred = weights @ (y ** 2) - (weights @ y) ** 2 / total
        return {
            "mae": (weights @ np.abs(error)) / total,
            "rmse": np.sqrt(squared / total),
            "r2": 1.0 - _divide(squared, centred),
        }
    out = {"accuracy": (weights @ (y == pred)) / total}
    if task == "binary":
        pos = outcome.positive
        actual, said = y == pos, pred == pos
        tp, fp, fn = weights @ (actual & said), weights @ (~actual & said), weights @ (actual & ~said)
        out["precision"] = _divide(tp, tp + fp)
        out["recall"] = _divide(tp, tp + fn)
        out["f1"] = _divide(2 * tp, 2 * tp + fp + fn)
        if outcome.proba is not None:
            out["roc_auc"] = _weighted_auc(outcome.proba[:, pos], actual, weights)
    else:
        n_classes = outcome.proba.shape[1] if outcome.proba is not None else int(max(y.max(), pred.max())) + 1
        precision, recall, f1, auc = [], [], [], []
        for k in range(n_classes):
            actual, said = y == k, pred == k
            if not (actual.any() or said.any()):
                continue
            tp, fp, fn = weights @ (actual & said), weights @ (~actual & said), weights @ (actual & ~said)
            precision.append(_divide(tp, tp + fp))
            recall.append(_divide(tp, tp + fn))
            f1.append(_divide(2 * tp, 2 * tp + fp + fn))
            if outcome.proba is not None and actual.any() and (~actual).any():
                auc.append(_weighted_auc(outcome.proba[:, k], actual, weights))
        out["precision"], out["recall"], out["f1"] = (np.mean(m, axis=0) for m in (precision, recall, f1))
        if auc:
            out["roc_auc"] = np.nanmean(auc, axis=0)
    if outcome.proba is not None:
        out["log_loss"] = (weights @ _log_loss_rows(outcome)) / total
    return out


def _resample_counts(n: int, resamples: int, seed: int):
    rng = np.random.default_rng(seed)
    uniform = np.full(n, 1.0 / n)
    for start in range(0, resamples, _CHUNK):
        yield rng.multinomial(n, uniform, size=min(_CHUNK, resamples - start)).astype(np.float64)


def quality_with_intervals(task: str, outcome: Outcome, resamples: int = BOOTSTRAP_RESAMPLES,
                           seed: int = 0) -> dict[str, Interval]:
    """Return every metric with its bootstrap 95% percentile interval."""
    point = weighted_metrics(task, outcome, np.ones((1, len(outcome.y))))
    replicates: dict[str, list[np.ndarray]] = {k: [] for k in point}
    for counts in _resample_counts(len(outcome.y), resamples, seed):
        for name, values in weighted_metrics(task, outcome, counts).items():
            replicates[name].append(values)
    result = {}
    for name, value in point.items():
        values = np.concatenate(replicates[name])
        low, high = np.nanpercentile(values, [2.5, 97.5])
        result[name] = Interval(float(value[0]), float(low), float(high))
    return result


def mean_with_interval(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> Interval:
    """Return the mean of per-row `values` with its bootstrap 95% percentile interval (the same resampling)."""
    x = np.asarray(values, dtype=float)
    means = np.concatenate([counts @ x / len(x) for counts in _resample_counts(len(x), resamples, seed)])
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(x.mean()), float(low), float(high))


def paired_bootstrap_delta(task: str, metric: str, challenger: Outcome, reference: Outcome,
                           resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> Interval:
    """Return how much better `challenger` is than `reference` on `metric` (positive = better), with a 95% interval.

    Both are scored on the same resampled rows each time, so the interval reflects the
    difference between the models, not the noise each has alone.
    """
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    ones = np.ones((1, len(challenger.y)))
    point = sign * (weighted_metrics(task, challenger, ones)[metric] - weighted_metrics(task, reference, ones)[metric])
    deltas = []
    for counts in _resample_counts(len(challenger.y), resamples, seed):
        a = weighted_metrics(task, challenger, counts, only=metric)[metric]
        b = weighted_metrics(task, reference, counts, only=metric)[metric]
        deltas.append(sign * (a - b))
    low, high = np.nanpercentile(np.concatenate(deltas), [2.5, 97.5])
    return Interval(float(point[0]), float(low), float(high))


def estimate_bootstrap_seconds(task: str, n_rows: int, n_classes: int, resamples: int) -> float:
    """Return the expected seconds of `quality_with_intervals` on `n_rows`, timed on a small synthetic run."""
    import time

    rng = np.random.default_rng(0)
    k = 1 if task == "regression" else n_classes
    y = rng.integers(0, max(k, 2), n_rows) if task != "regression" else rng.normal(size=n_rows)
    proba = None if task == "regression" else rng.dirichlet(np.ones(max(k, 2)), n_rows)
    pred = proba.argmax(axis=1) if proba is not None else rng.normal(size=n_rows)
    outcome = Outcome(y, pred, proba, 1)
    probe = 20
    started = time.perf_counter()
    counts = rng.multinomial(n_rows, np.full(n_rows, 1.0 / n_rows), size=probe).astype(np.float64)
    weighted_metrics(task, outcome, counts)
    return (time.perf_counter() - started) * resamples / probe * 1.1


def is_better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def paired_margin(differences: np.ndarray) -> float:
    """Return the 95% margin of error of the mean of paired per-row differences (normal approximation)."""
    if len(differences) < 2:
        return 0.0
    return float(1.96 * np.std(differences, ddof=1) / np.sqrt(len(differences)))


def wilson_interval(successes: int, n: int, z: float = 1.96) -> Interval:
    """Return a share with its 95% Wilson score interval (sound near 0 and 1, unlike the normal approximation)."""
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def corrected_resampled_interval(differences, test_train_ratio: float, confidence: float = 0.95) -> Interval:
    """Return the mean of per-split differences with the corrected resampled t interval (Nadeau & Bengio, 2003).

    The K splits share most of their training rows, so their differences are correlated and the
    plain t interval (variance s²/K) is far too narrow. Nadeau and Bengio's correction replaces
    1/K with 1/K + n_test/n_train, which accounts for that overlap; the interval uses Student's t
    with K - 1 degrees of freedom. It is chosen over a two-level bootstrap because with the 3 to
    10 splits a budget allows, resampling splits gives a coarse, too narrow distribution, while
    the corrected t interval is the standard, well-studied answer for repeated random splits.
    """
    from scipy.stats import t

    d = np.asarray(differences, dtype=float)
    k = len(d)
    if k < 2:
        raise ValueError("the corrected resampled t interval needs at least two splits")
    spread = float(np.std(d, ddof=1))
    half = float(t.ppf(0.5 + confidence / 2, k - 1)) * np.sqrt((1.0 / k + test_train_ratio)) * spread
    mean = float(d.mean())
    return Interval(mean, mean - half, mean + half)


def splits_to_decide(spread: float, needed_half_width: float, test_train_ratio: float,
                     confidence: float = 0.95, most: int = 50) -> int | None:
    """Return the fewest splits whose corrected interval would be narrower than `needed_half_width`, or None."""
    from scipy.stats import t

    if needed_half_width <= 0:
        return None
    if spread == 0:
        return 2
    for k in range(2, most + 1):
        if t.ppf(0.5 + confidence / 2, k - 1) * np.sqrt(1.0 / k + test_train_ratio) * spread < needed_half_width:
            return k
    return None


def score_over_splits(result, metric: str, test_train_ratio: float) -> None:
    """Make the candidate's `metric` the mean over its repeated splits with the corrected resampled interval, so
    that one set of numbers is shown everywhere (scorecard, report, registry, card); split 1's bootstrap interval
    is kept in `params["split_1"]`. Fewer than two scored splits leave split 1's figures in place."""
    scores = [s for s in result.split_scores or [] if s is not None]
    if len(scores) < 2 or metric not in result.quality:
        return
    result.params.setdefault("split_1", {metric: result.quality[metric].as_dict()})  # kept from the first call
    interval = corrected_resampled_interval(scores, test_train_ratio)
    bounded = metric in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "balanced_accuracy")
    low, high = (max(interval.low, 0.0), min(interval.high, 1.0)) if bounded else (interval.low, interval.high)
    result.quality[metric] = Interval(interval.value, low, high)
    result.params["score_basis"] = (f"{metric}: the mean over {len(scores)} repeated splits with the corrected "
                                    "resampled t interval")
