"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from depthgauge.serve import reviews
from depthgauge.serve.answers import Health, Ready, problems
from depthgauge.serve.dependencies import require, serving
from depthgauge.serve.state import Serving
from depthgauge.store.tables import AlertRow

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz():
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "Not ready."}})
async def readyz(state: Serving = Depends(serving)):
    try:
        with state.workspace.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # the database is the one dependency that must answer
        return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
    if state.log is None or not state.log.thread.is_alive():
        return JSONResponse({"status": "not ready", "reason": "prediction log writer is not running"}, status_code=503)
    return {"status": "ready"}  # which models and versions are served is for a key: GET /v1/models


@router.get("/metrics", dependencies=[Depends(require("view"))], responses={
    200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
          "description": "Prometheus text format."}, **problems(401, 403, 429)})
async def prometheus(state: Serving = Depends(serving)):
    metrics = state.metrics
    metrics.backlog.set(state.log.backlog if state.log is not None else 0)
    with state.workspace.session() as session:
        metrics.queue_size.set(reviews.pending_count(session))
        metrics.alerts.clear()
        for name, severity, count in session.execute(
                select(AlertRow.model_name, AlertRow.severity, func.count()).where(AlertRow.status == "firing")
                .group_by(AlertRow.model_name, AlertRow.severity)):
            metrics.alerts.labels(name, severity).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
