"""One row, in process: what serving spends predicting a single checked record, per family, against the bare
library call on the same NumPy row, and against the DataFrame path every row took before the fast path.

- fast path: the input contract's check of the JSON record, then `predict_records_raw` (no DataFrame);
- DataFrame path: a one-row DataFrame through `predict_proba`, as serving did before;
- bare: the library alone on the already-encoded row (LightGBM `Booster.predict`, the linear model's matrix
  product and sigmoid, the MLP module's forward pass).

Goals (p50, 2 cores): LightGBM <= 0.15 ms, linear <= 0.1 ms, MLP <= 0.3 ms.
Run: .venv/bin/python bench/row_latency.py [--repeats 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402

GOALS_MS = {"lightgbm": 0.15, "linear": 0.1, "mlp": 0.3}


def timed(call, repeats: int) -> dict:
    for _ in range(50):
        call()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 4), "p99_ms": round(timings[int(0.99 * repeats)], 4)}


def bare_call(model, raw: np.ndarray, codes: np.ndarray):
    """The library alone on the encoded row."""
    if model.family == "lightgbm":
        design = np.hstack([raw, codes.astype(np.float32)])
        return lambda: model.booster_.predict(design, num_iteration=model.best_iteration_, num_threads=1)
    if model.family == "linear":
        design = model._design_encoded(raw, codes)
        return lambda: 1.0 / (1.0 + np.exp(-(design @ model.coef_.T + model.intercept_)))
    inputs = model.tensors_encoded(raw, codes)

    def forward():
        with torch.no_grad():
            return model.module_(*inputs)
    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="depthgauge-row-")) / "ws"
    table = churn_table(20_000, 8, seed=1)
    depthgauge.assess(table, target="churned", time_budget="60s", home=home, name="churn",
                      candidates=("dummy", "linear", "lightgbm", "mlp"))
    from sqlalchemy import select

    from depthgauge.store.tables import ModelVersionRow
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.session() as session:
        versions = {family: f"churn:{version}" for family, version in
                    session.execute(select(ModelVersionRow.family, ModelVersionRow.version))}
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in table.drop(columns=["churned"]).iloc[0].items()}
    families = {}
    for family in ("lightgbm", "linear", "mlp"):
        predictor = depthgauge.load_model(versions[family], home=home)
        model, contract = predictor.model, predictor.contract

        def fast(model=model, contract=contract):
            rows, _ = contract.check_records([record])
            return model.predict_records_raw(rows)

        rows, _ = contract.check_records([record])
        frame_path = (lambda model=model, contract=contract: model.predict_proba(
            pd.DataFrame(contract.check_records([record])[0], columns=contract.names)))
        raw, codes = model.encoder_.encode_records(rows)
        np.testing.assert_array_equal(fast(), frame_path())
        measured = {"fast_path": timed(fast, args.repeats), "dataframe_path": timed(frame_path, args.repeats),
                    "bare_library": timed(bare_call(model, raw, codes), args.repeats)}
        measured["fast_over_bare"] = round(measured["fast_path"]["p50_ms"] / measured["bare_library"]["p50_ms"], 2)
        measured["dataframe_over_fast"] = round(measured["dataframe_path"]["p50_ms"]
                                                / measured["fast_path"]["p50_ms"], 1)
        measured["goal_p50_ms"] = GOALS_MS[family]
        measured["goal_met"] = measured["fast_path"]["p50_ms"] <= GOALS_MS[family]
        families[family] = {"version": versions[family], **measured}
    write_result("row_latency", {"data": "generated churn 20000 x 8, one record", "repeats": args.repeats,
                                 "torch_threads": torch.get_num_threads(), "families": families})


if __name__ == "__main__":
    main()
