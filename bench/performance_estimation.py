"""How close the label-free quality estimate comes to the truth, window by window, on real data sets.

For each data set a quarter of the rows is held back as future traffic. `depthgauge assess` runs on the rest (1m
budget), which calibrates each classifier on its holdout as it does in use; the LightGBM version's estimator is read
from the registry and the traffic is predicted by `load_model`. Windows of 500 and of 2,000 rows are drawn from the traffic
with replacement, under four conditions:
- none: drawn at random;
- covariate shift: drawn with weights exp(k * z), z the standardised most important numeric feature, k = ±0.5, ±1;
- label-prior shift: drawn so that the positive class (multiclass: the first class) is 20%, 35%, 65% or 80%;
- concept shift: the label flipped for the rows above the median of that feature, the inputs unchanged.
Each window's estimate comes from the monitor's own functions (`window_sums`, `estimate`); the truth from the labels.
Reported per data set and condition: the mean absolute estimation error of accuracy and ROC-AUC (binary), and how
often the truth lies in the estimate's interval. Under concept shift: how often the labelled quality and the
estimate disagree by the monitor's own test (`compared_with_labels`).

Regressors (direct loss estimation) get the same windows, with a target shift (drawn by the standardised target) in
place of the prior shift and a concept shift that raises the target by one standard deviation in the segment; their
MAE and RMSE errors are reported also relative to the truth (the 0.02 goal is for accuracy and ROC-AUC).

Data, none downloaded: statsmodels' Fair's affairs (6,366 rows: any affair; and its amount, for regression) and RAND
health visits (20,190 rows: any visit; and the count, for regression), scikit-learn's digits (1,797 images as 64
pixel columns, 10 classes), breast cancer (569 rows) and diabetes (442 rows, regression).
Needs: pip install -e '.[bench]'. About 6 minutes on 2 cores.

    .venv/bin/python bench/performance_estimation.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from verdict_suite import _fair, _sklearn, _statsmodels  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.assessment import quality  # noqa: E402
from depthgauge.data.estimation import estimate, loss_sums, window_sums  # noqa: E402
from depthgauge.monitor.report import compared_with_labels  # noqa: E402
from depthgauge.registry.predictor import load_model  # noqa: E402
from depthgauge.store.tables import ModelVersionRow  # noqa: E402
from depthgauge.workspace import Workspace  # noqa: E402

WINDOW_SIZES = (500, 2_000)  # the monitor's default window is 10,000; smaller ones show the truth's own noise
WINDOWS_PER_SETTING = 10
GOAL = 0.02


def _randhie():
    frame = _statsmodels("randhie")
    frame["visited"] = np.where(frame.pop("mdvis") > 0, "yes", "no")
    return frame


def _digits():
    frame = _sklearn("digits", "digit")
    frame["digit"] = "d" + frame["digit"].astype(str)
    return frame


def _fair_amount():
    frame = _statsmodels("fair")
    frame["affairs"] = frame["affairs"].round(3)
    return frame


SETS = {
    "fair_affairs": (_fair, "had_affair"),
    "randhie_any_visit": (_randhie, "visited"),
    "digits": (_digits, "digit"),
    "breast_cancer": (lambda: _sklearn("breast_cancer", "diagnosis"), "diagnosis"),
    "randhie_visits_count": (lambda: _statsmodels("randhie"), "mdvis"),  # regression from here on
    "fair_affairs_amount": (_fair_amount, "affairs"),
    "diabetes": (lambda: _sklearn("diabetes", "progression"), "progression"),
}


def _prepared(name: str, home: Path):
    """Assess on three quarters of the set; return the estimator, the traffic's inputs, labels and model outputs."""
    load, target = SETS[name]
    frame = load().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(frame) * 0.75)
    seen, traffic = frame.iloc[:cut], frame.iloc[cut:].reset_index(drop=True)
    started = time.perf_counter()
    depthgauge.assess(seen, target=target, time_budget="1m", home=home, name=name,
                      candidates=("dummy", "linear", "lightgbm"))
    assess_s = time.perf_counter() - started
    with Workspace.open(home) as workspace, workspace.session() as session:
        version = next(session.get(ModelVersionRow, v.id) for v in session.query(ModelVersionRow)
                       if v.model_name == name and v.family == "lightgbm")
        reference, scorecard, ref = version.reference, version.scorecard, version.ref
    predictor = load_model(ref, home=home)
    inputs = traffic.drop(columns=[target])
    if predictor.classes_ is None:  # a regressor
        proba, classes, predicted = None, [], np.asarray(predictor.predict(inputs), float)
        labels = traffic[target].to_numpy(float)
    else:
        proba = predictor.predict_proba(inputs)
        classes = [str(c) for c in predictor.classes_]
        predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        labels = traffic[target].astype(str).to_numpy()
    importance = reference.get("importance") or {}
    numeric = [c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c]) and inputs[c].nunique() > 5]
    feature = max(numeric, key=lambda c: importance.get(c, 0.0))
    return {"estimator": reference["estimator"], "classes": classes, "proba": proba, "predicted": predicted,
            "labels": labels, "inputs": inputs, "feature": inputs[feature].to_numpy(float),
            "feature_name": feature, "assess_s": assess_s, "holdout": scorecard["quality"], "rows": len(frame)}


