"""Replay as a release gate: a candidate version scored on the inputs production actually served, before it serves.

`replay` reads the production version's logged inputs over a window (from the prediction log, never from training
data), predicts them with the candidate, and sets the two side by side on the same rows:
- agreement: the share of answers the candidate gives as production did;
- estimated quality: each model's label-free estimate of the primary metric (`data.estimation`) on these inputs;
- labelled quality, where feedback or reviews gave labels: a paired bootstrap of (candidate - production);
- latency: per-row prediction time of both, measured now on the same rows;
- cost: each version's monthly cost of ownership from its scorecard.
`gate` checks the result against a policy file (`replay.yaml`): pass, fail, or review (too many disagreements: a
person looks first). When the policy asks for it, promotion to production runs the gate (`gate_promotion`), and
every gate run is in the audit log.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from depthgauge.assessment import quality
from depthgauge.data import estimation
from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit
from depthgauge.monitor.profiles import parse_window
from depthgauge.monitor.report import MIN_LABELS
from depthgauge.registry.predictor import Predictor, load_model
from depthgauge.registry.service import resolve
from depthgauge.serve.predict import REDACTED
from depthgauge.store.tables import FeedbackRow, ModelVersionRow, PredictionLogRow, actor_of, utcnow
from depthgauge.yamlfile import read_yaml

BUILTIN = Path(__file__).parent / "replay.yaml"
POLICY_FILE = "replay.yaml"
MAX_ROWS = 50_000  # the most recent logged predictions of the window that are replayed
LATENCY_ROWS = 200  # rows timed one at a time, for each model
_NUMBERS = ("min_rows", "max_estimated_drop", "max_labelled_drop", "max_p99_latency_ms", "review_above_disagreement")


@dataclass(frozen=True)
class ReplayPolicy:
    required_for_production: bool
    window: str
    min_rows: int
    max_estimated_drop: float
    max_labelled_drop: float
    max_p99_latency_ms: float
    review_above_disagreement: float
    source: str


def policy_path(home: Path, given: str | Path | None = None) -> Path:
    """The policy file: the one given, else the workspace's replay.yaml, else the built-in one."""
    if given is not None:
        return Path(given)
    own = Path(home) / POLICY_FILE
    return own if own.exists() else BUILTIN


def load_policy(path: str | Path) -> ReplayPolicy:
    """Return the policy in `path`; an unknown or malformed field is an error naming its line."""
    document = read_yaml(path, "Replay policy file")
    data = document.data if isinstance(document.data, dict) else None
    if data is None:
        raise document.error("must be a mapping of settings. See the built-in policy: " + str(BUILTIN))
    builtin = read_yaml(BUILTIN, "Replay policy file").data
    unknown = sorted(set(data) - set(builtin))
    if unknown:
        raise document.error(f"unknown setting '{unknown[0]}'; the settings are {', '.join(builtin)}", unknown[0])
    merged = {**builtin, **data}
    if not isinstance(merged["required_for_production"], bool):
        raise document.error("required_for_production must be true or false", "required_for_production")
    for key in _NUMBERS:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise document.error(f"{key} must be a number of at least 0, not {value!r}", key)
    if merged["review_above_disagreement"] > 1:
        raise document.error("review_above_disagreement is a share between 0 and 1", "review_above_disagreement")
    try:
        parse_window(str(merged["window"]))
    except DepthgaugeError as exc:
        raise document.error(str(exc), "window") from None
    return ReplayPolicy(merged["required_for_production"], str(merged["window"]), int(merged["min_rows"]),
                        *(float(merged[k]) for k in _NUMBERS[1:]), str(path))


# Reading the traffic ----------------------------------------------------------------------------

@dataclass
class Traffic:
    request_ids: list[str]
    inputs: pd.DataFrame
    outputs: list[dict]
    labels: dict[str, object]  # request id -> the latest label given
    redacted: list[str]


