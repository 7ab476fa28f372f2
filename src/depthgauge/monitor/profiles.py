"""Log profiles: the prediction log of a version, summarised stretch by stretch, so a window of any size is cheap.

Each monitor run folds the log rows it has not seen into profiles of at most CHUNK_ROWS
predictions: per input feature the counts over the reference's bins or categories, missing
values and a sample of numbers (see `drift.profile_values`); the predictions and confidence
likewise; a latency histogram; the review count. A report over the last million predictions
merges a hundred profiles instead of parsing a million JSON records. Rows are read in the
order (time, request id) once they are SETTLE_S old, so a record committed a moment after its
timestamp is not skipped.

Windows are whole profiles: the most recent ones that hold at least N predictions, or those
that end within a span of now.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.exc import IntegrityError

from depthgauge.data import estimation
from depthgauge.data.reference import joint_sample
from depthgauge.errors import DepthgaugeError
from depthgauge.monitor import drift
from depthgauge.monitor.whole_input import merge_samples
from depthgauge.store.tables import LogProfileRow, ModelVersionRow, PredictionLogRow, utcnow

CHUNK_ROWS = 10_000
JOINT_ROWS_PER_PROFILE = 200  # whole rows kept per stretch, for the whole-input drift test
JOINT_ROWS_PER_WINDOW = 1000
SETTLE_S = 1.0
LATENCY_EDGES_MS = np.geomspace(1e-3, 1e5, 201)  # 10% wide bins: percentiles within 5%
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$")
MAX_WINDOW_COUNT = 999_999_999
MAX_WINDOW_SECONDS = 200 * 365 * 86400
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_ARROW_TYPES = {"number": pa.float64(), "boolean": pa.bool_(), "datetime": pa.string(), "category": pa.string(),
                "text": pa.string(), "image": pa.string()}


@dataclass
class WindowSpec:
    last: int | None = None  # the most recent N predictions
    since: timedelta | None = None  # or everything within this span of now

    def describe(self) -> str:
        if self.last is not None:
            return f"last {self.last:,} predictions"
        if self.since is not None:
            return f"predictions of the last {self.since}"
        return "all predictions"


def parse_window(text: str | None) -> WindowSpec:
    """Return the window for '10000' (a count), '24h', '7d', '30m' (a span), or None (the default: last 10,000)."""
    if text is None:
        return WindowSpec(last=10_000)
    value = str(text).strip().lower()
    if value.isdigit() and 0 < int(value) <= MAX_WINDOW_COUNT:
        return WindowSpec(last=int(value))
    match = _DURATION.match(value)
    if match and float(match.group(1)) * _UNITS[match.group(2)] <= MAX_WINDOW_SECONDS:
        return WindowSpec(since=timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
    if value.isdigit() or match:
        raise DepthgaugeError(f"Window '{text}' is too long: at most {MAX_WINDOW_COUNT:,} predictions or 200 years.")
    raise DepthgaugeError(f"Unknown window '{text}'. Give a count of predictions (10000) or a span (30m, 24h, 7d).")


# Folding the log into profiles ---------------------------------------------------------------

def _parse_lines(texts: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    schema = pa.schema(list(types.items()))
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    return pa_json.read_json(pa.BufferReader("\n".join(texts).encode()), parse_options=options)


def _inputs_frame(texts: list[str], input_schema: dict) -> pd.DataFrame:
    """Return logged inputs as columns: parsed by Arrow in one pass, row by row only if their JSON types are mixed."""
    types = {c["name"]: _ARROW_TYPES[c["type"]] for c in input_schema["columns"]}
    try:
        return _parse_lines(texts, types).to_pandas()
    except pa.ArrowInvalid:  # a value logged with another JSON type than the schema's (older logs)
        return pd.DataFrame([json.loads(t) for t in texts], columns=list(types))


def summarise(version: ModelVersionRow, inputs: list[str], outputs: list[str], confidence, latency_ms,
              review_status, seed: int = 0) -> dict:
    """Return the profile of one stretch of the log: inputs and outputs as JSON text, the rest as values."""
    reference = version.reference
    rng = np.random.default_rng(seed)
    frame = _inputs_frame(inputs, version.input_schema)
    features = drift.profile_frame(reference, frame, seed)
    regression = reference["predictions"].get("kind") == "numeric"
    estimator = reference.get("estimator")
    types = {"prediction": pa.float64() if regression else pa.string()}
    if estimator is not None and estimator["task"] == "binary":  # the positive class's probability, in the same pass
        types["probabilities"] = pa.struct([(estimator["positive_class"], pa.float64())])
    parsed = _parse_lines(outputs, types)
    predicted = parsed.column("prediction").to_pandas()
    predictions = drift.profile_values(reference["predictions"], predicted, rng)
    profile = {"features": features, "predictions": predictions,
               "latency_counts": np.bincount(np.searchsorted(LATENCY_EDGES_MS, np.asarray(latency_ms, float)),
                                             minlength=len(LATENCY_EDGES_MS) + 1).tolist(),
               "reviews": int(sum(status != "none" for status in review_status))}
    numbers = np.array([np.nan if c is None else c for c in confidence], float)
    if "confidence" in reference["predictions"]:
        profile["confidence"] = drift.profile_values(reference["predictions"]["confidence"], numbers, rng)
    shape = reference.get("joint_sample")
    if shape is not None:
        profile["joint_sample"] = joint_sample(frame, shape["numeric"], shape["boolean"], shape["categorical"],
                                               JOINT_ROWS_PER_PROFILE, rng)
    if estimator is not None:
        profile["estimation"] = _estimation_sums(estimator, frame, parsed, predicted, numbers)
    return profile


def _estimation_sums(estimator: dict, frame: pd.DataFrame, parsed: pa.Table, predicted: pd.Series,
                     confidence: np.ndarray) -> dict:
    """The sums this stretch adds to the label-free quality estimate (`data.estimation`)."""
    if estimator["task"] == "regression":
        return estimation.loss_sums(estimator, frame, predicted.to_numpy(float))
    if estimator["task"] == "multiclass":
        return estimation.window_sums(estimator, confidence)
    scores = pc.struct_field(parsed.column("probabilities"), [0]).to_pandas().to_numpy(float)
    return estimation.window_sums(estimator, scores, (predicted == estimator["positive_class"]).to_numpy(bool))


def _fold(session, version: ModelVersionRow) -> int:
    log = PredictionLogRow
    last = session.scalars(select(LogProfileRow).where(LogProfileRow.ref == version.ref)
                           .order_by(LogProfileRow.last_at.desc(), LogProfileRow.last_request_id.desc())).first()
    settled = utcnow() - timedelta(seconds=SETTLE_S)
    folded = 0
    while True:
        query = select(log.request_id, log.at, cast(log.inputs, Text), cast(log.output, Text), log.confidence,
                       log.latency_ms, log.review_status).where(log.ref == version.ref, log.at <= settled)
        if last is not None:
            query = query.where(or_(log.at > last.last_at, and_(log.at == last.last_at,
                                                                 log.request_id > last.last_request_id)))
        rows = session.execute(query.order_by(log.at, log.request_id).limit(CHUNK_ROWS)).all()
        if not rows:
            return folded
        request_ids, at, inputs, outputs, confidence, latency, review = zip(*rows)
        last = LogProfileRow(ref=version.ref, first_at=at[0], first_request_id=request_ids[0], last_at=at[-1],
                             last_request_id=request_ids[-1], rows=len(rows),
                             profile=summarise(version, list(inputs), list(outputs), confidence, latency, review,
                                               seed=folded))
        session.add(last)
        session.flush()
        folded += len(rows)
        if len(rows) < CHUNK_ROWS:
            return folded


def fold_new_predictions(workspace, version_id: str) -> int:
    """Fold the version's log rows not yet profiled into profiles; return how many. Safe beside other folders."""
    for _ in range(3):
        try:
            with workspace.transaction() as session:
                version = session.get(ModelVersionRow, version_id)
                if version.reference is None:
                    return 0
                return _fold(session, version)
        except IntegrityError:  # another process folded the same rows first: start again from its profiles
            continue
    return 0


