"""Time to verdict with the default budget on a generated 100,000 × 50 table and on the bundled real set,
and the same table under a tight 20 s budget (which cuts the deep model short).

Goals (2 cores): the whole assessment within 3 minutes with the default 5-minute budget; a
run stays within +10% of its budget.
Run: .venv/bin/python bench/assess_tabular.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run(name: str, data, target: str, budget: str = "5m") -> dict:
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        result = depthgauge.assess(data, target=target, home=home, time_budget=budget)
        wall = time.perf_counter() - started
    metric = result.verdict.primary_metric
    return {
        "dataset": name,
        "time_to_verdict_s": round(wall, 2),
        "time_budget_s": result.options["time_budget_s"],
        "test_rows": result.split["sizes"]["test"],
        "verdict": result.verdict.headline,
        "candidates": [
            {"candidate": c.name, "status": c.status, "fit_seconds": round(c.fit_seconds, 3),
             metric: None if not c.ok else round(c.quality[metric].value, 5),
             f"{metric}_ci95": None if not c.ok else [round(c.quality[metric].low, 5), round(c.quality[metric].high, 5)],
             "epochs_or_rounds": c.params.get("epochs", c.params.get("best_iteration"))}
            for c in result.candidates
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    table = churn_table(args.rows, 50, seed=0)
    generated = run(f"generated churn {args.rows} x 50", table, "churned")
    real = run("breast cancer (bundled)", ROOT / "examples" / "breast_cancer.csv", "diagnosis")
    tight = run(f"generated churn {args.rows} x 50, 20 s budget", table, "churned", budget="20s")
    write_result("assess_tabular", {
        "goals": ["time_to_verdict_s <= 180 with the default budget", "time_to_verdict_s <= 1.1 x budget"],
        "runs": [generated, real, tight],
        "default_budget_goal_met": generated["time_to_verdict_s"] <= 180,
        "within_budget_plus_10pct": all(r["time_to_verdict_s"] <= 1.1 * r["time_budget_s"] for r in (generated, real, tight)),
    })


if __name__ == "__main__":
    main()
