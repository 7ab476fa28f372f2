"""The composition root of `depthgauge serve`: the prediction API, the monitor on its schedule and on the API,
and the dashboard, assembled over one workspace. The layers below know nothing of each other: `serve` neither
imports `monitor` nor `web`; this module is where they meet."""

from __future__ import annotations

import json
import os

from depthgauge.serve.app import MAX_BODY_BYTES, ServingApp, create_api
from depthgauge.serve.state import Job

SETTINGS_VARIABLE = "DEPTHGAUGE_SERVE_SETTINGS"  # how `serve --workers N` hands create_app's settings to each worker


def create_app(home=None, auth: bool = True, max_body_bytes: int = MAX_BODY_BYTES, durability: str = "power",
               monitor_every_s: float = 300.0, rules_file=None, log_format: str | None = None) -> ServingApp:
    """Return the server over the workspace at `home`: the API (see `serve.app.create_api` for `auth`,
    `max_body_bytes`, `durability` and `log_format`), the dashboard, and the monitor, which every
    `monitor_every_s` seconds (0: never) runs over the deployed models and fires alerts by `rules_file`
    (default: the workspace's alerts.yaml, else the built-in rules)."""
    from depthgauge.monitor.routes import router as monitor_router
    from depthgauge.monitor.service import run_monitor
    from depthgauge.web.routes import add_dashboard

    app = create_api(home, auth=auth, max_body_bytes=max_body_bytes, durability=durability, log_format=log_format)
    state = app.state.serving

    def monitor_now() -> None:
        for report in run_monitor(state.workspace, None, None, rules_file):
            state.metrics.drift.labels(report["model"]).set(report["drift"]["score"] or 0.0)

    state.jobs.append(Job("monitor", monitor_every_s, monitor_now))
    app.include_router(monitor_router)
    add_dashboard(app, state.workspace, auth)
    return app


def app_from_environment() -> ServingApp:
    """The app of one worker of `depthgauge serve --workers N`, built from the settings the command left in
    SETTINGS_VARIABLE (uvicorn starts each worker from an import string, not from a built app)."""
    return create_app(**json.loads(os.environ[SETTINGS_VARIABLE]))