# Reading a window ----------------------------------------------------------------------------

@dataclass
class Window:
    ref: str
    predictions: int
    first_at: datetime | None
    last_at: datetime | None
    features: dict[str, dict]
    outputs: dict | None
    confidence: dict | None
    latency_counts: np.ndarray
    reviews: int
    estimation: dict | None = None  # the sums of the label-free quality estimate, where the version has one
    joint_sample: dict | None = None  # whole rows, for the whole-input drift test

    def latency_percentile(self, q: float) -> float | None:
        """Return the q-th percentile of logged latency (ms), from the histogram: within 5% of the exact figure."""
        total = self.latency_counts.sum()
        if not total:
            return None
        index = int(np.searchsorted(np.cumsum(self.latency_counts), q / 100 * total))
        low = LATENCY_EDGES_MS[max(index - 1, 0)]
        high = LATENCY_EDGES_MS[min(index, len(LATENCY_EDGES_MS) - 1)]
        return float(np.sqrt(low * high))


def read_window(session, version: ModelVersionRow, spec: WindowSpec) -> Window:
    """Return the merged profiles of `version` that make up the window `spec`, newest last."""
    query = select(LogProfileRow).where(LogProfileRow.ref == version.ref)
    if spec.since is not None:
        query = query.where(LogProfileRow.last_at >= utcnow() - spec.since)
    chosen, rows = [], 0
    for profile in session.scalars(query.order_by(LogProfileRow.last_at.desc(), LogProfileRow.last_request_id.desc())):
        if spec.last is not None and rows >= spec.last:
            break
        chosen.append(profile)
        rows += profile.rows
    if not chosen:
        return Window(version.ref, 0, None, None, {}, None, None, np.zeros(len(LATENCY_EDGES_MS) + 1), 0)
    parts = [p.profile for p in chosen]
    features = {name: drift.merge([p["features"][name] for p in parts]) for name in parts[0]["features"]}
    confidence = drift.merge([p["confidence"] for p in parts]) if "confidence" in parts[0] else None
    return Window(version.ref, rows, min(p.first_at for p in chosen), max(p.last_at for p in chosen), features,
                  drift.merge([p["predictions"] for p in parts]), confidence,
                  np.sum([p["latency_counts"] for p in parts], axis=0), sum(p["reviews"] for p in parts),
                  estimation.merge_sums([p.get("estimation") for p in parts]),
                  merge_samples([p.get("joint_sample") for p in parts], JOINT_ROWS_PER_WINDOW))
