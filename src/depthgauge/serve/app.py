"""The prediction service: a FastAPI app built by a factory over one workspace.

Follow one prediction in `predict.py`: the one route served without the framework's per-request layers.
"""

from __future__ import annotations

import gc
import json
import os
import time
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, text

from depthgauge.errors import DepthgaugeError
from depthgauge.serve import deploy as deployments
from depthgauge.serve import reviews
from depthgauge.serve.access import access_log
from depthgauge.serve.answers import (BODIES, Decided, DeployBody, DeployedModels, Feedback, FeedbackTaken, Health,
                                      PredictAnswer, Problem, Ready, ReviewBody, ReviewDecision, Reviews,
                                      field_problems, problems)
from depthgauge.serve.answers import Deployed as DeployedAnswer
from depthgauge.serve.auth import Caller, KeyGate, token_of
from depthgauge.serve.batching import MicroBatcher
from depthgauge.serve.limits import KeyLimits
from depthgauge.serve.log import GroupCommitLog, check_durability
from depthgauge.serve.predict import (MAX_ROWS, PATH, ROUTE, Deployed, PredictRoute, clean_request_id,
                                      predict_rows)
from depthgauge.serve.schema import record_model, request_model
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import ACTING_AS, AlertRow, FeedbackRow, PredictionLogRow, ServingCountRow, utcnow

MAX_BODY_BYTES = 1_000_000
SETTINGS_VARIABLE = "DEPTHGAUGE_SERVE_SETTINGS"  # how `serve --workers N` hands create_app's settings to each worker
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