def _truth(task: str, labels, predicted, proba, classes, positive) -> dict:
    if task == "regression":
        error = np.asarray(labels, float) - np.asarray(predicted, float)
        return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error ** 2)))}
    truth = {"accuracy": float(np.mean(labels == predicted))}
    if task == "binary" and len(np.unique(labels)) == 2:
        truth["roc_auc"] = float(roc_auc_score(labels == positive, proba[:, classes.index(positive)]))
    return truth


def _estimated(estimator: dict, rows, data) -> dict:
    if estimator["task"] == "regression":
        return estimate(loss_sums(estimator, data["inputs"].iloc[rows].reset_index(drop=True), data["predicted"][rows]))
    if estimator["task"] == "binary":
        positive = estimator["positive_class"]
        sums = window_sums(estimator, data["proba"][rows, data["classes"].index(positive)],
                           data["predicted"][rows] == positive)
    else:
        sums = window_sums(estimator, data["proba"][rows].max(axis=1))
    return estimate(sums)


def _windows(data: dict, rng: np.random.Generator, size: int):
    """Yield (condition, setting, row indices, labels) for every window of `size` rows."""
    n = len(data["labels"])
    z = (data["feature"] - np.nanmean(data["feature"])) / (np.nanstd(data["feature"]) or 1.0)
    z = np.nan_to_num(z)
    focus = data["estimator"].get("positive_class") or (data["classes"] or [None])[0]
    for _ in range(WINDOWS_PER_SETTING):
        rows = rng.choice(n, size)
        yield "none", "random", rows, data["labels"][rows]
    for k in (-1.0, -0.5, 0.5, 1.0):
        weights = np.exp(k * np.clip(z, -3, 3))
        for _ in range(WINDOWS_PER_SETTING):
            rows = rng.choice(n, size, p=weights / weights.sum())
            yield "covariate", f"k={k:+g}", rows, data["labels"][rows]
    if data["estimator"]["task"] == "regression":
        yield from _regression_shifts(data, rng, size)
        return
    is_focus = data["labels"] == focus
    for share in (0.2, 0.35, 0.65, 0.8):
        weights = np.where(is_focus, share / is_focus.mean(), (1 - share) / (1 - is_focus.mean()))
        for _ in range(WINDOWS_PER_SETTING):
            rows = rng.choice(n, size, p=weights / weights.sum())
            yield "prior", f"{focus}={share:.0%}", rows, data["labels"][rows]
    segment = data["feature"] > np.nanmedian(data["feature"])
    for _ in range(WINDOWS_PER_SETTING):
        rows = rng.choice(n, size)
        labels = data["labels"][rows].copy()
        flip = segment[rows]
        if data["estimator"]["task"] == "binary":
            other = next(c for c in data["classes"] if c != focus)
            labels[flip] = np.where(labels[flip] == focus, other, focus)
        else:  # the next class in turn: a systematic change of the relation
            labels[flip] = [data["classes"][(data["classes"].index(c) + 1) % len(data["classes"])] for c in labels[flip]]
        yield "concept", "flipped above the median", rows, labels


def _regression_shifts(data: dict, rng: np.random.Generator, size: int):
    """Target shift (drawn by the standardised target, the regression twin of a prior shift) and a concept shift
    (the target raised by one standard deviation above the feature's median)."""
    n, labels = len(data["labels"]), data["labels"]
    z = np.clip((labels - labels.mean()) / (labels.std() or 1.0), -3, 3)
    for k in (-1.0, -0.5, 0.5, 1.0):
        weights = np.exp(k * z)
        for _ in range(WINDOWS_PER_SETTING):
            rows = rng.choice(n, size, p=weights / weights.sum())
            yield "prior", f"target k={k:+g}", rows, labels[rows]
    segment = data["feature"] > np.nanmedian(data["feature"])
    for _ in range(WINDOWS_PER_SETTING):
        rows = rng.choice(n, size)
        yield "concept", "target +1 sd above the median", rows, labels[rows] + segment[rows] * labels.std()


