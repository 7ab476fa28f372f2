"""`GET /v1/monitor/{name}`: the monitoring report of a deployed model over a window, on the prediction API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from depthgauge.errors import DepthgaugeError
from depthgauge.monitor.profiles import parse_window
from depthgauge.monitor.service import current_report
from depthgauge.serve.answers import problems
from depthgauge.serve.dependencies import require, serving
from depthgauge.serve.state import Serving
from depthgauge.store.jsonable import json_ready

WINDOW_PATTERN = r"^([1-9][0-9]{0,8}|[0-9]{1,4}(\.[0-9]{1,6})?(m|min|h|d|w))$"  # what parse_window reads
WINDOW_HELP = "The last N predictions (10000), or a span of time (30m, 24h, 7d, 2w); default: the last 10,000."

router = APIRouter()


@router.get("/v1/monitor/{name}", dependencies=[Depends(require("view"))],
            responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}},
                       **problems(401, 403, 404, 409, 422, 429)})
async def monitor(name: str, window: str | None = Query(None, pattern=WINDOW_PATTERN, description=WINDOW_HELP),
                  state: Serving = Depends(serving)):
    """The monitoring report of the model's deployed version over `window`, with its recent alerts."""
    try:
        spec = parse_window(window)
    except DepthgaugeError as exc:
        return JSONResponse({"detail": [{"field": "window", "reason": str(exc)}]}, status_code=422)
    return JSONResponse(json_ready(await run_in_threadpool(current_report, state.workspace, name, spec)))
