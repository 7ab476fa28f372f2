"""Dashboard overview server time with 1,000,000 logged predictions in the database.

A churn model is assessed, deployed and given a million logged predictions (written as the
server writes them); the monitor runs 30 times (its snapshots are what the overview reads, so
the page never scans the log). Then the signed-in overview page is requested 200 times from a
real server on loopback, one at a time.
Run: .venv/bin/python bench/dashboard_overview.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from drift_report import log_traffic  # noqa: E402
from serve_load import free_port, start, stop  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="depthgauge-dashboard-bench-")) / "ws"
    assessment = depthgauge.assess(churn_table(20_000, 8, seed=0), target="churned", time_budget="30s", home=home,
                                   name="churn", candidates=("dummy", "lightgbm"), value="tp=100,fp=-20,fn=-500,tn=0")
    ref = assessment.registered[1]
    from depthgauge.govern.keys import create_key
    from depthgauge.monitor.service import run_monitor
    from depthgauge.serve import deploy as deployments
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.transaction() as session:
        deployments.deploy(session, "churn", ref)
        token = create_key(session, "bench", "viewer")[1]
    log_traffic(home, ref, churn_table(args.rows, 8, seed=1).drop(columns=["churned"]))
    time.sleep(1.5)
    with Workspace.open(home) as workspace:
        for _ in range(30):
            run_monitor(workspace, ["churn"])
    port = free_port()
    server = start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                    "--monitor-every", "0"], port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            signed_in = client.post("/login", data={"key": token, "next": "/"})
            assert signed_in.status_code == 303, signed_in.text
            timings = []
            for _ in range(200):
                started = time.perf_counter()
                response = client.get("/")
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200 and ref in response.text
    finally:
        stop(server)
    import sqlite3

    logged = sqlite3.connect(home / "depthgauge.db").execute("SELECT count(*) FROM prediction_log").fetchone()[0]
    p50, p95 = statistics.median(timings), sorted(timings)[int(0.95 * len(timings))]
    write_result("dashboard_overview", {
        "logged_predictions": logged, "requests": len(timings), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
        "max_ms": round(max(timings), 2),
        "how": "overview reads the latest 30 monitor snapshots per deployed model, alerts and the review count by "
               "index; it never scans the prediction log",
        "goals": {"overview_under_300_ms": p95 < 300},
    })


if __name__ == "__main__":
    main()
