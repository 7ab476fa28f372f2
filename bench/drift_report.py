"""Drift report over 1,000,000 logged predictions × 50 features, and Evidently's data-drift report on the same data.

A LightGBM version of a 50-feature churn model is assessed and registered; a million rows of
traffic (three features drifted) are predicted and written to its prediction log as the server
writes them. The monitor folds the log into profiles as it grows (the server does so on every
scheduled run); this is timed once for the whole million ("cold", the one-off cost when a
monitor first meets a big log) and for the next 10,000 predictions (what a scheduled run
does). Then the report over the last 1,000,000 predictions is timed: the goal's figure. Evidently (in its own virtual environment, bench/.venv-evidently)
gets the same reference and current data as in-memory DataFrames and runs DataDriftPreset.
Run: .venv/bin/python bench/drift_report.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402

EVIDENTLY_VENV = Path(__file__).parent / ".venv-evidently"
EVIDENTLY_SCRIPT = """
import sys, time, json
import pandas as pd
started = time.perf_counter()
reference = pd.read_parquet(sys.argv[1]); current = pd.read_parquet(sys.argv[2])
loaded = time.perf_counter() - started
from evidently import Report
from evidently.presets import DataDriftPreset
started = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
result = snapshot.dict()
seconds = time.perf_counter() - started
drifted = [m for m in result["metrics"] if "DriftedColumnsCount" in str(m.get("metric_id", ""))]
import evidently
print(json.dumps({"seconds": seconds, "load_seconds": loaded, "version": evidently.__version__,
                  "drifted_columns": drifted[0]["value"] if drifted else None}))
"""


def ensure_evidently() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "evidently", "pandas<3", "pyarrow"], check=True)
    return python


def log_traffic(home: Path, ref: str, frame, chunk: int = 50_000) -> None:
    """Predict `frame` with `ref` and write every prediction to the log, in the form the server writes."""
    from sqlalchemy import insert

    from depthgauge.store.tables import PredictionLogRow, utcnow
    from depthgauge.workspace import Workspace

    predictor = depthgauge.load_model(ref, home=home)
    classes = list(predictor.model.classes_)
    with Workspace.open(home) as workspace:
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start:start + chunk]
            proba = predictor.model.predict_proba(part)
            records = json.loads(part.to_json(orient="records"))
            now = utcnow()
            rows = [{"request_id": uuid.uuid4().hex, "model_name": "churn", "ref": ref, "at": now, "inputs": record,
                     "output": {"prediction": classes[p.argmax()], "probabilities": dict(zip(classes, p.tolist()))},
                     "confidence": float(p.max()), "latency_ms": 0.8, "review_status": "none"}
                    for record, p in zip(records, proba)]
            with workspace.engine.begin() as connection:
                connection.execute(insert(PredictionLogRow.__table__), rows)
            print(f"logged {start + len(part):,}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="depthgauge-drift-bench-"))
    home = scratch / "ws"
    training = churn_table(20_000, 50, seed=0)
    assessment = depthgauge.assess(training, target="churned", time_budget="60s", home=home, name="churn",
                                   candidates=("dummy", "lightgbm"))
    ref = assessment.registered[1]
    current = churn_table(args.rows, 50, seed=1).drop(columns=["churned"])
    current["monthly_charges"] = current["monthly_charges"] + 20
    current["usage_0"] = current["usage_0"] * 1.5
    current.loc[current.index[: args.rows // 2], "contract"] = "two-year"
    log_traffic(home, ref, current)

    from depthgauge.monitor.profiles import WindowSpec, fold_new_predictions
    from depthgauge.monitor.report import build_report, monitored_version
    from depthgauge.workspace import Workspace

    runs = []
    with Workspace.open(home) as workspace:
        with workspace.session() as session:
            version_id = monitored_version(session, ref).id
        time.sleep(1.5)
        started = time.perf_counter()
        folded = fold_new_predictions(workspace, version_id)
        fold_cold = time.perf_counter() - started
    log_traffic(home, ref, current.iloc[:10_000])
    time.sleep(1.5)
    with Workspace.open(home) as workspace:
        started = time.perf_counter()
        folded_next = fold_new_predictions(workspace, version_id)
        fold_next = time.perf_counter() - started
        for _ in range(3):
            with workspace.session() as session:
                started = time.perf_counter()
                report = build_report(session, ref, WindowSpec(last=args.rows))
                runs.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours = sorted(runs)[1]

    python = ensure_evidently()
    reference_file, current_file = scratch / "reference.parquet", scratch / "current.parquet"
    training.drop(columns=["churned"]).to_parquet(reference_file)
    current.to_parquet(current_file)
    script = scratch / "evidently_run.py"
    script.write_text(EVIDENTLY_SCRIPT)
    finished = subprocess.run([str(python), str(script), str(reference_file), str(current_file)], capture_output=True,
                              text=True, timeout=3600)
    if finished.returncode != 0:
        raise RuntimeError(finished.stderr[-3000:])
    evidently = json.loads(finished.stdout.strip().splitlines()[-1])
    write_result("drift_report", {
        "rows": args.rows, "features": current.shape[1], "drifted_on_purpose": ["monthly_charges", "usage_0", "contract"],
        "depthgauge": {"report_seconds_median_of_3": round(ours, 2), "runs": [round(r, 2) for r in runs],
                       "includes": "merging the window's log profiles, drift tests, quality from labels, operations",
                       "fold_cold_seconds": round(fold_cold, 2), "fold_cold_rows": folded,
                       "fold_next_10k_seconds": round(fold_next, 3), "fold_next_rows": folded_next,
                       "peak_rss_mb": round(peak_mb), "drift_score": report["drift"]["score"],
                       "drifted_features": report["drift"]["drifted_features"]},
        "evidently": {**evidently, "includes": "DataDriftPreset on in-memory DataFrames (loading not counted)"},
        "evidently_seconds_over_depthgauge_report": round(evidently["seconds"] / ours, 2),
        "evidently_seconds_over_depthgauge_cold_fold_plus_report": round(evidently["seconds"] / (fold_cold + ours), 2),
        "goals": {"drift_report_1M_x_50_seconds<=5": ours <= 5},
    })


if __name__ == "__main__":
    main()
