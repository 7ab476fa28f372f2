"""How long a revoked key keeps working: two servers share a workspace (SQLite, then PostgreSQL); the key is
revoked through the CLI's code path on a third connection while a client polls each server every 10 ms; the delay is
the time from the revoking commit to the first 401 from each server.

Goal: within one second on every server. Run: .venv/bin/python bench/revocation_delay.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _common import write_result  # noqa: E402
from serve_load import free_port, start, stop  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402


def delays(home: Path, rounds: int) -> list[float]:
    from depthgauge.govern.keys import authenticate, create_key, revoke
    from depthgauge.workspace import Workspace

    ports = [free_port() for _ in range(2)]
    servers = [start([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                      "--monitor-every", "0"], port) for port in ports]
    found = []
    try:
        for _ in range(rounds):
            with Workspace.open(home) as workspace, workspace.transaction() as session:
                token = create_key(session, "to-revoke", "viewer")[1]
            clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
                       for port in ports]
            for c in clients:
                assert c.get("/v1/models").status_code == 200  # cached as valid on both servers
            with Workspace.open(home) as workspace, workspace.transaction() as session:
                revoke(session, authenticate(session, token).id)
            revoked_at = time.perf_counter()
            for c in clients:
                while c.get("/v1/models").status_code != 401:
                    time.sleep(0.01)
                found.append(time.perf_counter() - revoked_at)
                c.close()
    finally:
        for server in servers:
            stop(server)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    results = {}
    try:
        for backend in ("sqlite", "postgresql"):
            home = Path(tempfile.mkdtemp(prefix=f"depthgauge-revoke-{backend}-")) / "ws"
            if backend == "postgresql":
                os.environ["DEPTHGAUGE_DB_URL"] = cluster.create_database()
            else:
                os.environ.pop("DEPTHGAUGE_DB_URL", None)
            depthgauge.assess(churn_table(600, 6, seed=1), target="churned", time_budget="15s", home=home,
                              name="churn", candidates=("dummy", "linear"))
            found = sorted(delays(home, args.rounds))
            results[backend] = {"rounds": args.rounds, "servers": 2, "max_s": round(found[-1], 3),
                                "median_s": round(found[len(found) // 2], 3), "all_s": [round(x, 3) for x in found]}
            print(backend, results[backend], file=sys.stderr)
            shutil.rmtree(home.parent, ignore_errors=True)
    finally:
        os.environ.pop("DEPTHGAUGE_DB_URL", None)
        cluster.stop()
    write_result("revocation_delay", {"goal_s": 1.0, "results": results,
                                      "within_goal": all(r["max_s"] <= 1.0 for r in results.values())})


if __name__ == "__main__":
    main()
