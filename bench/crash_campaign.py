"""The kill campaign: 100 rounds a database (SQLite, then PostgreSQL with fsync on) of SIGKILL at a random moment
under 8 prediction streams and an admin deploying back and forth, then a restart. After every kill: answered
predictions against log rows, answered deploys against the audit log, the audit chain's verification and (SQLite) the
file's integrity check. tests/serve/test_crash.py runs the same for 5 rounds.

Goals: 0 answered-but-lost records over 100 rounds on each database; integrity and chain intact every round.
Run: .venv/bin/python bench/crash_campaign.py [--rounds 100] (PostgreSQL: installed by `make test`)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402
from tests.serve.crashing import run_campaign  # noqa: E402


def _workspace(home: Path, url: str | None) -> dict:
    from depthgauge.govern.keys import create_key
    from depthgauge.serve import deploy as deployments
    from depthgauge.workspace import Workspace

    depthgauge.assess(churn_table(900, 8, seed=5), target="churned", time_budget="20s", home=home, resamples=200,
                      name="churn", db_url=url, candidates=("dummy", "lightgbm"))
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        tokens = {role: create_key(session, f"campaign-{role}", role)[1] for role in ("admin", "predictor")}
        deployments.deploy(session, "churn", "2")
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    results = {}
    for database in args.databases.split(","):
        home = Path(tempfile.mkdtemp(prefix=f"depthgauge-crash-{database}-")) / "ws"
        cluster = None
        if database == "postgresql":
            from tests.postgres import PostgresCluster

            cluster = PostgresCluster(fsync=True)
            cluster.start()
            os.environ["DEPTHGAUGE_DB_URL"] = cluster.create_database()
        else:
            os.environ.pop("DEPTHGAUGE_DB_URL", None)
        try:
            tokens = _workspace(home, os.environ.get("DEPTHGAUGE_DB_URL"))
            started = time.perf_counter()

            def progress(done, result, database=database):
                print(f"{database} round {done}/{args.rounds}: {result}", file=sys.stderr, flush=True)

            campaign = run_campaign(home, tokens, args.rounds, args.seed, durability="power",
                                    sqlite_file=home / "depthgauge.db" if cluster is None else None, progress=progress)
            results[database] = {**campaign.summary(), "seconds": round(time.perf_counter() - started, 1),
                                 "killed_after_s": [r.killed_after_s for r in campaign.rounds],
                                 "answered_per_round": [r.answered for r in campaign.rounds]}
        finally:
            if cluster is not None:
                cluster.stop()
    write_result("crash_campaign", {
        "rounds_per_database": args.rounds, "seed": args.seed, "durability": "power", "prediction_streams": 8,
        "databases": results,
        "goal_met": all(r["answered_but_lost"] == 0 and r["rounds_integrity_ok"] == r["rounds"]
                        and r["rounds_chain_ok"] == r["rounds"] for r in results.values())})


if __name__ == "__main__":
    main()
