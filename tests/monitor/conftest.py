"""A workspace with a served churn model (value matrix set) and a real HTTP receiver for webhooks."""

import http.server
import json
import threading
import time

import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import create_key
from depthgauge.registry import service as registry
from depthgauge.serve import deploy as deployments
from depthgauge.workspace import Workspace


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def monitored_workspace(request, tmp_path_factory):
    """(home, admin token, LightGBM ref, database URL or None): churn assessed on 1,500 rows, LightGBM approved, in
    production and deployed, on each database backend."""
    home = tmp_path_factory.mktemp(f"monitoring-{request.param}") / "ws"
    url = request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None
    assessment = depthgauge.assess(churn_table(1500, 8, seed=21), target="churned", time_budget="20s", home=home,
                                   resamples=200, name="churn", value="tp=100,fp=-20,fn=-500,tn=0",
                                   candidates=("dummy", "linear", "lightgbm"), db_url=url)
    ref = next(r for r in assessment.registered if r.endswith(":3"))
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        token = create_key(session, "admin-key", "admin")[1]
        registry.approve(session, ref, "monitoring tests")
        registry.promote(session, ref, "production")
        deployments.deploy(session, "churn", ref)
    return home, token, ref, url


@pytest.fixture
def workspace_copy(monitored_workspace, tmp_path, monkeypatch):
    """(home, admin token, ref) of a private copy (its database copied too, on PostgreSQL), set for everything to use."""
    from tests.serve.conftest import private_copy

    home = private_copy((monitored_workspace[0], None, monitored_workspace[3]), tmp_path, monkeypatch)
    return home, monitored_workspace[1], monitored_workspace[2]


class Receiver:
    """A webhook receiver on loopback that answers with the given status codes in turn (then 200), optionally slowly."""

    def __init__(self, statuses=(), delay_s: float = 0.0):
        self.statuses = list(statuses)
        self.delay_s = delay_s
        self.received: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(json.loads(body))
                time.sleep(receiver.delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def write_rules(path, url=None, retries=2, timeout_s=2.0, quality_threshold=0.05):
    path.write_text(f"""
rules:
  - name: feature-drift
    metric: drift.drifted_count
    comparison: ">="
    threshold: 1
    window: "400"
    severity: warning
  - name: quality-drop
    metric: quality.drop
    comparison: ">="
    threshold: {quality_threshold}
    window: "400"
    severity: critical
webhook:
  url: {url or 'null'}
  timeout_s: {timeout_s}
  retries: {retries}
""")
    return path
