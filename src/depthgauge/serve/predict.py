"""One prediction, from the request's bytes to the answer: `POST /v1/models/{name}/predict`.

Follow it in four files: this one (the request, the key check through `serving.gate`, review routing, the
answer), `contract.py` (the input check), `zoo/model.py` (`ZooModel`: the rows encoded and predicted by the
family's own code) and `serve/log.py` (the answer goes out only once its record is in the durable log).
One row of a table model takes the fast path, inline; several rows, or a request that arrives while others are
in flight, go through the micro-batcher (`batching.py`), which calls the same `predict_rows`.

It is a plain ASGI handler rather than a FastAPI route: this is the one path where the framework's per-request
layers (routing, dependency solving, exception middleware) cost more than the prediction itself. What FastAPI would
give it is done here by hand: the OpenAPI operation (`app.py: openapi`), the same problem shapes and status codes
as every other route, and the same security headers, metrics and access log (`observe`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from depthgauge.contract import ContractError, http_problems
from depthgauge.data.estimation import review_confidence
from depthgauge.errors import DepthgaugeError
from depthgauge.serve.auth import token_of
from depthgauge.serve.batching import MicroBatcher
from depthgauge.serve.bodies import declared_too_large, nesting_problem, read_within
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import utcnow

if TYPE_CHECKING:
    from depthgauge.serve.state import Serving

MAX_ROWS = 10_000
RECORDS_PATH_ROWS = 256  # the most rows predicted from records rather than a DataFrame (bench/row_latency.py)
ROUTE = "/v1/models/{name}/predict"
PATH = re.compile(r"^/v1/models/([^/]+)/predict$")
REDACTED = "[redacted]"
RULE_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
            "==": lambda a, b: a == b, "!=": lambda a, b: a != b}  # the comparisons a review rule may make


@dataclass
class Deployed:
    ref: str
    predictor: object
    request_model: type[BaseModel]  # the OpenAPI contract; requests are checked by the predictor's InputContract
    columns: list[str]
    review: dict
    batcher: MicroBatcher | None = None

    @property
    def reads_records(self) -> bool:
        """Whether one row is predicted without a DataFrame (anomaly detectors flag at their threshold instead)."""
        return self.predictor.model.reads_records and self.predictor.input_schema["task"] != "anomaly"


class RandomIds:
    """Random 128-bit ids as 32 hex digits, read from the operating system 4 KiB at a time (one system call per
    256 ids rather than one per id, as uuid4 makes)."""

    def __init__(self):
        self.pool, self.at = b"", 0

    def __call__(self) -> str:
        if self.at >= len(self.pool):
            self.pool, self.at = os.urandom(4096), 0
        self.at += 16
        return self.pool[self.at - 16:self.at].hex()


class _Gone(Exception):
    """The client hung up before its body arrived."""


class PredictRoute:
    """The ASGI handler of `POST /v1/models/{name}/predict` for the models `serving` holds."""

    def __init__(self, serving: Serving, max_body_bytes: int, observe: Callable, headers_for: Callable):
        self.serving = serving
        self.max_body_bytes = max_body_bytes
        self.observe = observe  # (scope, route, status, seconds, request id, model): counts, latency, access log
        self.headers_for = headers_for  # (route, request id) -> the headers every answer carries
        self.in_flight = 0  # requests between their prediction and their log commit; with none, one row goes inline
        self.new_id = RandomIds()

    async def __call__(self, scope, receive, send, name: str) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = clean_request_id(headers.get(b"x-request-id")) or self.new_id()
        extra: dict = {}
        try:
            status, payload = 200, await self._answer(name, scope["method"], headers, receive)
        except HTTPException as exc:
            status, payload, extra = exc.status_code, {"detail": exc.detail}, exc.headers or {}
        except _Gone:
            return
        except Exception:  # a bug, not the caller's fault: logged with its traceback, answered 500
            logging.getLogger("depthgauge").exception("prediction for '%s' failed", name)
            status, payload = 500, {"detail": "Internal Server Error"}
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()),
            *self.headers_for(ROUTE, request_id)]})
        await send({"type": "http.response.body", "body": body})
        # a model's serving counts (kept in the database) count only keyed calls to a deployed model: a caller
        # without a key writes nothing, and cannot raise a real model's rejected rate
        counted = name if status not in (401, 403) and name in self.serving.models else None
        self.observe(scope, ROUTE, status, time.perf_counter() - started, request_id, counted)

    async def _answer(self, name: str, method: str, headers: dict, receive) -> dict:
        if method != "POST":
            raise HTTPException(405, "Method Not Allowed", headers={"Allow": "POST"})
        too_large = declared_too_large(headers, self.max_body_bytes)
        if too_large:
            raise HTTPException(413, too_large)
        serving = self.serving
        caller = serving.gate.caller(token_of(headers.get(b"authorization", b"").decode("latin-1"),
                                           headers.get(b"x-api-key", b"").decode("latin-1")), "predict")
        deployed = serving.models.get(name)
        if deployed is None:
            raise HTTPException(404, f"Model '{name}' is not deployed. "
                                     f"Deployed: {', '.join(sorted(serving.models)) or 'none'}.")
        raw = await self._body(receive)
        deep = nesting_problem(raw)
        if deep:
            raise HTTPException(422, [{"field": "body", "reason": deep}])
        try:
            body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
        except ValueError as exc:
            raise HTTPException(422, [{"field": "body", "reason": f"not valid JSON ({exc})"}]) from None
        shape = request_shape(body)
        if shape:
            raise HTTPException(422, shape)
        single = isinstance(body["inputs"], dict)
        records = [body["inputs"]] if single else body["inputs"]
        if len(records) > MAX_ROWS:
            raise HTTPException(413, f"{len(records):,} records exceed the limit of {MAX_ROWS:,} per request.")
        try:
            rows, notes = deployed.predictor.contract.check_records(records)
        except ContractError as exc:
            raise HTTPException(422, http_problems(exc, single)) from None
        for row_notes in notes:
            for column, _ in row_notes:
                serving.metrics.unseen.labels(name, column).inc()
        try:
            check_images(deployed, rows)  # before batching: one bad image must not fail its batch-mates
        except DepthgaugeError as exc:
            raise HTTPException(422, [{"field": "inputs", "reason": str(exc)}]) from None
        # a refused request uses no quota: it is taken once the inputs are known to be good
        wait = serving.limits.take_predictions(caller.key_id, caller.quota_per_day, len(records))
        if wait is not None:
            serving.metrics.limited.labels(caller.name, "quota").inc()
            raise HTTPException(429, f"Key '{caller.name}' has used its quota of {caller.quota_per_day:,} "
                                     "predictions for today (UTC). Retry after the time in Retry-After.",
                                headers={"Retry-After": str(math.ceil(wait))})
        answers = await self._predict_and_log(name, deployed, rows, notes, caller.key_id)
        serving.metrics.predictions.labels(name).inc(len(rows))
        return {"model": name, "version": deployed.ref, "predictions": answers}

    async def _body(self, receive) -> bytes:
        raw, too_large = await read_within(receive, self.max_body_bytes)
        if raw is None:
            raise _Gone()
        if too_large:
            raise HTTPException(413, too_large)
        return raw

    async def _predict_and_log(self, name: str, deployed: Deployed, rows: list[dict], notes: list,
                               key_id: str | None) -> list[dict]:
        started = time.perf_counter()
        alone = self.in_flight == 0
        self.in_flight += 1  # until this request's log record is committed
        try:
            if len(rows) == 1 and deployed.reads_records and (alone or deployed.batcher is None):
                outputs = predict_rows(deployed, rows)  # tens of microseconds: cheaper here than a hop to a thread
            elif deployed.batcher is not None:  # under load, rows share one predict call
                outputs = await deployed.batcher.submit(rows)
            else:
                outputs = await run_in_threadpool(predict_rows, deployed, rows)
            latency_ms = (time.perf_counter() - started) * 1000 / len(rows)
            now, answers, log_rows, reviews = utcnow(), [], [], []
            for record, row_notes, (prediction, probabilities, confidence) in zip(rows, notes, outputs, strict=True):
                request_id = self.new_id()
                reasons = review_reasons(deployed.review, review_confidence(deployed.predictor.review_calibration,
                                                                            probabilities, confidence), record)
                review_id = self.new_id()[:12] if reasons else None
                output = {"prediction": prediction, "probabilities": probabilities}
                log_rows.append({"request_id": request_id, "model_name": name, "ref": deployed.ref, "at": now,
                                 "inputs": json_ready(redact(record, deployed.review["redact"])),
                                 "output": json_ready(output), "confidence": confidence, "latency_ms": latency_ms,
                                 "review_status": "pending" if reasons else "none", "key_id": key_id})
                if reasons:
                    reviews.append({"id": review_id, "request_id": request_id, "model_name": name,
                                    "reason": "; ".join(reasons), "status": "pending", "label": None,
                                    "decided_by": None, "decided_at": None, "created_at": now})
                answers.append({"request_id": request_id, **output, "confidence": confidence,
                                "review": "pending" if reasons else "none", "review_id": review_id,
                                "warnings": [text for _, text in row_notes]})
            await self.serving.log.write(log_rows, reviews)  # answered only once durable
        finally:
            self.in_flight -= 1
        return answers


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows; send finite numbers, or null for a missing value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large to be a finite number; send finite numbers, or null for a missing value")
    return value


def clean_request_id(given: bytes | None) -> str:
    """The caller's X-Request-ID (for tracing across services), cleaned to a safe token; '' when none is sent."""
    if not given:
        return ""
    return re.sub(r"[^A-Za-z0-9._-]", "", given.decode("latin-1"))[:64]


