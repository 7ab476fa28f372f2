"""Crash safety: SIGKILL the server mid-stream, many times; no answered prediction is ever missing from the log."""

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from depthgauge.workspace import Workspace
from tests.serve.conftest import ROW, private_copy

ROUNDS = 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(home, port, durability):
    process = subprocess.Popen([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                                "--durability", durability],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {process.stderr.read().decode()[-2000:]}")


def _stream(url, token, answered, stop):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=5) as client:
        while not stop.is_set():
            try:
                response = client.post("/v1/models/churn/predict", json={"inputs": [ROW, ROW]})
            except httpx.HTTPError:
                return  # the server died: whatever was not answered may be lost, nothing answered may be
            if response.status_code == 200:
                answered.extend(p["request_id"] for p in response.json()["predictions"])


@pytest.mark.parametrize("durability", ["power", "crash"])
def test_sigkill_at_random_moments_loses_no_answered_prediction(served_workspace, tmp_path, durability, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    token = served_workspace[1]["predictor"]
    rng = random.Random(20261124)
    answered: list[str] = []
    for _ in range(ROUNDS):
        port = _free_port()
        process = _start(home, port, durability)
        stop = threading.Event()
        clients = [threading.Thread(target=_stream, args=(f"http://127.0.0.1:{port}", token, answered, stop))
                   for _ in range(4)]
        for c in clients:
            c.start()
        time.sleep(rng.uniform(0.3, 1.5))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        stop.set()
        for c in clients:
            c.join(timeout=30)
    assert len(answered) > ROUNDS * 10, "the stream should have produced answers in every round"
    if served_workspace[2] is None:
        connection = sqlite3.connect(home / "depthgauge.db")
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.close()
    with Workspace.open(home) as workspace, workspace.engine.connect() as connection:
        stored = {row[0] for row in connection.exec_driver_sql("SELECT request_id FROM prediction_log")}
    missing = set(answered) - stored
    assert not missing, f"{len(missing)} answered predictions are missing from the log"
