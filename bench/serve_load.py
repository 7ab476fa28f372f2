"""Serving under load on loopback: the full service vs a bare FastAPI endpoint vs an in-process call.

For a LightGBM and an MLP version of one assessment: throughput and p50/p99 latency at
concurrency 1, 16 and 64; for LightGBM also with micro-batching off and with `--workers 2`; then a soak of the full service at 64 connections that checks
every answered prediction is in the log. The full service runs with the default durability
("power": each group commit is flushed to disk before answering) and again with "crash". The load generator is wrk (Debian's package: apt-get
install wrk), which shares the 2 cores with the server, as any loopback test must.
Run: .venv/bin/python bench/serve_load.py [--seconds 10] [--soak 60]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402

ROW = {"tenure_months": 3.0, "monthly_charges": 99.5, "support_calls": 4, "contract": "month-to-month",
       "region": "north", "usage_0": 0.1, "usage_1": -0.3, "usage_2": 1.2}
BARE = '''
import sys
import pandas as pd
from fastapi import FastAPI, Request
import depthgauge
model = depthgauge.load_model(sys.argv[1])
app = FastAPI()
@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    proba = model.model.predict_proba(pd.DataFrame([body["inputs"]]))
    return {"probabilities": proba[0].tolist()}
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], port: int, ready_path: str = "/docs", cwd: Path | None = None) -> subprocess.Popen:
    """Start a server in its own process group; return it once `ready_path` answers 200."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               cwd=cwd)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"{command} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def load(url: str, token: str | None, concurrency: int, seconds: float, body: dict | None = None) -> dict:
    """Run wrk POSTing `body` (default: one churn record) to `url`; return requests, errors, throughput and
    latency percentiles."""
    import re
    import shutil

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    script = Path(tempfile.mkdtemp()) / "post.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n' + auth
                      + "wrk.body = '" + json.dumps(body or {"inputs": ROW}) + "'\n"
                      + 'done = function(summary, latency, requests)\n'
                      + '  io.write(string.format("P50 %f\\nP99 %f\\n", latency:percentile(50) / 1000, '
                      + 'latency:percentile(99) / 1000))\nend\n')
    finished = subprocess.run(["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{int(seconds)}s", "-s",
                               str(script), url], capture_output=True, text=True, timeout=seconds + 60)
    output = finished.stdout
    if "requests in" not in output:
        raise RuntimeError(f"wrk failed: {finished.stdout[-500:]} {finished.stderr[-500:]}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return {"concurrency": concurrency, "answered": requests - (int(bad.group(1)) if bad else 0), "errors": errors,
            "throughput_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50_ms": round(float(re.search(r"P50 ([\d.]+)", output).group(1)), 3),
            "p99_ms": round(float(re.search(r"P99 ([\d.]+)", output).group(1)), 3)}


