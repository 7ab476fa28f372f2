"""The prediction API: a FastAPI app built by a factory over one workspace.

Follow one prediction in `predict.py`, the one route served without the framework's per-request layers; the other
routes are in `routes/`, one router per concern, over the state in `state.py`. The dashboard and the monitor's
schedule are added by the composition root, `depthgauge/server.py`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from depthgauge.errors import DepthgaugeError, InvalidField, NotFound
from depthgauge.serve.access import access_log
from depthgauge.serve.answers import BODIES, PredictAnswer, Problem, field_problems, problems
from depthgauge.serve.auth import token_of
from depthgauge.serve.bodies import BODY_METHODS, declared_too_large, nesting_problem, read_within, replay
from depthgauge.serve.log import GroupCommitLog, check_durability
from depthgauge.serve.predict import PATH, ROUTE, PredictRoute, clean_request_id
from depthgauge.serve.routes import deploys, feedback, ops, reviews
from depthgauge.serve.state import Serving

MAX_BODY_BYTES = 1_000_000
# Every response: no framing, no MIME sniffing, no referrer leaving the site. Dashboard pages may run only scripts
# served from here (they have none inline); the self-contained assessment report, whose Plotly charts are inline
# scripts, is served sandboxed: its scripts run in an opaque origin with no access to the dashboard or its cookie.
_BASE_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"same-origin")]  # same-origin: a form names its origin (see web/routes.py)
SECURITY_HEADERS = [*_BASE_HEADERS, (b"content-security-policy",
                                     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                     b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")]
REPORT_HEADERS = [*_BASE_HEADERS, (b"content-security-policy",
                                   b"sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                                   b"style-src 'unsafe-inline'; img-src data: blob:; font-src data:; frame-ancestors 'none'")]
HEADERS_BY_ROUTE = {"/assessments/{assessment_id}/report": REPORT_HEADERS,
                    "/docs": _BASE_HEADERS, "/redoc": _BASE_HEADERS}  # the API docs load FastAPI's own page
HSTS = [(b"strict-transport-security", b"max-age=31536000")]  # served over TLS: browsers keep to HTTPS for a year
FOLLOW_SECONDS = 2.0  # how often the app picks up deployments made elsewhere and stores request counts


def _raw_path(scope) -> str:
    """The path as sent, still percent-encoded: a logged line cannot be split by an encoded newline."""
    return (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")


class ServingApp(FastAPI):
    """FastAPI, with `/v1/models/{name}/predict` handed straight to its lean handler (see predict.py)."""

    predict_route: PredictRoute | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.predict_route is not None:
            matched = PATH.match(scope["path"])
            if matched:
                return await self.predict_route(scope, receive, send, matched.group(1))
        await super().__call__(scope, receive, send)


def create_api(home=None, auth: bool = True, max_body_bytes: int = MAX_BODY_BYTES, durability: str = "power",
               log_format: str | None = None) -> ServingApp:
    """Return the API serving every active deployment of the workspace at `home`.

    `durability` is "power" (each logged prediction is on disk before it is answered) or "crash"
    (it survives a killed server; the operating system flushes it to disk moments later).
    Every couple of seconds the app follows deployment changes made elsewhere (CLI, other servers) and runs
    the background jobs on `app.state.serving.jobs` that are due.
    `log_format` ('text' or 'json') writes one access-log line per request to stdout; None writes none.
    """
    from depthgauge.workspace import Workspace

    check_durability(durability)
    state = Serving(Workspace.open(home, upgrade=True), auth)  # serving starts on this release's schema
    state.follow_deployments()

    def follow() -> None:
        if state.follow_deployments():
            app.openapi_schema = None

    async def background() -> None:
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            try:
                await run_in_threadpool(follow)
                await run_in_threadpool(state.flush_counts)
                await run_in_threadpool(state.limits.sync)
                for job in state.jobs:
                    if job.every_s and time.monotonic() - job.last >= job.every_s:
                        job.last = time.monotonic()
                        await run_in_threadpool(job.run)
                        job.runs += 1
            except Exception as exc:  # a failing tick is reported and retried, never fatal to serving
                logging.getLogger("depthgauge").warning("background task failed: %s", exc)

    @asynccontextmanager
    async def lifespan(_app):
        state.log = GroupCommitLog(state.workspace, durability)
        now = time.monotonic()
        for job in state.jobs:
            job.last = now
        task = asyncio.get_running_loop().create_task(background())
        gc.freeze()  # what loading built lives as long as the server: kept out of the collector's full passes
        yield
        task.cancel()
        state.flush_counts()
        state.limits.sync()
        state.log.close()
        state.workspace.close()

    app = ServingApp(title="depthgauge", version="1", lifespan=lifespan, openapi_url=None, docs_url=None,
                     redoc_url=None,
                     description="Predictions with validated inputs, access control, a durable log, human review "
                                 "and feedback.")
    app.state.serving = state
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
        state.metrics.requests.labels(route, str(code)).inc()
        state.metrics.latency.labels(route).observe(seconds)
        if model is not None:
            state.count(model, code)
        if write_access:
            write_access(scope["method"], _raw_path(scope), code, seconds, request_id)

    app.predict_route = PredictRoute(state, max_body_bytes, observe, headers_for)
    new_id = app.predict_route.new_id

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
            too_large = declared_too_large(headers, max_body_bytes)
            if not too_large and scope["method"] in BODY_METHODS:
                # Every body is read here, up to the limit and no further, before any route (or its key check)
                # sees it: a chunked body declares no length, and a form is parsed before its session is checked.
                body, too_large = await read_within(receive, max_body_bytes)
                if body is None:
                    return  # the client hung up
                deep = nesting_problem(body) if b"json" in headers.get(b"content-type", b"") else None
                if deep:
                    await JSONResponse({"detail": [{"field": "body", "reason": deep}]}, status_code=422,
                                       headers={"x-request-id": request_id} if write_access else None)(
                        scope, receive, send)
                    observe(scope, "unmatched", 422, time.perf_counter() - started, request_id)
                    return
                receive = replay(body, receive)
            if too_large:
                response = JSONResponse({"detail": too_large}, status_code=413,
                                        headers={"x-request-id": request_id} if write_access else None)
                await response(scope, receive, send)
                observe(scope, "unmatched", 413, time.perf_counter() - started, request_id)
                return

            async def send_and_note(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                    message = {**message, "headers": [*message.get("headers", []),
                                                      *headers_for(path_of(scope), request_id),
                                                      *(HSTS if scope.get("scheme") == "https" else [])]}
                await send(message)

            await self.inner(scope, receive, send_and_note)
            observe(scope, path_of(scope), status.get("code", 500), time.perf_counter() - started, request_id)

    app.add_middleware(Measure)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request, exc: RequestValidationError):
        return JSONResponse({"detail": field_problems(list(exc.errors()))}, status_code=422)

    @app.exception_handler(InvalidField)
    async def invalid_field(_request, exc: InvalidField):
        return JSONResponse({"detail": [{"field": exc.field, "reason": str(exc)}]}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(_request, exc: NotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(DepthgaugeError)
    async def conflict(_request, exc: DepthgaugeError):  # Conflict, and any other state the request cannot change
        return JSONResponse({"detail": str(exc)}, status_code=409)

    for router in (ops.router, deploys.router, reviews.router, feedback.router):
        app.include_router(router)

    documents: dict[bool, dict] = {}  # with the deployed models' inputs, and without (for callers with no key)

    def build_document(with_models: bool) -> dict:
        """FastAPI's document, with each deployed model's predict endpoint under its own path and request schema
        (`with_models`; else one generic predict operation), and the bearer key each /v1 route and /metrics need."""
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for body in BODIES:
            _add_schema(schemas, body)
        paths = schema["paths"]
        models = sorted(state.models.items()) if with_models else []
        for name, deployed in models:
            _add_schema(schemas, deployed.request_model)
            paths[f"/v1/models/{name}/predict"] = {"post": _predict_operation(
                schemas, f"predict_{deployed.request_model.__name__}", f"Predict with {name} (now {deployed.ref})",
                {"$ref": f"#/components/schemas/{deployed.request_model.__name__}"})}
        if not models:
            operation = _predict_operation(schemas, "predict", "Predict with a deployed model", {
                "type": "object", "description": "Each deployed model's inputs are in this document when it is "
                                                 "fetched with a key (any role)."})
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
        return schema

    def openapi(with_models: bool = True) -> dict:
        if app.openapi_schema is None:  # deployments changed (see `follow`): both documents are rebuilt
            documents.clear()
            app.openapi_schema = build_document(True)
            documents[True] = app.openapi_schema
        if with_models not in documents:
            documents[with_models] = build_document(with_models)
        return documents[with_models]

    app.openapi = openapi

    @app.get("/openapi.json", include_in_schema=False)
    async def document(request: Request):
        """The API's document. Without a key it shows every operation but not the deployed models: their names,
        versions, columns, ranges and categories are for callers with a key (any role)."""
        token = token_of(request.headers.get("authorization"), request.headers.get("x-api-key"))
        keyed = not auth or await run_in_threadpool(state.gate.key, token) is not None
        return JSONResponse(openapi(keyed))

    @app.get("/docs", include_in_schema=False)
    async def swagger():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="depthgauge API")

    @app.get("/redoc", include_in_schema=False)
    async def redoc():
        return get_redoc_html(openapi_url="/openapi.json", title="depthgauge API")

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