def logged_traffic(session, version: ModelVersionRow, window: str) -> Traffic:
    """The version's logged predictions in `window` (at most MAX_ROWS, the most recent), with their labels."""
    spec = parse_window(window)
    log = PredictionLogRow
    query = select(log.request_id, log.inputs, log.output).where(log.ref == version.ref)
    if spec.since is not None:
        query = query.where(log.at >= utcnow() - spec.since)
    limit = min(spec.last or MAX_ROWS, MAX_ROWS)
    rows = session.execute(query.order_by(log.at.desc(), log.request_id.desc()).limit(limit)).all()[::-1]
    ids = [r.request_id for r in rows]
    labels: dict[str, object] = {}
    for start in range(0, len(ids), 1000):
        for request_id, label in session.execute(
                select(FeedbackRow.request_id, FeedbackRow.label).where(FeedbackRow.request_id.in_(ids[start:start + 1000]))
                .order_by(FeedbackRow.created_at)):
            labels[request_id] = label
    columns = [c["name"] for c in version.input_schema["columns"]]
    inputs = pd.DataFrame([r.inputs for r in rows], columns=columns)
    redacted = [c for c in columns if (inputs[c].astype("string") == REDACTED).any()]
    for column in redacted:  # redacted before logging: replayed as missing
        inputs[column] = inputs[column].where(inputs[column].astype("string") != REDACTED, None)
    return Traffic(ids, inputs, [r.output for r in rows], labels, redacted)


# Scoring both models on it --------------------------------------------------------------------

@dataclass
class Side:
    """One model of the comparison: what it answered on the replayed inputs, and what it is."""

    ref: str
    predictor: Predictor  # answers the replayed inputs, and is timed on them
    reference: dict | None
    scorecard: dict
    logged: bool = False  # production: its answers are the ones the log holds, as it gave them at the time
    predicted: np.ndarray | None = None
    proba: np.ndarray | None = None
    classes: list[str] | None = None


def _answers(side: Side, traffic: Traffic, task: str) -> None:
    if side.logged:
        side.predicted = np.array([o.get("prediction") for o in traffic.outputs], dtype=object)
        if task != "regression":
            side.classes = sorted({str(c) for o in traffic.outputs for c in (o.get("probabilities") or {})})
            side.proba = np.array([[float((o.get("probabilities") or {}).get(c, np.nan)) for c in side.classes]
                                   for o in traffic.outputs], float).reshape(len(traffic.outputs), len(side.classes))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unseen categories are answered as training handled rare ones
        try:
            side.predicted = np.asarray(side.predictor.predict(traffic.inputs), dtype=object)
            if task != "regression":
                side.proba = np.asarray(side.predictor.predict_proba(traffic.inputs), float)
                side.classes = [str(c) for c in side.predictor.classes_]
        except DepthgaugeError as exc:
            raise DepthgaugeError(f"{side.ref} cannot predict the inputs production logged: {exc}") from None


def _scores(side: Side, estimator: dict) -> tuple[np.ndarray, np.ndarray | None]:
    if estimator["task"] == "multiclass":
        return np.nanmax(side.proba, axis=1), None
    positive = estimator["positive_class"]
    column = side.classes.index(positive) if positive in side.classes else None
    scores = side.proba[:, column] if column is not None else np.full(len(side.predicted), np.nan)
    return scores, np.array([str(p) == positive for p in side.predicted])


def _estimated(candidate: Side, production: Side, metric: str) -> dict | None:
    estimates = {}
    for name, side in (("candidate", candidate), ("production", production)):
        estimator = (side.reference or {}).get("estimator")
        if estimator is None or side.proba is None:
            return None
        estimates[name] = estimation.estimate(estimation.window_sums(estimator, *_scores(side, estimator)))
    chosen = metric if all(e.get(metric) for e in estimates.values()) else "accuracy"
    if not all(e.get(chosen) for e in estimates.values()):
        return None
    return {"metric": chosen, "candidate": estimates["candidate"][chosen], "production": estimates["production"][chosen],
            "difference": estimates["candidate"][chosen]["value"] - estimates["production"][chosen]["value"]}


