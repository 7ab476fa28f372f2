"""The API fuzz run, shared by the test suite (a few examples) and bench/api_fuzz.py (many): a workspace serving
a model of each kind, a real server, and schemathesis driven from the server's own OpenAPI document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")


def fuzz_workspace(home: Path) -> dict[str, str]:
    """Assess and deploy a table (LightGBM), an image (CNN) and a text (TF-IDF) model at `home`; return an admin
    and a viewer token."""
    import depthgauge
    from depthgauge.data import samples
    from depthgauge.data.synth import churn_table
    from depthgauge.govern.keys import create_key
    from depthgauge.serve import deploy as deployments
    from depthgauge.workspace import Workspace

    depthgauge.assess(churn_table(600, 6, seed=5), target="churned", time_budget="10s", home=home, resamples=100,
                      name="churn", candidates=("dummy", "lightgbm"))
    images, labels = samples.digits(300)
    npz = home.parent / "digits.npz"
    np.savez(npz, images=images, labels=labels)
    depthgauge.assess(npz, time_budget="15s", home=home, resamples=100, name="digits", candidates=("dummy", "cnn"))
    depthgauge.assess(samples.docstring_topics(), "topic", time_budget="10s", home=home, resamples=100, name="topics",
                      candidates=("dummy", "tfidf"))
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        tokens = {role: create_key(session, f"fuzz-{role}", role)[1] for role in ("admin", "viewer")}
        for name, family in (("churn", "lightgbm"), ("digits", "cnn"), ("topics", "tfidf")):
            deployments.deploy(session, name, _version_of(session, name, family))
    return tokens


def _version_of(session, name: str, family: str) -> str:
    from sqlalchemy import select

    from depthgauge.store.tables import ModelVersionRow

    version = session.scalar(select(ModelVersionRow.version).where(ModelVersionRow.model_name == name,
                                                                   ModelVersionRow.family == family))
    return f"{name}:{version}"


def run_fuzz(url: str, token: str, viewer_token: str, max_examples: int, seed: int) -> tuple[int, str, dict]:
    """Run every schemathesis phase and check with `token` against the server at `url`; return the exit code, the
    output and the counts {generated, passed, failures}."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "--no-color", "run",
               f"{url}/openapi.json", "--header", f"Authorization: Bearer {token}", "--max-examples", str(max_examples),
               "--seed", str(seed), "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEPTHGAUGE_FUZZ_VIEWER": viewer_token}
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600)
    output = result.stdout + result.stderr
    counts = {"generated": _count(r"(\d+) generated", output), "passed": _count(r"(\d+) passed,", output),
              "failures": _count(r"(\d+) unique failures?", output)}
    return result.returncode, output, counts


def _count(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else 0
