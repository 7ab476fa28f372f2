"""`depthgauge serve --workers 2`: two processes share the port, and every answer of either is in the one log."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
from sqlalchemy import func, select

from depthgauge.store.tables import PredictionLogRow
from depthgauge.workspace import Workspace
from tests.helpers.servers import ROW, private_copy
from tests.serve.crashing import free_port


def test_two_workers_answer_and_log_every_prediction(served_workspace, tmp_path, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    token = served_workspace[1]["predictor"]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                                "--workers", "2", "--monitor-every", "0"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy(), start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and process.poll() is None, "the server did not start"
            time.sleep(0.2)
        workers = [p for p in psutil.Process(process.pid).children(recursive=True) if "python" in p.name().lower()]

        def predict(_):
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                return [client.post("/v1/models/churn/predict", json={"inputs": ROW}) for _ in range(10)]

        with ThreadPoolExecutor(8) as pool:
            answers = [answer for batch in pool.map(predict, range(8)) for answer in batch]
        unauthenticated = httpx.post(f"{url}/v1/models/churn/predict", json={"inputs": ROW})
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert "with 2 workers" in err
    assert len([w for w in workers if w.pid != process.pid]) >= 2  # the supervisor's two serving children
    assert [a.status_code for a in answers] == [200] * 80 and unauthenticated.status_code == 401
    ids = [a.json()["predictions"][0]["request_id"] for a in answers]
    with Workspace.open(home) as workspace, workspace.session() as session:
        logged = session.scalar(select(func.count()).select_from(PredictionLogRow)
                                .where(PredictionLogRow.request_id.in_(ids)))
    assert len(set(ids)) == 80 and logged == 80