def _labelled(candidate: Side, production: Side, traffic: Traffic, task: str, metric: str) -> dict | None:
    rows = [i for i, request_id in enumerate(traffic.request_ids) if request_id in traffic.labels]
    if len(rows) < MIN_LABELS:
        return {"labels": len(rows), "delta": None}
    labels = [traffic.labels[traffic.request_ids[i]] for i in rows]
    if task == "regression":
        y = np.array(labels, float)
        outcomes = [quality.Outcome(y, np.asarray(side.predicted[rows], float)) for side in (candidate, production)]
    else:
        classes = candidate.classes
        codes = {c: k for k, c in enumerate(classes)}
        kept = [k for k, label in enumerate(labels) if str(label) in codes]
        rows, y = [rows[k] for k in kept], np.array([codes[str(labels[k])] for k in kept])
        positive = codes.get(((candidate.reference or {}).get("estimator") or {}).get("positive_class"), 1)
        outcomes = []
        for side in (candidate, production):
            order = [side.classes.index(c) if c in side.classes else None for c in classes]
            proba = np.column_stack([side.proba[rows, j] if j is not None else np.zeros(len(rows)) for j in order])
            pred = np.array([codes.get(str(p), -1) for p in side.predicted[rows]])
            outcomes.append(quality.Outcome(y, pred, np.nan_to_num(proba), positive))
    if metric == "roc_auc" and len(np.unique(outcomes[0].y)) < 2:
        metric = "accuracy"
    delta = quality.paired_bootstrap_delta(task, metric, outcomes[0], outcomes[1], 1000, seed=0)
    return {"labels": len(outcomes[0].y), "metric": metric, "delta": delta.as_dict()}


def _latency(side: Side, frame: pd.DataFrame) -> dict:
    predict = side.predictor.predict_proba if side.predictor.classes_ is not None else side.predictor.predict
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(frame)):
            row = frame.iloc[[i]]
            started = time.perf_counter()
            predict(row)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)), "rows": len(times)}


def _agreement(candidate: Side, production: Side, task: str) -> dict:
    if task == "regression":
        a, b = np.asarray(candidate.predicted, float), np.asarray(production.predicted, float)
        tolerance = 0.05 * (float(np.std(b)) or 1.0)
        return {"share": float(np.mean(np.abs(a - b) <= tolerance)), "rule": "within 5% of production's spread",
                "mean_abs_difference": float(np.mean(np.abs(a - b)))}
    same = np.array([str(a) == str(b) for a, b in zip(candidate.predicted, production.predicted, strict=True)])
    return {"share": float(same.mean()), "rule": "the same class", "differing": int((~same).sum())}


def replay_models(candidate: Side, production: Side, traffic: Traffic, task: str, metric: str,
                  policy: ReplayPolicy, against: str) -> dict:
    """Score `candidate` on `traffic` beside `production`'s logged answers; return the report with its gate."""
    report = {"candidate": candidate.ref, "production": production.ref, "against": against, "window": policy.window,
              "rows": len(traffic.request_ids), "redacted_columns": traffic.redacted, "task": task,
              "agreement": None, "estimated": None, "labelled": None, "latency": None, "cost": None}
    if report["rows"]:
        _answers(production, traffic, task)
        _answers(candidate, traffic, task)
        report["agreement"] = _agreement(candidate, production, task)
        report["estimated"] = _estimated(candidate, production, metric) if task != "regression" else None
        report["labelled"] = _labelled(candidate, production, traffic, task, metric)
        sample = traffic.inputs.iloc[np.linspace(0, len(traffic.inputs) - 1, min(LATENCY_ROWS, len(traffic.inputs)))
                                     .astype(int)]
        report["latency"] = {"candidate": _latency(candidate, sample), "production": _latency(production, sample)}
    monthly = {name: ((side.scorecard or {}).get("cost") or {}).get("monthly_total_usd")
               for name, side in (("candidate", candidate), ("production", production))}
    report["cost"] = {"monthly_usd": monthly, "difference_usd": None if None in monthly.values() else
                      monthly["candidate"] - monthly["production"]}
    report["gate"] = gate(report, policy)
    return report


