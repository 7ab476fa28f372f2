"""The same trained LightGBM model served three ways on the same 2 cores, with the same load generator (wrk) at
concurrency 1, 16 and 64: depthgauge (authentication on, every prediction durably logged before it is answered),
BentoML 1.4 and `mlflow models serve` (MLflow 3, the LightGBM flavor).

The peers are installed only in bench/.venv-peers, which this script creates; never in the project's dependencies.
- BentoML gets a service that reads the same JSON record and encodes it as depthgauge does (numbers into a row,
  categories through the model's own category lists), then calls the booster.
- MLflow's scoring server takes no raw records: it is sent the already-encoded row, which spares it the encoding.
Neither peer logs predictions durably, nor checks a key.

Goal: depthgauge at least matches the faster peer's throughput at 64 connections and beats both on p50 at 1.
Run: .venv/bin/python bench/serving_peers.py [--seconds 10]  (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from serve_load import ROW, free_port, load, start, stop  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402

PEERS = Path(__file__).parent / ".venv-peers"
PEER_PACKAGES = ["bentoml>=1.4,<1.5", "mlflow>=3,<4", "lightgbm", "pandas"]

BENTO_SERVICE = '''
import json
import lightgbm as lgb
import numpy as np
import bentoml

FOLDER = {folder!r}


@bentoml.service(workers=1)
class Churn:
    def __init__(self):
        state = json.load(open(FOLDER + "/model.json"))
        self.encoder = state["encoder"]
        self.index = {{n: {{c: i + 1 for i, c in enumerate(cs)}} for n, cs in self.encoder["categories"].items()}}
        self.booster = lgb.Booster(model_file=FOLDER + "/lightgbm.txt")

    @bentoml.api
    def predict(self, inputs: dict) -> dict:
        numbers = [float(inputs[n]) if inputs.get(n) is not None else float("nan") for n in self.encoder["numeric"]]
        codes = [float(self.index[n].get(str(inputs.get(n)), 0)) for n in self.encoder["categorical"]]
        p = float(self.booster.predict(np.array([numbers + codes], np.float32), num_threads=1)[0])
        return {{"probabilities": {{"no": 1.0 - p, "yes": p}}}}
'''

MLFLOW_SAVE = '''
import sys
import lightgbm as lgb
import mlflow.lightgbm
booster = lgb.Booster(model_file=sys.argv[1] + "/lightgbm.txt")
mlflow.lightgbm.save_model(booster, sys.argv[2])
'''


def peers_python() -> Path:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    return python


def encoded_row(folder: Path) -> dict:
    """ROW as the booster reads it (MLflow's server is sent this: it does no encoding of its own)."""
    encoder = json.loads((folder / "model.json").read_text())["encoder"]
    numbers = [float(ROW[n]) for n in encoder["numeric"]]
    codes = [float(encoder["categories"][n].index(ROW[n]) + 1) for n in encoder["categorical"]]
    return {f"Column_{i}": value for i, value in enumerate(numbers + codes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    python = peers_python()
    home = Path(tempfile.mkdtemp(prefix="depthgauge-peers-")) / "ws"
    depthgauge.assess(churn_table(20_000, 8, seed=1), target="churned", time_budget="60s", home=home, name="churn",
                      candidates=("dummy", "lightgbm"))
    from depthgauge.govern.keys import create_key
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "bench", "predictor")[1]
    folder = depthgauge.load_model("churn:2", home=home).artifact_dir
    show = "import bentoml, mlflow; print(bentoml.__version__, mlflow.__version__)"
    versions = subprocess.run([str(python), "-c", show],
                              capture_output=True, text=True, check=True).stdout.split()
    results = {}

    def run(name: str, command: list[str], url: str, port: int, body: dict | None, key: str | None, ready: str,
            cwd: Path | None = None) -> None:
        server = start(command, port, ready_path=ready, cwd=cwd)
        try:
            results[name] = [load(url, key, concurrency, args.seconds, body) for concurrency in (1, 16, 64)]
        finally:
            stop(server)

    port = free_port()
    run("depthgauge", [sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                       "--deploy", "churn:2", "--monitor-every", "0"],
        f"http://127.0.0.1:{port}/v1/models/churn/predict", port, None, token, "/readyz")

    service_dir = home.parent / "bento"
    service_dir.mkdir()
    (service_dir / "service.py").write_text(textwrap.dedent(BENTO_SERVICE.format(folder=str(folder))))
    port = free_port()
    run("bentoml", [str(PEERS / "bin" / "bentoml"), "serve", "service:Churn", "--port", str(port), "--host",
                    "127.0.0.1"], f"http://127.0.0.1:{port}/predict", port, {"inputs": ROW}, None, "/readyz",
        cwd=service_dir)

    os.environ["PATH"] = f"{PEERS / 'bin'}{os.pathsep}{os.environ['PATH']}"  # mlflow starts the venv's uvicorn
    model_dir = home.parent / "mlflow-model"
    subprocess.run([str(python), "-c", MLFLOW_SAVE, str(folder), str(model_dir)], check=True)
    port = free_port()
    run("mlflow", [str(PEERS / "bin" / "mlflow"), "models", "serve", "-m", str(model_dir), "--port", str(port),
                   "--host", "127.0.0.1", "--env-manager", "local", "--workers", "1"],
        f"http://127.0.0.1:{port}/invocations", port, {"dataframe_records": [encoded_row(folder)]}, None, "/ping")

    at = {name: {r["concurrency"]: r for r in rows} for name, rows in results.items()}
    faster_peer_64 = max(at["bentoml"][64]["throughput_per_s"], at["mlflow"][64]["throughput_per_s"])
    write_result("serving_peers", {
        "model": "the same LightGBM booster (generated churn 20,000 x 8)", "seconds_per_run": args.seconds,
        "versions": {"bentoml": versions[0], "mlflow": versions[1]},
        "logs_predictions_durably": {"depthgauge": True, "bentoml": False, "mlflow": False},
        "checks_a_key": {"depthgauge": True, "bentoml": False, "mlflow": False},
        "runs": results,
        "depthgauge_over_faster_peer_throughput_at_64":
            round(at["depthgauge"][64]["throughput_per_s"] / faster_peer_64, 2),
        "goal_met": {
            "throughput_at_64_matches_the_faster_peer": at["depthgauge"][64]["throughput_per_s"] >= faster_peer_64,
            "p50_at_1_beats_both": all(at["depthgauge"][1]["p50_ms"] < at[peer][1]["p50_ms"]
                                       for peer in ("bentoml", "mlflow")),
        },
    })


if __name__ == "__main__":
    main()