def _error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _raw_path(scope) -> str:
    """The path as sent, still percent-encoded: a logged line cannot be split by an encoded newline."""
    return (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")


class ServingApp(FastAPI):
    """FastAPI, with `POST /v1/models/{name}/predict` handed straight to its lean handler (see predict.py)."""

    predict_route: PredictRoute | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.predict_route is not None:
            matched = PATH.match(scope["path"])
            if matched:
                return await self.predict_route(scope, receive, send, matched.group(1))
        await super().__call__(scope, receive, send)


def create_app(home=None, auth: bool = True, max_body_bytes: int = MAX_BODY_BYTES, durability: str = "power",
               monitor_every_s: float = 300.0, rules_file=None, log_format: str | None = None) -> ServingApp:
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
    limits = KeyLimits(workspace)
    limited = Counter("depthgauge_limited", "Requests refused by a per-key limit", ["key", "limit"], registry=metrics)
    gate = KeyGate(workspace, limits, auth, on_limited=lambda key, limit: limited.labels(key, limit).inc())

    def load(name: str, ref: str, review: dict) -> None:
        predictor = load_model(ref, home=workspace.home)
        deployed = Deployed(ref, predictor, request_model(name, record_model(name, predictor.input_schema), MAX_ROWS),
                            [c["name"] for c in predictor.input_schema["columns"]], review)
        batching = review.get("batching")
        if batching:
            deployed.batcher = MicroBatcher(lambda rows: predict_rows(deployed, rows), float(batching.get("max_wait_ms", 2)),
                                            int(batching.get("max_rows", 128)))
        models[name] = deployed

    with workspace.session() as session:
        for deployment in deployments.active_deployments(session):
            load(deployment.model_name, deployment.ref, deployments.review_policy(session, deployment.model_name))

    drift_gauge = Gauge("depthgauge_drift_score", "Importance-weighted share of drifted features (last monitor run)",
                        ["model"], registry=metrics)
    alerts_gauge = Gauge("depthgauge_alerts_firing", "Alerts firing", ["model", "severity"], registry=metrics)
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
        gc.freeze()  # what loading built lives as long as the server: kept out of the collector's full passes
        yield
        task.cancel()
        flush_counts()
        limits.sync()
        log_holder["log"].close()
        workspace.close()

    app = ServingApp(title="depthgauge", version="1", lifespan=lifespan,
                  description="Predictions with validated inputs, access control, a durable log, human review and feedback.")

    write_access = access_log(log_format)

    def path_of(scope) -> str:
        route = scope.get("route")
        return getattr(route, "path", "unmatched")

    def headers_for(route: str, request_id: str) -> list[tuple[bytes, bytes]]:
        """The headers every answer on `route` carries: the security headers, and the request id with an access log."""
        extra = HEADERS_BY_ROUTE.get(route, SECURITY_HEADERS)
        return [*extra, (b"x-request-id", request_id.encode("latin-1"))] if write_access else extra

    def observe(scope, route: str, code: int, seconds: float, request_id: str, model: str | None = None) -> None:
        """Count an answered request, time it, tally it for its model's serving counts and write its access line."""
        requests.labels(route, str(code)).inc()
        latency.labels(route).observe(seconds)
        if model is not None:
            counts = served.setdefault(model, [0, 0, 0])
            counts[0] += 1
            counts[1] += 400 <= code < 500
            counts[2] += code >= 500
        if write_access:
            write_access(scope["method"], _raw_path(scope), code, seconds, request_id)

    class Measure:
        """Plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task per request): 413, counts, latency."""

        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await self.inner(scope, receive, send)
            headers = dict(scope["headers"])
            started, status = time.perf_counter(), {}
            # the caller's X-Request-ID when it sends one (for tracing across services), else a new one
            request_id = (clean_request_id(headers.get(b"x-request-id")) or new_id()) if write_access else ""
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > max_body_bytes:
                response = JSONResponse({"detail": f"Body of {int(length):,} bytes exceeds the limit of "
                                                   f"{max_body_bytes:,}. Send smaller batches."}, status_code=413,
                                        headers={"x-request-id": request_id} if write_access else None)
                await response(scope, receive, send)
                observe(scope, "unmatched", 413, time.perf_counter() - started, request_id)
                return

            async def send_and_note(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                    message = {**message, "headers": [*message.get("headers", []),
                                                      *headers_for(path_of(scope), request_id)]}
                await send(message)

            await self.inner(scope, receive, send_and_note)
            observe(scope, path_of(scope), status.get("code", 500), time.perf_counter() - started, request_id)

    app.add_middleware(Measure)

    def require(permission: str):
        async def check(request: Request) -> Caller:
            caller = gate.caller(token_of(request.headers.get("authorization"), request.headers.get("x-api-key")),
                                 permission)
            ACTING_AS.set("anonymous" if caller.key_id is None else f"key:{caller.name}")
            return caller
        return check

    app.predict_route = PredictRoute(models, gate, limits, lambda: log_holder["log"], max_body_bytes,
                                     {"unseen": unseen, "predictions": predictions, "limited": limited},
                                     observe, headers_for)
    new_id = app.predict_route.new_id

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
        for name, deployed in sorted(models.items()):
            _add_schema(schemas, deployed.request_model)
            paths[f"/v1/models/{name}/predict"] = {"post": _predict_operation(
                schemas, f"predict_{deployed.request_model.__name__}", f"Predict with {name} (now {deployed.ref})",
                {"$ref": f"#/components/schemas/{deployed.request_model.__name__}"})}
        if not models:
            operation = _predict_operation(schemas, "predict", "Predict with a deployed model", {
                "type": "object", "description": "See the <model>_predict_request schemas of the deployed models."})
            operation["parameters"] = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
            paths[ROUTE] = {"post": operation}
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


def _predict_operation(schemas: dict, operation_id: str, summary: str, request_schema: dict) -> dict:
    """The OpenAPI operation of the predict handler, which is served outside FastAPI's routes (see predict.py)."""
    for answer in (PredictAnswer, Problem):
        _add_schema(schemas, answer)
    responses = {"200": {"description": "One prediction per record, each with the request id feedback refers to.",
                         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictAnswer"}}}}}
    for code, item in problems(401, 403, 404, 413, 422, 429).items():
        responses[str(code)] = {"description": item["description"], "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}}
    return {"operationId": operation_id, "summary": summary, "parameters": [], "responses": responses,
            "requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}}}


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


def app_from_environment() -> ServingApp:
    """The app of one worker of `depthgauge serve --workers N`, built from the settings the command left in
    SETTINGS_VARIABLE (uvicorn starts each worker from an import string, not from a built app)."""
    return create_app(**json.loads(os.environ[SETTINGS_VARIABLE]))