def gate(report: dict, policy: ReplayPolicy) -> dict:
    """Return {outcome: pass | fail | review, reasons, policy}: the report checked against the policy's limits."""
    failed, review = [], []
    if report["rows"] < policy.min_rows:
        failed.append(f"only {report['rows']:,} logged predictions of {report['production']} to replay in the window "
                      f"({policy.window}); the policy needs {policy.min_rows:,}")
    estimated = report["estimated"]
    if estimated is not None and estimated["difference"] < -policy.max_estimated_drop:
        failed.append(f"the estimated {estimated['metric']} falls by {-estimated['difference']:.4f} on production's "
                      f"traffic ({estimated['production']['value']:.4f} → {estimated['candidate']['value']:.4f}); the "
                      f"policy allows {policy.max_estimated_drop:g}")
    labelled = report["labelled"]
    if labelled and labelled["delta"] is not None and labelled["delta"]["high"] < -policy.max_labelled_drop:
        delta = labelled["delta"]
        failed.append(f"on {labelled['labels']:,} labelled predictions the candidate's {labelled['metric']} is worse "
                      f"by {-delta['value']:.4f} (95% interval {delta['low']:+.4f} to {delta['high']:+.4f})")
    latency = (report["latency"] or {}).get("candidate")
    if latency and latency["p99_ms"] > policy.max_p99_latency_ms:
        failed.append(f"p99 latency {latency['p99_ms']:.1f} ms per row exceeds the policy's {policy.max_p99_latency_ms:g} ms")
    agreement = report["agreement"]
    if agreement and 1 - agreement["share"] > policy.review_above_disagreement:
        review.append(f"{1 - agreement['share']:.1%} of answers differ from production's, above the policy's "
                      f"{policy.review_above_disagreement:.0%}: a person should look at them before it serves")
    outcome = "fail" if failed else "review" if review else "pass"
    return {"outcome": outcome, "reasons": failed + review, "policy": policy.source}


# Entry points -----------------------------------------------------------------------------------

def replay(workspace, candidate_ref: str, against: str, policy: ReplayPolicy, window: str | None = None,
           reviewed: str | None = None, actor: str | None = None) -> dict:
    """Replay production's logged traffic through `candidate_ref`; record the gate's result in the audit log, as
    done by `actor` (default: the person at this terminal)."""
    if window is not None:
        policy = replace(policy, window=window)
    with workspace.session() as session:
        production = resolve(session, against)
        candidate = resolve(session, candidate_ref)
        if candidate.id == production.id:
            raise DepthgaugeError(f"{candidate.ref} is the version {against} names: replay a different version "
                                  "against it.")
        task = production.lineage["task"]
        if candidate.lineage["task"] != task:
            raise DepthgaugeError(f"{candidate.ref} is a {candidate.lineage['task']} model and {production.ref} a "
                                  f"{task} one: replay compares models of the same task.")
        traffic = logged_traffic(session, production, policy.window)
        metric = quality.PRIMARY[task]
        candidate_side, production_side = (
            Side(v.ref, load_model(v.ref, workspace=workspace), v.reference, v.scorecard, logged=v is production)
            for v in (candidate, production))
        names = (candidate.model_name, candidate.version)
    report = replay_models(candidate_side, production_side, traffic, task, metric, policy, against)
    report["reviewed"] = reviewed
    with workspace.transaction(actor=actor) as session:
        audit.record(session, actor_of(session), "model.replay", f"model:{names[0]}:{names[1]}",
                     {"against": production.ref, "outcome": report["gate"]["outcome"],
                      "reasons": report["gate"]["reasons"], "rows": report["rows"], "reviewed": reviewed,
                      "agreement": (report["agreement"] or {}).get("share"),
                      "estimated_difference": (report["estimated"] or {}).get("difference")})
    return report


def gate_promotion(workspace, reference: str, alias: str, reviewed: str | None = None,
                   policy_file: str | Path | None = None, actor: str | None = None) -> dict | None:
    """Run the replay gate before `reference` becomes `alias`, when the policy requires it for production.

    Return the replay report (None when no gate applies); raise a `DepthgaugeError` with the reasons when the gate
    fails, or asks for review and no `reviewed` note says a person looked."""
    policy = load_policy(policy_path(workspace.home, policy_file))
    if alias != "production" or not policy.required_for_production:
        return None
    with workspace.session() as session:
        version = resolve(session, reference)
        try:
            production = resolve(session, f"{version.model_name}@production")
        except DepthgaugeError:
            return None  # the first production version: there is no traffic to replay yet
        if production.id == version.id:
            return None
    report = replay(workspace, version.ref, production.ref, policy, reviewed=reviewed, actor=actor)
    outcome = report["gate"]["outcome"]
    if outcome == "fail" or (outcome == "review" and not reviewed):
        fix = ("Look at the disagreements, then promote with --reviewed \"what you checked\"." if outcome == "review"
               else f"See: depthgauge replay {version.ref} --against {production.ref}")
        raise DepthgaugeError(f"Promotion of {version.ref} to production refused: the replay gate ({policy.source}) "
                              f"says {outcome}: " + "; ".join(report["gate"]["reasons"]) + f". {fix}")
    return report