def run_set(name: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="dg-estimation-") as scratch:
        data = _prepared(name, Path(scratch) / "ws")
    estimator = data["estimator"]
    task, positive = estimator["task"], estimator.get("positive_class")
    metric = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}[task]
    return {"rows": data["rows"], "task": task, "assess_s": round(data["assess_s"], 1),
            "calibration": (estimator.get("calibration") or {"method": "loss model"})["method"],
            "validation_brier": estimator.get("validation_brier"),
            "holdout_rows": estimator["holdout_rows"], "shift_feature": data["feature_name"],
            "holdout_quality": {k: v["value"] for k, v in data["holdout"].items() if isinstance(v, dict)},
            "by_window_size": {str(size): _measure(data, task, positive, metric, size) for size in WINDOW_SIZES}}


def _measure(data: dict, task: str, positive: str | None, metric: str, size: int) -> dict:
    estimator = data["estimator"]
    rng = np.random.default_rng(0)
    windows = []
    for condition, setting, rows, labels in _windows(data, rng, size):
        estimated = _estimated(estimator, rows, data)
        proba = None if data["proba"] is None else data["proba"][rows]
        truth = _truth(task, labels, data["predicted"][rows], proba, data["classes"], positive)
        entry = {"condition": condition, "setting": setting}
        for key, value in truth.items():
            entry[key] = {"true": value, "estimated": estimated[key]["value"],
                          "error": abs(estimated[key]["value"] - value),
                          "relative_error": abs(estimated[key]["value"] - value) / value if value else None,
                          "covered": estimated[key]["low"] <= value <= estimated[key]["high"]}
        if condition == "concept":
            if task == "regression":
                outcome = quality.Outcome(np.asarray(labels, float), np.asarray(data["predicted"][rows], float))
            else:
                codes = {c: k for k, c in enumerate(data["classes"])}
                outcome = quality.Outcome(np.array([codes[c] for c in labels]),
                                          np.array([codes[c] for c in data["predicted"][rows]]), data["proba"][rows],
                                          codes.get(positive, 1))
            live = quality.quality_with_intervals(task, outcome, 500, seed=0)[metric].as_dict()
            entry["labels"] = compared_with_labels({"metric": metric, **estimated[metric]}, {"metric": metric, **live})
        windows.append(entry)
    summary = {}
    for condition in ("none", "covariate", "prior", "concept"):
        chosen = [w for w in windows if w["condition"] == condition]
        summary[condition] = {}
        for key in ("accuracy", "roc_auc", "mae", "rmse"):
            errors = [w[key]["error"] for w in chosen if key in w]
            if errors:
                summary[condition][key] = {"mean_abs_error": float(np.mean(errors)),
                                           "mean_relative_error": float(np.mean([w[key]["relative_error"]
                                                                                 for w in chosen if key in w])),
                                           "worst_abs_error": float(np.max(errors)),
                                           "interval_coverage": float(np.mean([w[key]["covered"] for w in chosen
                                                                               if key in w]))}
        if condition == "concept":
            summary[condition]["labels_disagree_share"] = float(np.mean([w["labels"].get("labels") == "disagree"
                                                                         for w in chosen]))
    primary_met = None if task == "regression" else all(summary[c][metric]["mean_abs_error"] <= GOAL
                                                         for c in ("covariate", "prior"))
    return {"summary": summary, "primary_metric": metric, "primary_goal_met": primary_met, "windows": windows}


def main() -> None:
    results = {}
    for name in SETS:
        started = time.perf_counter()
        results[name] = run_set(name)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
        for size, measured in results[name]["by_window_size"].items():
            print(f"  windows of {size}: goal met on {measured['primary_metric']}: {measured['primary_goal_met']}")
            for condition, figures in measured["summary"].items():
                print(f"    {condition}: " + ", ".join(
                    f"{key} {value['mean_abs_error']:.4f} ({value['mean_relative_error']:.1%} of the truth, coverage "
                    f"{value['interval_coverage']:.2f})"
                    if isinstance(value, dict) else f"{key} {value:.2f}" for key, value in figures.items()), flush=True)
    write_result("performance_estimation", {
        "window_sizes": list(WINDOW_SIZES), "windows_per_setting": WINDOWS_PER_SETTING, "goal_mean_abs_error": GOAL,
        "sets": results})


if __name__ == "__main__":
    main()