def request_shape(body) -> list[dict]:
    """Return the problems with the request's shape: {"inputs": one record or a non-empty list of records}."""
    if not isinstance(body, dict):
        return [{"field": "body", "reason": 'expected an object: {"inputs": {...}} or {"inputs": [{...}, ...]}'}]
    problems = [{"field": key, "reason": 'unknown field; the body holds only "inputs"'} for key in body if key != "inputs"]
    inputs = body.get("inputs")
    if "inputs" not in body:
        problems.append({"field": "inputs", "reason": "required: one record (an object) or a list of records"})
    elif isinstance(inputs, list) and not inputs:
        problems.append({"field": "inputs", "reason": "no records given"})
    elif not isinstance(inputs, dict) and not (isinstance(inputs, list) and all(isinstance(r, dict) for r in inputs)):
        problems.append({"field": "inputs", "reason": "expected one record (an object) or a list of records"})
    return problems


def check_images(deployed: Deployed, rows: list[dict]) -> None:
    """Raise a `DepthgaugeError` naming the problem when an image in `rows` cannot be read at the model's size."""
    from depthgauge.zoo.image import decode_image

    for column in deployed.predictor.input_schema["columns"]:
        if column["type"] == "image":
            shape = (column["height"], column["width"], column["channels"])
            for row in rows:
                decode_image(row.get(column["name"]), shape)


