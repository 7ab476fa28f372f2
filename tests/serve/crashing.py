"""The kill campaign, shared by the test suite (5 rounds) and bench/crash_campaign.py (100 rounds a database).

Each round starts `depthgauge serve` over the workspace, puts it under concurrent load (prediction streams, and
one admin deploying versions back and forth, which writes the audit log), SIGKILLs the server's whole process group
at a random moment, and then checks what a crash may never cost: every answered prediction is in the log, every
answered deploy is in the audit log, the audit chain verifies, and (SQLite) the database file passes its integrity
check.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.servers import ROW, free_port


def start_server(home: Path, port: int, *options: str) -> subprocess.Popen:
    """Start `depthgauge serve` as a user would, in its own process group; return it once /readyz answers 200."""
    process = subprocess.Popen([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                                *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {process.stderr.read().decode()[-2000:]}")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


@dataclass
class Round:
    answered: int = 0
    deploys_answered: int = 0
    missing: int = 0
    deploys_missing: int = 0
    integrity_ok: bool = True
    chain_ok: bool = True
    killed_after_s: float = 0.0


@dataclass
class Campaign:
    rounds: list[Round] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(r.missing + r.deploys_missing for r in self.rounds)

    def summary(self) -> dict:
        return {"rounds": len(self.rounds), "answered_predictions": sum(r.answered for r in self.rounds),
                "answered_deploys": sum(r.deploys_answered for r in self.rounds),
                "answered_but_lost": self.lost,
                "rounds_integrity_ok": sum(r.integrity_ok for r in self.rounds),
                "rounds_chain_ok": sum(r.chain_ok for r in self.rounds)}


def _predict_stream(url: str, token: str, answered: list, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while not stop.is_set():
            try:
                response = client.post("/v1/models/churn/predict", json={"inputs": [ROW, ROW]})
            except httpx.HTTPError:
                return  # the server died: what was not answered may be lost, nothing answered may be
            if response.status_code == 200:
                answered.extend(p["request_id"] for p in response.json()["predictions"])


def _deploy_stream(url: str, token: str, versions: tuple[str, str], answered: list, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        i = 0
        while not stop.is_set():
            try:
                response = client.post("/v1/models/churn/deploy", json={"ref": versions[i % 2]})
            except httpx.HTTPError:
                return
            if response.status_code == 200:
                answered.append(response.json()["ref"])
            i += 1
            time.sleep(0.05)


def run_campaign(home: Path, tokens: dict, rounds: int, seed: int, durability: str = "power", streams: int = 8,
                 sqlite_file: Path | None = None, progress=None) -> Campaign:
    """Kill a server under load `rounds` times; `sqlite_file` is checked for integrity after each kill."""
    from sqlalchemy import func, select

    from depthgauge.govern.audit import verify
    from depthgauge.store.tables import AuditEventRow, PredictionLogRow
    from depthgauge.workspace import Workspace

    rng = random.Random(seed)
    campaign = Campaign()
    with Workspace.open(home) as workspace, workspace.session() as session:
        deploys_before = session.scalar(select(func.count()).select_from(AuditEventRow)
                                        .where(AuditEventRow.action == "model.deploy"))
    deploys_answered = 0
    for _ in range(rounds):
        port = free_port()
        process = start_server(home, port, "--durability", durability, "--monitor-every", "0")
        url = f"http://127.0.0.1:{port}"
        answered: list[str] = []
        deployed: list[str] = []
        stop = threading.Event()
        threads = [threading.Thread(target=_predict_stream, args=(url, tokens["predictor"], answered, stop))
                   for _ in range(streams)]
        threads.append(threading.Thread(target=_deploy_stream,
                                        args=(url, tokens["admin"], ("churn:1", "churn:2"), deployed, stop)))
        for thread in threads:
            thread.start()
        wait = rng.uniform(0.2, 2.0)
        time.sleep(wait)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        result = Round(answered=len(answered), deploys_answered=len(deployed), killed_after_s=round(wait, 3))
        if sqlite_file is not None:
            connection = sqlite3.connect(sqlite_file)
            result.integrity_ok = connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            connection.close()
        with Workspace.open(home) as workspace, workspace.session() as session:
            stored = set()
            for i in range(0, len(answered), 500):
                stored.update(session.scalars(select(PredictionLogRow.request_id)
                                              .where(PredictionLogRow.request_id.in_(answered[i:i + 500]))))
            result.missing = len(set(answered) - stored)
            deploys_answered += len(deployed)
            audited = session.scalar(select(func.count()).select_from(AuditEventRow)
                                     .where(AuditEventRow.action == "model.deploy")) - deploys_before
            result.deploys_missing = max(0, deploys_answered - audited)
            result.chain_ok = verify(session).ok
        campaign.rounds.append(result)
        if progress:
            progress(len(campaign.rounds), result)
    return campaign
