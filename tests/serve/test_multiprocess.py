"""Two server processes over one database: no lost log records, no duplicate reviews, one unbroken audit chain."""

import os
import signal
import threading

import httpx
from sqlalchemy import func, select

from depthgauge.govern.audit import verify
from depthgauge.store.tables import PredictionLogRow, ReviewRow
from depthgauge.workspace import Workspace
from tests.helpers.servers import ROW, free_port, private_copy
from tests.serve.crashing import start_server


def test_two_servers_share_one_database_without_losing_or_duplicating_anything(served_workspace, tmp_path, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    tokens = served_workspace[1]
    ports = [free_port(), free_port()]
    servers = [start_server(home, port, "--durability", "power") for port in ports]
    answered, errors = [], []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30,
                          headers={"Authorization": f"Bearer {tokens['admin']}"}) as admin:
            assert admin.post("/v1/models/churn/deploy",
                              json={"ref": "2", "review": {"confidence_threshold": 0.95}}).status_code == 200

        def stream(port: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {tokens['predictor']}"}) as c:
                for _ in range(40):
                    response = c.post("/v1/models/churn/predict", json={"inputs": [ROW, ROW, ROW]})
                    if response.status_code != 200:
                        errors.append(response.text)
                        continue
                    answered.extend(p["request_id"] for p in response.json()["predictions"])

        def administer(port: int) -> None:  # audited actions on both servers at once
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {tokens['admin']}"}) as c:
                for i in range(6):
                    ref = "2" if i % 2 else "3"
                    response = c.post("/v1/models/churn/deploy",
                                      json={"ref": ref, "review": {"confidence_threshold": 0.95}})
                    if response.status_code != 200:
                        errors.append(response.text)

        threads = [threading.Thread(target=stream, args=(port,)) for port in ports for _ in range(2)]
        threads += [threading.Thread(target=administer, args=(port,)) for port in ports]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        logs = []
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            logs.append(server.stderr.read().decode()[-3000:])
    assert not errors, (errors[:3], logs)
    assert len(answered) == 2 * 2 * 40 * 3 == len(set(answered))
    with Workspace.open(home) as workspace, workspace.session() as session:
        logged = set(session.scalars(select(PredictionLogRow.request_id).where(PredictionLogRow.request_id.in_(answered))))
        assert logged == set(answered)
        reviews = session.execute(select(ReviewRow.request_id, func.count()).group_by(ReviewRow.request_id)).all()
        assert reviews and all(count == 1 for _, count in reviews)
        check = verify(session)
        assert check.ok, check.problem
        assert check.events >= 12


def test_concurrent_deploys_leave_exactly_one_active_deployment(served_workspace, tmp_path, monkeypatch):
    from depthgauge.serve import deploy as deployments
    from depthgauge.store.tables import DeploymentRow

    home = private_copy(served_workspace, tmp_path, monkeypatch)
    failures = []

    def deploy(ref: str) -> None:
        for _ in range(5):
            try:
                with Workspace.open(home) as workspace, workspace.transaction() as session:
                    deployments.deploy(session, "churn", ref)
            except Exception as exc:  # SQLite may refuse a write that lost the race; it must not corrupt anything
                failures.append(f"{type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=deploy, args=(ref,)) for ref in ("2", "3", "2", "3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    with Workspace.open(home) as workspace, workspace.session() as session:
        active = session.scalars(select(DeploymentRow).where(DeploymentRow.model_name == "churn",
                                                              DeploymentRow.active.is_(True))).all()
        assert len(active) == 1
        assert verify(session).ok
    if served_workspace[2] is not None:
        assert failures == [], "PostgreSQL serializes the deploys instead of failing them"
