"""A real uvicorn server on loopback, and what tests send it."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        self.port = free_port()
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


def private_copy(served_workspace, tmp_path, monkeypatch):
    """Return the home of a private copy of the served workspace (its database copied too, on PostgreSQL)."""
    home = tmp_path / "ws"
    shutil.copytree(served_workspace[0], home)
    url = served_workspace[2]
    if url is None:
        monkeypatch.delenv("DEPTHGAUGE_DB_URL", raising=False)
    else:
        from tests.helpers.databases import postgres_cluster

        monkeypatch.setenv("DEPTHGAUGE_DB_URL", postgres_cluster().create_database(template=url.rsplit("/", 1)[1]))
    return home


def client(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


ROW = {"tenure_months": 3.0, "monthly_charges": 99.5, "support_calls": 4, "contract": "month-to-month",
       "region": "north", "usage_0": 0.1, "usage_1": -0.3, "usage_2": 1.2}
