"""A window of the prediction log for one model version: the last N predictions or those since a time.

The inputs are JSON in the log; a window of a million rows is parsed in one pass by Arrow's
JSON reader rather than row by row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
from sqlalchemy import Text, cast, select

from depthgauge.errors import DepthgaugeError
from depthgauge.store.tables import FeedbackRow, PredictionLogRow, utcnow

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass
class WindowSpec:
    last: int | None = None  # the most recent N predictions
    since: timedelta | None = None  # or everything within this span of now

    def describe(self) -> str:
        parts = []
        if self.last is not None:
            parts.append(f"last {self.last:,} predictions")
        if self.since is not None:
            parts.append(f"since {self.since} ago")
        return " and ".join(parts) or "all predictions"


def parse_window(text: str | None) -> WindowSpec:
    """Return the window for '10000' (a count), '24h', '7d', '30m' (a span), or None (the default: last 10,000)."""
    if text is None:
        return WindowSpec(last=10_000)
    value = str(text).strip().lower()
    if value.isdigit() and int(value) > 0:
        return WindowSpec(last=int(value))
    match = _DURATION.match(value)
    if match:
        return WindowSpec(since=timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
    raise DepthgaugeError(f"Unknown window '{text}'. Give a count of predictions (10000) or a span (30m, 24h, 7d).")


@dataclass
class Window:
    ref: str
    request_ids: list[str]
    at: pd.Series
    inputs: pd.DataFrame
    predictions: pd.Series
    confidence: np.ndarray
    latency_ms: np.ndarray
    review_status: np.ndarray
    outputs_by_id: dict[str, str]

    def __len__(self) -> int:
        return len(self.request_ids)


def _parse_lines(texts: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    if not texts:
        return pa.table({name: pa.array([], type=t) for name, t in types.items()})
    schema = pa.schema([(name, t) for name, t in types.items()])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    return pa_json.read_json(pa.BufferReader("\n".join(texts).encode()), parse_options=options,
                             read_options=pa_json.ReadOptions(block_size=16 << 20))


_ARROW_TYPES = {"number": pa.float64(), "boolean": pa.bool_(), "datetime": pa.string(), "category": pa.string()}


def _inputs_frame(texts: list[str], input_schema: dict) -> pd.DataFrame:
    """Return the logged inputs as columns: parsed by Arrow in one pass, row by row only if the types are mixed."""
    types = {c["name"]: _ARROW_TYPES[c["type"]] for c in input_schema["columns"]}
    try:
        return _parse_lines(texts, types).to_pandas()
    except pa.ArrowInvalid:  # a value logged with another JSON type than the schema's (older logs)
        return pd.DataFrame([json.loads(t) for t in texts], columns=list(types))


def read_window(session, ref: str, spec: WindowSpec, input_schema: dict, task: str) -> Window:
    """Return the predictions of version `ref` within `spec`, newest first, with their inputs as columns."""
    log = PredictionLogRow
    query = select(log.request_id, log.at, cast(log.inputs, Text), cast(log.output, Text), log.confidence,
                   log.latency_ms, log.review_status).where(log.ref == ref)
    if spec.since is not None:
        query = query.where(log.at >= utcnow() - spec.since)
    query = query.order_by(log.at.desc())
    if spec.last is not None:
        query = query.limit(spec.last)
    rows = session.execute(query).all()
    columns = list(zip(*rows)) if rows else [[] for _ in range(7)]
    request_ids, at, inputs, outputs, confidence, latency, review = columns
    frame = _inputs_frame(list(inputs), input_schema)
    prediction_type = pa.float64() if task == "regression" else pa.string()
    predicted = _parse_lines(list(outputs), {"prediction": prediction_type}).column("prediction").to_pandas()
    return Window(ref=ref, request_ids=list(request_ids), at=pd.Series(at, dtype="object"), inputs=frame,
                  predictions=predicted, confidence=np.array([np.nan if c is None else c for c in confidence], float),
                  latency_ms=np.asarray(latency, float), review_status=np.asarray(review, dtype=object),
                  outputs_by_id=dict(zip(request_ids, outputs, strict=True)))


def latest_labels(session, request_ids: list[str]) -> dict[str, object]:
    """Return the latest label (feedback or a review decision) of each of `request_ids` that has one."""
    labels: dict[str, object] = {}
    wanted = list(request_ids)
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start:start + 5000]
        rows = session.execute(select(FeedbackRow.request_id, FeedbackRow.label)
                               .where(FeedbackRow.request_id.in_(chunk)).order_by(FeedbackRow.created_at)).all()
        labels.update({request_id: label for request_id, label in rows})
    return labels
