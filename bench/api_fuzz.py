"""The API fuzzed from its own OpenAPI document, at length: schemathesis's every phase and check (and ours: a viewer
key changes nothing) against `depthgauge serve` with a table, an image and a text model deployed, once with an
admin key and once with a viewer key. tests/serve/test_fuzz.py runs the same with 15 examples per operation.

Goals: 0 answers of 500, every answer as documented, a viewer refused (403) every state-changing operation.
Run: .venv/bin/python bench/api_fuzz.py [--examples 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _common import write_result  # noqa: E402

from tests.serve.crashing import free_port, start_server, stop_server  # noqa: E402
from tests.serve.fuzzing import fuzz_workspace, run_fuzz  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--roles", default="admin,viewer", help="whose keys to fuzz with, in turn")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="depthgauge-fuzz-")) / "ws"
    tokens = fuzz_workspace(home)
    port = free_port()
    server = start_server(home, port, "--monitor-every", "0")
    runs = {}
    try:
        for role in args.roles.split(","):
            started = time.perf_counter()
            code, output, counts = run_fuzz(f"http://127.0.0.1:{port}", tokens[role], tokens["viewer"],
                                            args.examples, args.seed)
            runs[role] = {**counts, "exit_code": code, "seconds": round(time.perf_counter() - started, 1)}
            if code != 0:
                report = home.parent / f"schemathesis-{role}.txt"
                report.write_text(output)
                runs[role]["output"] = str(report)
                print(f"{role}: failures; schemathesis's report is in {report}", file=sys.stderr)
    finally:
        stop_server(server)
    write_result("api_fuzz", {"examples_per_operation": args.examples, "seed": args.seed,
                              "models": {"churn": "lightgbm (table)", "digits": "cnn (image)",
                                         "topics": "tfidf (text)"},
                              "runs": runs, "goal_met": all(r["exit_code"] == 0 and r["failures"] == 0
                                                            for r in runs.values())})


if __name__ == "__main__":
    main()
