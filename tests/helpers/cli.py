"""Running the `depthgauge` command as a user does, and the bundled data set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


BREAST_CANCER = ROOT / "examples" / "breast_cancer.csv"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m depthgauge ARGS` as a user would, in a fresh process."""
    full_env = {**os.environ, "COLUMNS": "160", **(env or {})}
    full_env.pop("DEPTHGAUGE_HOME", None)
    if env and "DEPTHGAUGE_HOME" in env:
        full_env["DEPTHGAUGE_HOME"] = env["DEPTHGAUGE_HOME"]
    return subprocess.run([sys.executable, "-m", "depthgauge", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=600)


def cli_json(*args: str, **kwargs) -> dict:
    result = run_cli(*args, "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
