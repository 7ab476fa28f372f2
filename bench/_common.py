"""Shared by the benchmarks: where results go and what machine made them."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_result(name: str, data: dict) -> Path:
    import lightgbm
    import torch

    RESULTS.mkdir(exist_ok=True)
    data = {
        "benchmark": name,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "lightgbm": lightgbm.__version__, "torch_threads": torch.get_num_threads()},
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    print(json.dumps(data, indent=2))
    return path


def prepared_churn(rows: int = 100_000, features: int = 50):
    """Return (roles, X, y, split) for the generated churn table, prepared as `assess` prepares it."""
    from depthgauge.data.profile import profile_table
    from depthgauge.data.split import split_rows
    from depthgauge.data.synth import churn_table

    profile, frame = profile_table(churn_table(rows, features, seed=0), "churned")
    roles = {r: profile.features(r) for r in ("numeric", "categorical", "boolean", "datetime")}
    X, y = frame[profile.features()], frame["churned"].astype(str).to_numpy()
    return roles, X, y, split_rows(frame, frame["churned"], "binary")
