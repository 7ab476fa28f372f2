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
