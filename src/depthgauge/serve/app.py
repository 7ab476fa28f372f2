"""The prediction service: a FastAPI app built by a factory over one workspace.

Follow one prediction: `predict` validates the body against the deployed version's request
model, predicts in a worker thread, decides review routing, and awaits the group-commit log
before it answers.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, text

from depthgauge.contract import ContractError, http_problems
from depthgauge.errors import DepthgaugeError
from depthgauge.govern.keys import allowed, authenticate
from depthgauge.serve import deploy as deployments
from depthgauge.serve import reviews
from depthgauge.serve.access import access_log
from depthgauge.serve.answers import (BODIES, Decided, DeployBody, DeployedModels, Feedback, FeedbackTaken, Health,
                                      PredictAnswer, Ready, ReviewBody, ReviewDecision, Reviews, field_problems,
                                      problems)
from depthgauge.serve.answers import Deployed as DeployedAnswer
from depthgauge.serve.batching import MicroBatcher
from depthgauge.serve.limits import KeyLimits
from depthgauge.serve.log import GroupCommitLog, check_durability
from depthgauge.serve.schema import record_model, request_model
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import (ACTING_AS, AlertRow, ApiKeyRow, FeedbackRow, PredictionLogRow,
                                     ServingCountRow, utcnow)

MAX_BODY_BYTES = 1_000_000
MAX_ROWS = 10_000
KEY_CACHE_SECONDS = 0.5
# Every response: no framing, no MIME sniffing, no referrer leaving the site. Dashboard pages may run only scripts
# served from here (they have none inline); the self-contained assessment report, whose Plotly charts are inline
# scripts, is served sandboxed: its scripts run in an opaque origin with no access to the dashboard or its cookie.
_BASE_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"no-referrer")]
SECURITY_HEADERS = [*_BASE_HEADERS, (b"content-security-policy",
                                     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                     b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")]
REPORT_HEADERS = [*_BASE_HEADERS, (b"content-security-policy",
                                   b"sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                                   b"style-src 'unsafe-inline'; img-src data: blob:; font-src data:; frame-ancestors 'none'")]
HEADERS_BY_ROUTE = {"/assessments/{assessment_id}/report": REPORT_HEADERS,
                    "/docs": _BASE_HEADERS, "/redoc": _BASE_HEADERS}  # the API docs load FastAPI's own page
WINDOW_PATTERN = r"^([1-9][0-9]{0,8}|[0-9]{1,4}(\.[0-9]{1,6})?(m|min|h|d|w))$"  # what parse_window reads
WINDOW_HELP = "The last N predictions (10000), or a span of time (30m, 24h, 7d, 2w); default: the last 10,000."
FOLLOW_SECONDS = 2.0  # how often the app picks up deployments made elsewhere and stores request counts


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


@dataclass
class Caller:
    name: str
    role: str
    key_id: str | None = None
    quota_per_day: int | None = None


def _error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _raw_path(scope) -> str:
    """The path as sent, still percent-encoded: a logged line cannot be split by an encoded newline."""
    return (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")


def create_app(home=None, auth: bool = True, max_body_bytes: int = MAX_BODY_BYTES, durability: str = "power",
               monitor_every_s: float = 300.0, rules_file=None, log_format: str | None = None) -> FastAPI:
    """Return the app serving every active deployment of the workspace at `home`.

    `durability` is "power" (each logged prediction is on disk before it is answered) or "crash"
    (it survives a killed server; the operating system flushes it to disk moments later).
    Every `monitor_every_s` seconds (0: never) the monitor runs over the deployed models and fires
    alerts by `rules_file` (default: the workspace's alerts.yaml, else the built-in rules). Every
    couple of seconds the app follows deployment changes made elsewhere (CLI, other servers).
    `log_format` ('text' or 'json') writes one access-log line per request to stdout; None writes none.
    """
    from depthgauge.registry.predictor import load_model
    from depthgauge.workspace import Workspace

    check_durability(durability)
    workspace = Workspace.open(home)
    models: dict[str, Deployed] = {}
    metrics = CollectorRegistry()
    requests = Counter("depthgauge_requests", "HTTP requests", ["route", "status"], registry=metrics)
    latency = Histogram("depthgauge_request_seconds", "Request latency", ["route"], registry=metrics,
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
    predictions = Counter("depthgauge_predictions", "Predictions logged", ["model"], registry=metrics)
    queue_size = Gauge("depthgauge_review_queue", "Pending reviews", registry=metrics)
    unseen = Counter("depthgauge_unseen_categories", "Inputs holding a category never seen in training",
                     ["model", "column"], registry=metrics)
    backlog = Gauge("depthgauge_log_backlog", "Prediction records waiting to be committed", registry=metrics)
    log_holder: dict[str, GroupCommitLog] = {}
    # token -> (valid until, the key's row): a revoked key is refused within KEY_CACHE_SECONDS on every server
    keys_seen: dict[str, tuple[float, ApiKeyRow]] = {}
    limits = KeyLimits(workspace)
    limited = Counter("depthgauge_limited", "Requests refused by a per-key limit", ["key", "limit"], registry=metrics)

    def load(name: str, ref: str, review: dict) -> None:
        predictor = load_model(ref, home=workspace.home)
        deployed = Deployed(ref, predictor, request_model(name, record_model(name, predictor.input_schema), MAX_ROWS),
                            [c["name"] for c in predictor.input_schema["columns"]], review)
        batching = review.get("batching")
        if batching:
            deployed.batcher = MicroBatcher(lambda rows: _predict(deployed, rows), float(batching.get("max_wait_ms", 2)),
                                            int(batching.get("max_rows", 128)))
        models[name] = deployed

    with workspace.session() as session:
        for deployment in deployments.active_deployments(session):
            load(deployment.model_name, deployment.ref, deployments.review_policy(session, deployment.model_name))

    drift_gauge = Gauge("depthgauge_drift_score", "Importance-weighted share of drifted features (last monitor run)",
                        ["model"], registry=metrics)
    alerts_gauge = Gauge("depthgauge_alerts_firing", "Alerts firing", ["model", "severity"], registry=metrics)
    in_flight = [0]  # predict requests between their prediction and their log commit; with none, one row goes inline
    served: dict[str, list[int]] = {}  # model -> [requests, 4xx, 5xx] since the last flush to serving_counts
    monitor_state: dict[str, object] = {"last_run": None, "last_error": None}

    def flush_counts() -> None:
        pending = {name: counts for name, counts in served.items() if counts[0]}
        if not pending:
            return
        for name in pending:
            served[name] = [0, 0, 0]
        with workspace.transaction() as session:
            session.add_all([ServingCountRow(model_name=name, requests=c[0], client_errors=c[1], server_errors=c[2])
                             for name, c in pending.items()])

    def follow_deployments() -> None:
        with workspace.session() as session:
            wanted = {d.model_name: d.ref for d in deployments.active_deployments(session)}
            policies = {name: deployments.review_policy(session, name) for name in wanted}
        for name, ref in wanted.items():
            if name not in models or models[name].ref != ref or models[name].review != policies[name]:
                load(name, ref, policies[name])
                app.openapi_schema = None
        for name in set(models) - set(wanted):
            models.pop(name)
            app.openapi_schema = None

    def run_monitor_now() -> None:
        from depthgauge.monitor.service import run_monitor

        for report in run_monitor(workspace, None, None, rules_file):
            drift_gauge.labels(report["model"]).set(report["drift"]["score"] or 0.0)
        monitor_state["last_run"] = utcnow().isoformat()

    async def background() -> None:
        import asyncio
        import logging

        last_monitor = time.monotonic()
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            try:
                await run_in_threadpool(follow_deployments)
                await run_in_threadpool(flush_counts)
                await run_in_threadpool(limits.sync)
                if monitor_every_s and time.monotonic() - last_monitor >= monitor_every_s:
                    last_monitor = time.monotonic()
                    await run_in_threadpool(run_monitor_now)
            except Exception as exc:  # a failing tick is reported and retried, never fatal to serving
                monitor_state["last_error"] = f"{type(exc).__name__}: {exc}"
                logging.getLogger("depthgauge").warning("background task failed: %s", exc)

    @asynccontextmanager
    async def lifespan(_app):
        import asyncio

        log_holder["log"] = GroupCommitLog(workspace, durability)
        task = asyncio.get_running_loop().create_task(background())
        yield
        task.cancel()
        flush_counts()
        limits.sync()
        log_holder["log"].close()
        workspace.close()

    app = FastAPI(title="depthgauge", version="1", lifespan=lifespan,
                  description="Predictions with validated inputs, access control, a durable log, human review and feedback.")

    write_access = access_log(log_format)

    def path_of(scope) -> str:
        route = scope.get("route")
        return getattr(route, "path", "unmatched")

    class Measure:
        """Plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task per request): 413, counts, latency."""

        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await self.inner(scope, receive, send)
            headers = dict(scope["headers"])
            started, status = time.perf_counter(), {}
            request_id = ""
            if write_access:
                # the caller's X-Request-ID when it sends one (for tracing across services), else a new one
                given = re.sub(r"[^A-Za-z0-9._-]", "", headers.get(b"x-request-id", b"").decode("latin-1"))[:64]
                request_id = given or uuid.uuid4().hex
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > max_body_bytes:
                requests.labels(scope["path"], "413").inc()
                response = JSONResponse({"detail": f"Body of {int(length):,} bytes exceeds the limit of "
                                                   f"{max_body_bytes:,}. Send smaller batches."}, status_code=413)
                await response(scope, receive, send)
                if write_access:
                    write_access(scope["method"], _raw_path(scope), 413, time.perf_counter() - started, request_id)
                return

            async def send_and_note(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                    extra = HEADERS_BY_ROUTE.get(path_of(scope), SECURITY_HEADERS)
                    if write_access:
                        extra = [*extra, (b"x-request-id", request_id.encode("latin-1"))]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                await send(message)

            await self.inner(scope, receive, send_and_note)
            route = path_of(scope)
            code = status.get("code", 500)
            requests.labels(route, str(code)).inc()
            if route == "/v1/models/{name}/predict":
                counts = served.setdefault(scope["path_params"]["name"], [0, 0, 0])
                counts[0] += 1
                counts[1] += 400 <= code < 500
                counts[2] += code >= 500
            elapsed = time.perf_counter() - started
            latency.labels(route).observe(elapsed)
            if write_access:
                write_access(scope["method"], _raw_path(scope), code, elapsed, request_id)

    app.add_middleware(Measure)

    def require(permission: str):
        async def check(request: Request) -> Caller:
            if not auth:
                ACTING_AS.set("anonymous")
                return Caller("anonymous", "admin")
            header = request.headers.get("authorization", "")
            token = header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key")
            cached = keys_seen.get(token) if token else None
            if cached is None or cached[0] < time.monotonic():
                with workspace.session() as session:
                    row = authenticate(session, token)
                    if row is not None:
                        session.expunge(row)
                cached = None if row is None else (time.monotonic() + KEY_CACHE_SECONDS, row)
                if cached is not None:
                    keys_seen[token] = cached
            if cached is None:
                raise HTTPException(401, "Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.",
                                    headers={"WWW-Authenticate": "Bearer"})
            key = cached[1]
            if not allowed(key.role, permission):
                raise _error(403, f"The {key.role} role may not {permission}.")
            wait = limits.take_request(key.id, key.rate_per_s)
            if wait is not None:
                limited.labels(key.name, "rate").inc()
                raise HTTPException(429, f"Key '{key.name}' is over its rate of {key.rate_per_s:g} requests a "
                                         "second. Retry after the time in Retry-After.",
                                    headers={"Retry-After": str(max(1, math.ceil(wait)))})
            ACTING_AS.set(f"key:{key.name}")
            return Caller(key.name, key.role, key.id, key.quota_per_day)
        return check

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request, exc: RequestValidationError):
        return JSONResponse({"detail": field_problems(list(exc.errors()))}, status_code=422)

    @app.exception_handler(DepthgaugeError)
    async def user_error(_request, exc: DepthgaugeError):
        status = 404 if str(exc).startswith(("Unknown model", "No ")) or "has no version" in str(exc) else 409
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.get("/healthz", response_model=Health)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "Not ready."}})
    async def readyz():
        try:
            with workspace.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # the database is the one dependency that must answer
            return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
        log = log_holder.get("log")
        if log is None or not log.thread.is_alive():
            return JSONResponse({"status": "not ready", "reason": "prediction log writer is not running"}, status_code=503)
        return {"status": "ready", "models": {name: d.ref for name, d in models.items()}}

    @app.get("/metrics", responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
                                          "description": "Prometheus text format."}, **problems(401, 403, 429)})
    async def prometheus(_caller: Caller = Depends(require("view"))):
        with workspace.session() as session:
            queue_size.set(reviews.pending_count(session))
        backlog.set(log_holder["log"].backlog if "log" in log_holder else 0)
        with workspace.session() as session:
            alerts_gauge.clear()
            for name, severity, count in session.execute(
                    select(AlertRow.model_name, AlertRow.severity, func.count()).where(AlertRow.status == "firing")
                    .group_by(AlertRow.model_name, AlertRow.severity)):
                alerts_gauge.labels(name, severity).set(count)
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models", response_model=DeployedModels, responses=problems(401, 403, 429))
    async def list_deployed(_caller: Caller = Depends(require("view"))):
        with workspace.session() as session:
            return {"models": [{"name": name, "ref": d.ref, "review": d.review, "input_columns": d.columns,
                                "history": deployments.history(session, name)} for name, d in sorted(models.items())]}

    @app.post("/v1/models/{name}/deploy", response_model=DeployedAnswer, openapi_extra=_body_doc(DeployBody),
              responses=problems(401, 403, 404, 409, 422, 429))
    async def deploy(name: str, request: Request, _caller: Caller = Depends(require("deploy"))):
        body = await _parsed(request, DeployBody)
        with workspace.transaction() as session:
            row = deployments.deploy(session, name, body.ref, body.review)
            ref, review = row.ref, deployments.review_policy(session, name)
        await run_in_threadpool(load, name, ref, review)
        app.openapi_schema = None
        return {"name": name, "ref": ref, "review": review}

    @app.post("/v1/models/{name}/rollback", response_model=DeployedAnswer, responses=problems(401, 403, 404, 409, 429))
    async def rollback(name: str, _caller: Caller = Depends(require("deploy"))):
        with workspace.transaction() as session:
            row = deployments.rollback(session, name)
            ref, review = row.ref, deployments.review_policy(session, name)
        await run_in_threadpool(load, name, ref, review)
        app.openapi_schema = None
        return {"name": name, "ref": ref}

    @app.post("/v1/models/{name}/predict", responses={200: {"model": PredictAnswer}, **problems(401, 403, 404, 413, 422, 429)},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"type": "object", "description": "See the <model>_predict_request schemas."}}}}})
    async def predict(name: str, request: Request, caller: Caller = Depends(require("predict"))):
        deployed = models.get(name)
        if deployed is None:
            raise _error(404, f"Model '{name}' is not deployed. Deployed: {', '.join(sorted(models)) or 'none'}.")
        raw = await request.body()
        if len(raw) > max_body_bytes:
            raise _error(413, f"Body exceeds the limit of {max_body_bytes:,} bytes. Send smaller batches.")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return JSONResponse({"detail": [{"field": "body", "reason": f"not valid JSON ({exc})"}]}, status_code=422)
        shape = _request_shape(body)
        if shape:
            return JSONResponse({"detail": shape}, status_code=422)
        single = isinstance(body["inputs"], dict)
        records = [body["inputs"]] if single else body["inputs"]
        if len(records) > MAX_ROWS:
            raise _error(413, f"{len(records):,} records exceed the limit of {MAX_ROWS:,} per request.")
        wait = limits.take_predictions(caller.key_id, caller.quota_per_day, len(records))
        if wait is not None:
            limited.labels(caller.name, "quota").inc()
            raise HTTPException(429, f"Key '{caller.name}' has used its quota of {caller.quota_per_day:,} predictions "
                                     "for today (UTC). Retry after the time in Retry-After.",
                                headers={"Retry-After": str(math.ceil(wait))})
        try:
            rows, notes = deployed.predictor.contract.check_records(records)
        except ContractError as exc:
            return JSONResponse({"detail": http_problems(exc, single)}, status_code=422)
        for row_notes in notes:
            for column, _ in row_notes:
                unseen.labels(name, column).inc()
        try:
            _check_images(deployed, rows)  # before batching: one bad image must not fail its batch-mates
        except DepthgaugeError as exc:
            return JSONResponse({"detail": [{"field": "inputs", "reason": str(exc)}]}, status_code=422)
        started = time.perf_counter()
        alone = in_flight[0] == 0
        in_flight[0] += 1  # until this request's log record is committed
        try:
            if len(rows) == 1 and deployed.reads_records and (alone or deployed.batcher is None):
                outputs = _predict(deployed, rows)  # tens of microseconds: cheaper here than a hop to a thread
            elif deployed.batcher is not None:  # under load, rows share one predict call
                outputs = await deployed.batcher.submit(rows)
            else:
                outputs = await run_in_threadpool(_predict, deployed, rows)
            latency_ms = (time.perf_counter() - started) * 1000 / len(rows)
            now, answers, log_rows, reviews = utcnow(), [], [], []
            for record, row_notes, (prediction, probabilities, confidence) in zip(rows, notes, outputs, strict=True):
                request_id = uuid.uuid4().hex
                reasons = deployments.review_reasons(deployed.review, confidence, record)
                review_id = uuid.uuid4().hex[:12] if reasons else None
                output = {"prediction": prediction, "probabilities": probabilities}
                log_rows.append({"request_id": request_id, "model_name": name, "ref": deployed.ref, "at": now,
                                 "inputs": json_ready(deployments.redact(record, deployed.review["redact"])),
                                 "output": json_ready(output), "confidence": confidence, "latency_ms": latency_ms,
                                 "review_status": "pending" if reasons else "none"})
                if reasons:
                    reviews.append({"id": review_id, "request_id": request_id, "model_name": name,
                                    "reason": "; ".join(reasons), "status": "pending", "label": None,
                                    "decided_by": None, "decided_at": None, "created_at": now})
                answers.append({"request_id": request_id, **output, "confidence": confidence,
                                "review": "pending" if reasons else "none", "review_id": review_id,
                                "warnings": [text for _, text in row_notes]})
            await log_holder["log"].write(log_rows, reviews)  # answered only once durable
        finally:
            in_flight[0] -= 1
        predictions.labels(name).inc(len(rows))
        return JSONResponse({"model": name, "version": deployed.ref, "predictions": answers})

    @app.get("/v1/monitor/{name}", responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}},
                                              **problems(401, 403, 404, 409, 422, 429)})
    async def monitor(name: str, window: str | None = Query(None, pattern=WINDOW_PATTERN, description=WINDOW_HELP),
                      _caller: Caller = Depends(require("view"))):
        """The monitoring report of the model's deployed version over `window`, with its recent alerts."""
        from depthgauge.monitor.profiles import parse_window
        from depthgauge.monitor.service import current_report

        try:
            spec = parse_window(window)
        except DepthgaugeError as exc:
            return JSONResponse({"detail": [{"field": "window", "reason": str(exc)}]}, status_code=422)

        return JSONResponse(json_ready(await run_in_threadpool(current_report, workspace, name, spec)))

    @app.get("/v1/reviews", response_model=Reviews, responses=problems(401, 403, 422, 429))
    async def list_reviews(status: Literal["pending", "approved", "corrected", "all"] = "pending",
                           model: str | None = None, limit: int = Query(100, ge=1, le=10_000),
                           _caller: Caller = Depends(require("view"))):
        with workspace.session() as session:
            return {"reviews": reviews.queue(session, status, model, limit)}

    @app.post("/v1/reviews/{review_id}", response_model=Decided, openapi_extra=_body_doc(ReviewDecision),
              responses=problems(401, 403, 404, 409, 422, 429))
    async def decide_review(review_id: str, request: Request, caller: Caller = Depends(require("review"))):
        body = await _parsed(request, ReviewBody)
        with workspace.transaction() as session:
            try:
                review = reviews.decide(session, review_id, body.decision, body.label, f"key:{caller.name}")
            except reviews.ReviewConflict as exc:
                raise _error(409, str(exc)) from None
            except DepthgaugeError as exc:
                if str(exc).startswith("No review"):
                    raise _error(404, str(exc)) from None
                field = "decision" if "decision" in str(exc) else "label"
                return JSONResponse({"detail": [{"field": field, "reason": str(exc)}]}, status_code=422)
            return {"id": review_id, "status": review.status, "label": review.label}

    @app.post("/v1/feedback", response_model=FeedbackTaken, openapi_extra=_body_doc(Feedback),
              responses=problems(401, 403, 404, 422, 429))
    async def feedback(request: Request, caller: Caller = Depends(require("feedback"))):
        body = await _parsed(request, Feedback)
        with workspace.transaction() as session:
            if session.get(PredictionLogRow, body.request_id) is None:
                raise _error(404, f"No prediction with request id '{body.request_id}'.")
            row = FeedbackRow(request_id=body.request_id, label=json_ready(body.label), source="feedback",
                              given_by=f"key:{caller.name}")
            session.add(row)
            session.flush()
            return {"id": row.id, "request_id": body.request_id}

    def openapi():
        """FastAPI's document, with each deployed model's predict endpoint under its own path and request schema,
        and the bearer key each /v1 route and /metrics need."""
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for body in BODIES:
            _add_schema(schemas, body)
        paths = schema["paths"]
        if models:
            generic = paths.pop("/v1/models/{name}/predict")["post"]
            for name, deployed in sorted(models.items()):
                _add_schema(schemas, deployed.request_model)
                operation = json.loads(json.dumps(generic))
                operation.update(operationId=f"predict_{deployed.request_model.__name__}", parameters=[],
                                 summary=f"Predict with {name} (now {deployed.ref})")
                operation["requestBody"]["content"]["application/json"]["schema"] = {
                    "$ref": f"#/components/schemas/{deployed.request_model.__name__}"}
                paths[f"/v1/models/{name}/predict"] = {"post": operation}
        if auth:
            components["securitySchemes"] = {"apiKey": {
                "type": "http", "scheme": "bearer",
                "description": "An API key from `depthgauge keys create`; also accepted in the X-API-Key header."}}
            for path, item in paths.items():
                if path.startswith("/v1/") or path == "/metrics":
                    for operation in item.values():
                        operation["security"] = [{"apiKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
    from depthgauge.web.routes import add_dashboard

    add_dashboard(app, workspace, auth)
    app.state.workspace = workspace
    app.state.log = log_holder
    return app


def _add_schema(schemas: dict, model: type[BaseModel]) -> None:
    found = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(found.pop("$defs", {}))
    schemas[model.__name__] = found


def _body_doc(model: type[BaseModel]) -> dict:
    """The OpenAPI request body of a route that reads its body itself (after the key is checked, so a viewer's
    state-changing request is refused with 403 whatever its body holds)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


async def _parsed(request: Request, model: type[BaseModel]):
    """The request's JSON body as `model`; a 422 naming each field at fault otherwise."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems_found = field_problems(exc)
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            problems_found = [{"field": "body", "reason": "not valid JSON"}]
        raise HTTPException(422, problems_found) from None


def _check_images(deployed: Deployed, rows: list[dict]) -> None:
    """Raise a `DepthgaugeError` naming the problem when an image in `rows` cannot be read at the model's size."""
    from depthgauge.zoo.image import decode_image

    for column in deployed.predictor.input_schema["columns"]:
        if column["type"] == "image":
            shape = (column["height"], column["width"], column["channels"])
            for row in rows:
                decode_image(row.get(column["name"]), shape)


def _request_shape(body) -> list[dict]:
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


def _predict(deployed: Deployed, rows: list[dict]) -> list[tuple]:
    """Predict rows already checked against the input contract (so the predictor's own check is skipped).

    One row of a family that `reads_records` takes the fast path: no DataFrame, the same numbers."""
    predictor, model = deployed.predictor, deployed.predictor.model
    if len(rows) == 1 and deployed.reads_records:
        raw, frame = model.predict_record_raw(rows[0]), None
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
