"""`depthgauge serve --workers 2`: two processes share the port, and every answer of either is in the one log."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
from sqlalchemy import func, select

from depthgauge.store.tables import PredictionLogRow
from depthgauge.workspace import Workspace
from tests.helpers.servers import ROW, free_port, private_copy
from tests.serve.crashing import start_server, stop_server


def test_two_workers_answer_and_log_every_prediction(served_workspace, tmp_path, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    token = served_workspace[1]["predictor"]
    port = free_port()
    process = start_server(home, port, "--workers", "2", "--monitor-every", "0")
    try:
        url = f"http://127.0.0.1:{port}"
        workers = [p for p in psutil.Process(process.pid).children(recursive=True) if "python" in p.name().lower()]

        def predict(_):
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                return [client.post("/v1/models/churn/predict", json={"inputs": ROW}) for _ in range(10)]

        with ThreadPoolExecutor(8) as pool:
            answers = [answer for batch in pool.map(predict, range(8)) for answer in batch]
        unauthenticated = httpx.post(f"{url}/v1/models/churn/predict", json={"inputs": ROW})
    finally:
        stop_server(process)
    assert "with 2 workers" in process.stderr.read().decode()
    assert len([w for w in workers if w.pid != process.pid]) >= 2  # the supervisor's two serving children
    assert [a.status_code for a in answers] == [200] * 80 and unauthenticated.status_code == 401
    ids = [a.json()["predictions"][0]["request_id"] for a in answers]
    with Workspace.open(home) as workspace, workspace.session() as session:
        logged = session.scalar(select(func.count()).select_from(PredictionLogRow)
                                .where(PredictionLogRow.request_id.in_(ids)))
    assert len(set(ids)) == 80 and logged == 80