def predict_rows(deployed: Deployed, rows: list[dict]) -> list[tuple]:
    """Predict rows already checked against the input contract (so the predictor's own check is skipped).

    Up to RECORDS_PATH_ROWS rows of a family that `reads_records` take the fast path: no DataFrame, the same
    numbers. Larger batches go through a frame, whose column-wise work beats a loop over records there."""
    predictor, model = deployed.predictor, deployed.predictor.model
    if len(rows) <= RECORDS_PATH_ROWS and deployed.reads_records:
        raw, frame = model.predict_records_raw(rows), None
    else:
        frame = pd.DataFrame(rows, columns=deployed.columns)
        raw = model.predict_proba(frame) if predictor.classes_ is not None else model.predict(frame)
    if predictor.classes_ is None:
        return [(float(v), None, None) for v in np.asarray(raw, dtype=float)]
    classes = list(predictor.classes_)
    best = raw.argmax(axis=1)
    if predictor.input_schema["task"] == "anomaly":  # flagged at the detector's threshold, not the larger share
        best = np.array([classes.index(label) for label in model.predict(frame)])
    return [(classes[b], dict(zip(classes, map(float, p), strict=True)), float(p[b])) for p, b in zip(raw, best,
                                                                                                      strict=True)]


def review_reasons(policy: dict, confidence: float | None, record: dict) -> list[str]:
    """Return why a prediction must go to a person (empty: it need not)."""
    reasons = []
    if confidence is not None and confidence < policy["confidence_threshold"]:
        reasons.append(f"confidence {confidence:.3f} below {policy['confidence_threshold']}")
    for rule in policy["rules"]:
        value = record.get(rule["column"])
        try:
            if value is not None and RULE_OPS[rule["op"]](value, rule["value"]):
                reasons.append(f"{rule['column']} {rule['op']} {rule['value']}")
        except TypeError:
            continue
    return reasons


def redact(record: dict, columns: list[str]) -> dict:
    """Return the record as it may be logged: personal-data columns replaced before anything is written."""
    return {k: (REDACTED if k in columns and v is not None else v) for k, v in record.items()} if columns else record
