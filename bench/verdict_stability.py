"""Does the verdict hold on the next seed? Real tables, seeds 0 to 4, one `depthgauge assess` each (issue 17).

For each table and seed: the call, the per-split scores of every candidate, TabM vs the MLP vs
LightGBM (means over the splits), stability, and the wall time against the budget. Goals: the same
call for all seeds on every table; the best deep candidate's score at least the MLP's; wall time
within +10% of the budget.

Tables, none downloaded: scikit-learn's bundled breast cancer, wine and diabetes; statsmodels'
bundled Fair's affairs survey (6,366 rows) and RAND health insurance visits (20,190 rows).
Run: .venv/bin/python bench/verdict_stability.py [--budget 5m] [--seeds 0,1,2,3,4] [--sets name,...]
(needs: pip install statsmodels; 5 tables x 5 seeds at 5m is about 2 hours on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402
from verdict_suite import _fair, _sklearn, _statsmodels  # noqa: E402

from depthgauge.assessment.quality import LOWER_IS_BETTER  # noqa: E402
from depthgauge.units import parse_duration  # noqa: E402

TABLES = {
    "breast_cancer": (lambda: _sklearn("breast_cancer", "diagnosis"), "diagnosis"),
    "wine": (lambda: _sklearn("wine", "cultivar"), "cultivar"),
    "diabetes": (lambda: _sklearn("diabetes", "progression"), "progression"),
    "fair_affairs": (_fair, "had_affair"),
    "randhie_visits": (lambda: _statsmodels("randhie"), "mdvis"),
}


def one_run(out: dict, wall: float, budget_s: float, seed: int) -> dict:
    verdict = out["verdict"]
    metric = verdict["primary_metric"]
    scores = {}
    for c in out["candidates"]:
        if c["status"] != "ok" or c["family"] == "endpoint":
            continue
        per_split = c.get("split_scores") or [c["scorecard"]["quality"][metric]["value"]]
        kept = [x for x in per_split if x is not None]
        scores[c["name"]] = {"splits": [None if x is None else round(x, 4) for x in per_split],
                             "mean": round(float(np.mean(kept)), 4) if kept else None,
                             "stopped_because": c["params"].get("stopped_because")}
    return {"seed": seed, "call": verdict["call"], "recommended": verdict["recommended"], "deep": verdict["deep"],
            "summary": verdict.get("summary"), "extra_monthly_cost": verdict.get("extra_monthly_cost"),
            "metric": metric, "min_effect": verdict.get("min_effect"), "stability": verdict.get("stability"),
            "splits_won": verdict.get("splits_won"), "repeats": out["split"].get("repeats"),
            "wall_s": round(wall, 1), "wall_over_budget": round(wall / budget_s, 3), "scores": scores,
            "headline": verdict["headline"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="5m")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--sets", default="")
    parser.add_argument("--out", default="verdict_stability", help="result name under bench/results/ (a subset run "
                                                                   "should not replace the full one)")
    args = parser.parse_args()
    budget_s = parse_duration(args.budget)
    seeds = [int(s) for s in args.seeds.split(",")]
    exe = Path(sys.executable).parent / "depthgauge"
    tables = []
    with tempfile.TemporaryDirectory(prefix="verdict-stability-") as scratch:
        folder = Path(scratch)
        for name in [n for n in args.sets.split(",") if n] or list(TABLES):
            make, target = TABLES[name]
            path = folder / f"{name}.csv"
            make().to_csv(path, index=False)
            runs = []
            for seed in seeds:
                command = [str(exe), "--home", str(folder / f"ws-{name}"), "assess", str(path), "--target", target,
                           "--time-budget", args.budget, "--seed", str(seed), "--json"]
                print(f"[{name} seed {seed}]", file=sys.stderr, flush=True)
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "CI": ""})
                wall = time.perf_counter() - started
                if done.returncode != 0:
                    runs.append({"seed": seed, "error": done.stderr[-2000:], "wall_s": round(wall, 1)})
                else:
                    runs.append(one_run(json.loads(done.stdout), wall, budget_s, seed))
                print(json.dumps({k: v for k, v in runs[-1].items() if k not in ("scores", "headline")}),
                      file=sys.stderr, flush=True)
            ok = [r for r in runs if "error" not in r]
            calls = sorted({r["call"] for r in ok})
            def gain(r, a, b):  # how much better a is than b on the primary metric (positive: better)
                sign = -1.0 if r["metric"] in LOWER_IS_BETTER else 1.0
                if a not in r["scores"] or b not in r["scores"] or None in (r["scores"][a]["mean"], r["scores"][b]["mean"]):
                    return None
                return round(sign * (r["scores"][a]["mean"] - r["scores"][b]["mean"]), 4)

            best_deep_vs_mlp = [gain(r, r["deep"], "mlp") for r in ok if r["deep"]]
            tables.append({"table": name, "rows": len(__import__("pandas").read_csv(path)), "calls": calls,
                           "recommended": sorted({r["recommended"] for r in ok}),
                           "same_call_every_seed": len(calls) == 1 and len(ok) == len(seeds),
                           "best_deep_better_than_mlp_by": best_deep_vs_mlp,
                           "tabm_better_than_mlp_by": [gain(r, "tabm", "mlp") for r in ok],
                           "best_deep_better_than_lightgbm_by": [gain(r, r["deep"], "lightgbm") for r in ok if r["deep"]],
                           "worst_wall_over_budget": max((r["wall_over_budget"] for r in ok), default=None),
                           "runs": runs})
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "verdict_stability.partial.json").write_text(json.dumps(tables, indent=1))
    write_result(args.out, {
        "budget": args.budget, "seeds": seeds,
        "goals": {"same_call_every_seed": True, "best_deep_at_least_mlp": True, "wall_over_budget_max": 1.1},
        "tables_with_one_call": sum(t["same_call_every_seed"] for t in tables),
        "worst_wall_over_budget": max((t["worst_wall_over_budget"] or 0 for t in tables), default=None),
        "tables": tables,
    })
    (RESULTS / "verdict_stability.partial.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
