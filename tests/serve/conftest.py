"""A real uvicorn server on loopback over a workspace with a registered model and one key per role."""

import shutil
import socket
import threading
import time

import httpx
import pytest
import uvicorn

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import ROLES, create_key
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.workspace import Workspace


class LiveServer:
    def __init__(self, app):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def served_workspace(request, tmp_path_factory):
    """(home, tokens by role, database URL or None): churn assessed and deployed, on each database backend."""
    home = tmp_path_factory.mktemp(f"serving-{request.param}") / "ws"
    url = request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None
    depthgauge.assess(churn_table(900, 8, seed=5), target="churned", time_budget="20s", home=home, resamples=200,
                      name="churn", db_url=url)
    tokens = {}
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        for role in ROLES:
            tokens[role] = create_key(session, f"{role}-key", role)[1]
        deployments.deploy(session, "churn", "2")
    return home, tokens, url


def private_copy(served_workspace, tmp_path, monkeypatch):
    """Return the home of a private copy of the served workspace (its database copied too, on PostgreSQL)."""
    home = tmp_path / "ws"
    shutil.copytree(served_workspace[0], home)
    url = served_workspace[2]
    if url is None:
        monkeypatch.delenv("DEPTHGAUGE_DB_URL", raising=False)
    else:
        from tests.conftest import postgres_cluster

        monkeypatch.setenv("DEPTHGAUGE_DB_URL", postgres_cluster().create_database(template=url.rsplit("/", 1)[1]))
    return home


@pytest.fixture
def server(served_workspace, tmp_path, monkeypatch):
    """(base URL, tokens by role, workspace home) of a fresh server over a private copy of the workspace."""
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    with LiveServer(create_app(home, max_body_bytes=50_000)) as url:
        yield url, served_workspace[1], home


def client(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


ROW = {"tenure_months": 3.0, "monthly_charges": 99.5, "support_calls": 4, "contract": "month-to-month",
       "region": "north", "usage_0": 0.1, "usage_1": -0.3, "usage_2": 1.2}
