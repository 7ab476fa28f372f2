"""Ray on 2 cores: assess wall time with the Ray executor vs local, and Ray Train throughput on 1 vs 2 workers.

Expect little from Ray on 2 cores: its processes start in seconds and the candidates already use
both cores (LightGBM's threads). The Ray Train figure is the MLP's training throughput (rows per
second of the shared loop, Ray's start-up excluded) on the same data with 1 and 2 DDP workers.
Run: .venv/bin/python bench/ray_scaling.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import prepared_churn, write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    data = churn_table(args.rows, 20, seed=0)
    assess = {}
    for executor in ("local", "ray"):
        started = time.perf_counter()
        result = depthgauge.assess(data, target="churned", time_budget="60s", executor=executor,
                                   home=Path(tempfile.mkdtemp()) / "ws")
        assess[executor] = {"seconds": round(time.perf_counter() - started, 2),
                            "fit_seconds": {c.name: round(c.fit_seconds, 2) for c in result.candidates},
                            "recommended": result.verdict.recommended}
    from depthgauge.assessment.executors import train_mlp_data_parallel

    roles, X, y, split = prepared_churn(args.rows, 20)
    parts = (X.iloc[split.train], y[split.train], X.iloc[split.validation], y[split.validation])
    train = {}
    for workers in (1, 2):
        started = time.perf_counter()
        outcome = train_mlp_data_parallel("binary", roles, 0, 30.0, parts, workers)
        train[workers] = {"rows_per_s": round(outcome["rows_seen"] / outcome["train_seconds"]),
                          "train_seconds": round(outcome["train_seconds"], 2), "rows_seen": outcome["rows_seen"],
                          "wall_seconds_with_ray_startup": round(time.perf_counter() - started, 2),
                          "stopped_because": outcome["history"]["stopped_because"]}
    ray.shutdown()
    write_result("ray_scaling", {
        "rows": args.rows, "features": 20, "cpus": 2,
        "assess_60s_budget": assess,
        "assess_ray_over_local_wall_time": round(assess["ray"]["seconds"] / assess["local"]["seconds"], 2),
        "ray_train_mlp": train,
        "ray_train_2_over_1_worker_throughput": round(train[2]["rows_per_s"] / train[1]["rows_per_s"], 2),
    })


if __name__ == "__main__":
    main()
