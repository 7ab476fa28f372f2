"""Prediction-log throughput and p99 latency on SQLite vs PostgreSQL, with 1 and 2 server processes.

A LightGBM churn model is served by `depthgauge serve` (one process, or two on different ports
over the same database); wrk drives 64 connections in total for the given seconds (split over
the processes). Every answered prediction is logged and committed before it is answered.
PostgreSQL is a throwaway local cluster (tests/postgres.py) with fsync on, on the same 2 cores.
Run: .venv/bin/python bench/log_backends.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _common import write_result  # noqa: E402
from serve_load import free_port, load, start, stop  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402


def run(home: Path, seconds: float, processes: int, token: str) -> dict:
    ports = [free_port() for _ in range(processes)]
    servers = [start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                      "--monitor-every", "0"], port) for port in ports]
    try:
        import threading

        results = [None] * processes

        def drive(i: int) -> None:
            results[i] = load(f"http://127.0.0.1:{ports[i]}/v1/models/churn/predict", token, 64 // processes, seconds)

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(processes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for server in servers:
            stop(server)
    return {"processes": processes, "throughput_per_s": round(sum(r["throughput_per_s"] for r in results), 1),
            "p99_ms": max(r["p99_ms"] for r in results), "p50_ms": max(r["p50_ms"] for r in results),
            "answered": sum(r["answered"] for r in results), "errors": sum(r["errors"] for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster(fsync=True)
    cluster.start()
    results = {}
    try:
        for backend in ("sqlite", "postgresql"):
            home = Path(tempfile.mkdtemp(prefix=f"depthgauge-log-bench-{backend}-")) / "ws"
            url = None
            if backend == "postgresql":
                url = cluster.create_database()
                os.environ["DEPTHGAUGE_DB_URL"] = url
            else:
                os.environ.pop("DEPTHGAUGE_DB_URL", None)
            assessment = depthgauge.assess(churn_table(5000, 8, seed=1), target="churned", time_budget="20s",
                                           home=home, name="churn", candidates=("dummy", "lightgbm"))
            from depthgauge.govern.keys import create_key
            from depthgauge.serve import deploy as deployments
            from depthgauge.workspace import Workspace

            with Workspace.open(home) as workspace, workspace.transaction() as session:
                token = create_key(session, "bench", "predictor")[1]
                deployments.deploy(session, "churn", assessment.registered[1])
            results[backend] = [run(home, args.seconds, n, token) for n in (1, 2)]
            shutil.rmtree(home.parent, ignore_errors=True)
    finally:
        os.environ.pop("DEPTHGAUGE_DB_URL", None)
        cluster.stop()
    write_result("log_backends", {"connections": 64, "seconds": args.seconds, "results": results,
                                  "note": "2 cores shared by the load generator, the server(s) and PostgreSQL"})


if __name__ == "__main__":
    main()
