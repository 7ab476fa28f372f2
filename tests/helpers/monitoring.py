"""Traffic for the monitor, and a webhook receiver that records what it is sent."""

from __future__ import annotations

import http.server
import json
import threading
import time

from depthgauge.data.synth import churn_table


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


def traffic(seed: int, rows: int = 400, shift: float = 0.0):
    frame = churn_table(rows, 8, seed=seed)
    frame["monthly_charges"] = frame["monthly_charges"] + shift
    return json.loads(frame.drop(columns=["churned"]).to_json(orient="records")), frame["churned"].astype(str).tolist()


def post_traffic(client, records) -> list[str]:
    ids = []
    for start in range(0, len(records), 100):
        response = client.post("/v1/models/churn/predict", json={"inputs": records[start:start + 100]})
        assert response.status_code == 200, response.text
        ids += [p["request_id"] for p in response.json()["predictions"]]
    return ids


def served_answers(home, token: str, model: str, records: list[dict], batch: int = 250) -> list[dict]:
    """Predict `records` through a real server over the workspace at `home`; return every answer, in order."""
    import httpx

    from depthgauge.server import create_app
    from tests.helpers.servers import LiveServer

    answers = []
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for start in range(0, len(records), batch):
            response = client.post(f"/v1/models/{model}/predict", json={"inputs": records[start:start + batch]})
            assert response.status_code == 200, response.text
            answers += response.json()["predictions"]
    return answers


def settle_log(home) -> None:
    """Age every logged prediction past the monitor's settle time (SETTLE_S), as waiting that long would."""
    from datetime import timedelta

    from sqlalchemy import select

    from depthgauge.monitor.profiles import SETTLE_S
    from depthgauge.store.tables import PredictionLogRow
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.transaction() as session:
        for row in session.scalars(select(PredictionLogRow)):
            row.at = row.at - timedelta(seconds=SETTLE_S + 1)