def in_process(predictor, n: int = 2000) -> dict:
    """What the service itself spends on one row: the input contract's check, then the one-row fast path."""
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        rows, _ = predictor.contract.check_records([ROW])
        predictor.model.predict_records_raw(rows)
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(timings), 3), "p99_ms": round(sorted(timings)[int(0.99 * n)], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--soak", type=float, default=60)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="depthgauge-serve-bench-")) / "ws"
    depthgauge.assess(churn_table(20_000, 8, seed=1), target="churned", time_budget="60s", home=home, name="churn")
    from depthgauge.govern.keys import create_key
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "bench", "predictor")[1]
    results = {}
    for family, version in (("lightgbm", "churn:4"), ("mlp", "churn:5")):
        predictor = depthgauge.load_model(version, home=home)
        results[family] = {"version": version, "in_process": in_process(predictor), "full": [], "bare": []}
        port = free_port()
        server = start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                        "--deploy", version], port)
        for concurrency in (1, 16, 64):
            results[family]["full"].append(load(f"http://127.0.0.1:{port}/v1/models/churn/predict", token, concurrency,
                                                args.seconds))
        stop(server)
        port = free_port()  # the same service, durable against a killed server rather than a power cut
        server = start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                        "--durability", "crash"], port)
        results[family]["full_durability_crash"] = [
            load(f"http://127.0.0.1:{port}/v1/models/churn/predict", token, concurrency, args.seconds)
            for concurrency in (1, 64)]
        stop(server)
        bare_file = home.parent / "bare_app.py"
        bare_file.write_text(BARE)
        port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", f"import sys; sys.argv=['x', {str(predictor.artifact_dir)!r}]; "
                                 f"exec(open({str(bare_file)!r}).read()); import uvicorn; "
                                 f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        for concurrency in (1, 16, 64):
            results[family]["bare"].append(load(f"http://127.0.0.1:{port}/predict", None, concurrency, args.seconds))
        stop(bare)
        one_full, one_bare = results[family]["full"][0], results[family]["bare"][0]
        results[family]["p50_overhead_ms_vs_in_process_at_c1"] = round(one_full["p50_ms"] - results[family]["in_process"]["p50_ms"], 3)
        results[family]["p50_overhead_ms_vs_bare_at_c1"] = round(one_full["p50_ms"] - one_bare["p50_ms"], 3)
        results[family]["p50_overhead_ms_vs_in_process_at_c1_durability_crash"] = round(
            results[family]["full_durability_crash"][0]["p50_ms"] - results[family]["in_process"]["p50_ms"], 3)

    def served(extra: list[str], concurrencies: tuple[int, ...]) -> list[dict]:
        port = free_port()
        server = start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port), *extra],
                       port)
        try:
            return [load(f"http://127.0.0.1:{port}/v1/models/churn/predict", token, c, args.seconds)
                    for c in concurrencies]
        finally:
            stop(server)

    from depthgauge.serve import deploy as deployments

    # the micro-batcher's effect: the same LightGBM version deployed with batching off, then on again
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        deployments.deploy(session, "churn", "churn:4", {"batching": False})
    results["lightgbm"]["batching_off"] = served([], (1, 64))
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        deployments.deploy(session, "churn", "churn:4", {})
    results["lightgbm"]["workers_2"] = served(["--workers", "2"], (1, 64))
    full_64 = results["lightgbm"]["full"][-1]["throughput_per_s"]
    results["lightgbm"]["workers_2_over_1_at_64"] = round(results["lightgbm"]["workers_2"][-1]["throughput_per_s"]
                                                          / full_64, 2)

    port = free_port()
    server = start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port), "--deploy",
                    "churn:4"], port)
    from depthgauge.store.tables import utcnow

    soak_started = utcnow().isoformat(sep=" ")
    soak = load(f"http://127.0.0.1:{port}/v1/models/churn/predict", token, 64, args.soak)
    stop(server)
    connection = sqlite3.connect(home / "depthgauge.db")
    logged = connection.execute("SELECT count(*) FROM prediction_log WHERE at >= ?", (soak_started,)).fetchone()[0]
    integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    soak.update(seconds=args.soak, logged=logged, lost_log_records=max(0, soak["answered"] - logged),
                integrity_check=integrity)
    lightgbm = results["lightgbm"]
    write_result("serve_load", {
        "models": results, "soak_lightgbm_64_connections": soak,
        "goals": {
            "p50_overhead_vs_in_process_at_c1_ms<=1": lightgbm["p50_overhead_ms_vs_in_process_at_c1"] <= 1,
            "p50_overhead_vs_in_process_at_c1_ms<=1_durability_crash":
                lightgbm["p50_overhead_ms_vs_in_process_at_c1_durability_crash"] <= 1,
            "logged_lightgbm_predictions_per_s_at_64>=4000": lightgbm["full"][-1]["throughput_per_s"] >= 4000,
            "zero_errors_and_zero_lost_in_soak": soak["errors"] == 0 and soak["lost_log_records"] == 0,
        },
    })


if __name__ == "__main__":
    main()
