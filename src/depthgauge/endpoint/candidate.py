"""A vendor endpoint as an `assess` candidate: the same test rows, the same five dimensions as the project's models.

A failed call is never dropped: it is counted by class, and scored as what a production system would fall back
to — the training rows' majority class (or mean), with their class shares as probabilities.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from depthgauge.assessment import business, operations, quality, risk
from depthgauge.assessment.results import CandidateResult
from depthgauge.cost.ownership import CostTerms, call_cost
from depthgauge.endpoint.cache import ResponseCache
from depthgauge.endpoint.client import CallResult, call_many
from depthgauge.endpoint.spec import EndpointSpec, check_columns, extract, load_spec

FAMILY = "endpoint"


def _read(spec: EndpointSpec, call: CallResult, task: str, classes: list[str]) -> tuple:
    """Return (prediction, confidence, tokens) of an answered call, or mark the call failed (bad_response/unknown_label)."""
    try:
        raw = extract(call.response, spec.prediction_path)
    except KeyError as exc:
        call.ok, call.error_class, call.error = False, "bad_response", f"no '{exc.args[0]}' in the answer (response.prediction)"
        return None, None, None
    tokens = spec.tokens(call.response)
    if task == "regression":
        try:
            return float(raw), None, tokens
        except (TypeError, ValueError):
            call.ok, call.error_class, call.error = False, "bad_response", f"prediction {raw!r} is not a number"
            return None, None, tokens
    label = spec.labels.get(str(raw), str(raw))
    if label not in classes:
        call.ok, call.error_class = False, "unknown_label"
        call.error = f"label {raw!r} is not a class of the target ({', '.join(classes)}); map it with response.labels"
        return None, None, tokens
    confidence = 1.0
    if spec.confidence_path:
        try:
            confidence = float(extract(call.response, spec.confidence_path))
        except (KeyError, TypeError, ValueError):
            call.ok, call.error_class, call.error = False, "bad_response", "no numeric confidence (response.confidence)"
            return None, None, tokens
        if not 0.0 <= confidence <= 1.0:
            call.ok, call.error_class, call.error = False, "bad_response", f"confidence {confidence} is outside 0-1"
            return None, None, tokens
    return label, confidence, tokens


def evaluate_endpoint(spec: EndpointSpec, workspace, rows: pd.DataFrame, task: str, y_train: np.ndarray,
                      y_test: np.ndarray, positive_label: str | None, terms: CostTerms, resamples: int, seed: int,
                      review_threshold: float, groups, matrix, on_progress=None) -> CandidateResult:
    """Call the endpoint on every test row and return its five dimensions as a candidate."""
    result = CandidateResult(f"endpoint:{spec.name}", f"{spec.name} (vendor endpoint)", FAMILY, False, "ok",
                             {"endpoint": spec.public()})
    bodies = [spec.body(row) for row in rows[spec.columns].to_dict("records")]
    batch = call_many(spec, bodies, cache=ResponseCache(workspace, spec.name), on_progress=on_progress)
    n = len(bodies)
    classes = sorted(set(y_train.tolist())) if task != "regression" else []
    billed = [c.ok and not c.cached and not c.shared for c in batch.results]  # answered now: paid, usable or not
    read = [_read(spec, c, task, classes) if c.ok else (None, None, None) for c in batch.results]
    answered = np.array([c.ok for c in batch.results])
    errors = dict(Counter(c.error_class for c in batch.results if not c.ok))
    if task == "regression":
        fallback = float(np.mean(y_train.astype(float)))
        pred = np.array([p if ok else fallback for (p, _, _), ok in zip(read, answered)], dtype=float)
        outcome = quality.Outcome(y_test.astype(float), pred)
    else:
        index = {c: i for i, c in enumerate(classes)}
        prior = np.array([np.mean(y_train == c) for c in classes])
        proba = np.tile(prior, (n, 1))
        for i, ((label, confidence, _), ok) in enumerate(zip(read, answered)):
            if ok:
                rest = (1.0 - confidence) / (len(classes) - 1) if len(classes) > 1 else 0.0
                proba[i] = rest
                proba[i, index[label]] = confidence
        predicted = proba.argmax(axis=1)
        outcome = quality.Outcome(np.array([index[v] for v in y_test]), predicted, proba,
                                  index[positive_label] if positive_label is not None else 1)
    result.outcome = outcome
    result.quality = quality.quality_with_intervals(task, outcome, resamples, seed)

    latencies = [c.latency_ms for c, ok in zip(batch.results, answered) if ok and not c.shared]
    live = [c for c in batch.results if not c.cached and not c.shared]
    result.operations = operations.Operations(
        latency_p50_ms=operations.percentile(latencies, 50), latency_p99_ms=operations.percentile(latencies, 99),
        throughput_rows_per_s=(len(live) / batch.wall_s) if batch.wall_s > 0 else float("nan"), fit_seconds=0.0,
        peak_memory_mb=0.0, artifact_bytes=0, latencies_ms=latencies)
    tokens = [t for (_, _, t), ok in zip(read, answered) if ok and t is not None]
    mean_tokens = float(np.mean(tokens)) if tokens else 0.0
    per_1k = 1000.0 * spec.cost_per_call(mean_tokens)
    result.risk = risk.risk_metrics(task, outcome, review_threshold, groups, "none")
    result.cost = call_cost(spec.name, per_1k, result.risk.get("review_share"), terms)
    result.risk.update(error_rate=(n - int(answered.sum())) / n if n else 0.0,
                       timeout_rate=errors.get("timeout", 0) / n if n else 0.0, errors=errors)
    result.business = business.business_impact(task, outcome, matrix, result.cost)
    spent = sum(spec.cost_per_call(t) for paid, (_, _, t) in zip(billed, read) if paid)
    examples = [{"row": i, "class": c.error_class, "error": c.error} for i, c in enumerate(batch.results) if not c.ok][:5]
    result.params.update(
        calls=n, answered=int(answered.sum()), live_calls=batch.live_calls, attempts=batch.attempts,
        from_cache=sum(c.cached and not c.shared for c in batch.results),
        repeated_requests=sum(c.shared for c in batch.results), wall_seconds=batch.wall_s, errors=errors,
        error_examples=examples, mean_tokens=mean_tokens if spec.tokens_path else None, spent_usd=spent,
        fallback="the training majority class and class shares" if task != "regression" else "the training mean")
    return result


class EndpointCandidate:
    """A vendor endpoint in the shape `assess` takes outside candidates in (`external=`): a name, the file it was
    read from, a check before anything is trained, and an evaluation on the test rows."""

    def __init__(self, spec: EndpointSpec, path: str):
        self.spec, self.path, self.name = spec, path, spec.name

    @classmethod
    def from_file(cls, path) -> "EndpointCandidate":
        return cls(load_spec(path), str(path))

    def check(self, columns: list[str], target: str) -> None:
        """Raise a DepthgaugeError if the endpoint cannot be called on these rows: a column it reads is missing, or
        its key is not in the environment (found now, before anything is trained or called)."""
        check_columns(self.spec, columns, target)
        self.spec.auth_headers()

    def public(self) -> dict:
        return self.spec.public()

    def evaluate(self, workspace, rows: pd.DataFrame, task: str, y_train, y_test, positive_label, terms, resamples,
                 seed, review_threshold, groups, matrix, on_progress=None) -> CandidateResult:
        return evaluate_endpoint(self.spec, workspace, rows, task, y_train, y_test, positive_label, terms, resamples,
                                 seed, review_threshold, groups, matrix, on_progress)


def endpoint_candidates(paths) -> list[EndpointCandidate]:
    """The endpoint specs at `paths` (`assess --endpoint`), read and checked, as candidates for `assess`."""
    return [EndpointCandidate.from_file(path) for path in paths]
