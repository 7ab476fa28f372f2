"""How fast depthgauge starts and how big its install is (issue 18).

Whole-process timings, as a user meets them: `depthgauge --help`, `depthgauge --version` and
`python -c "import depthgauge"`, each run --runs times (median and worst). The install size is
the size of a virtual environment's folder: by default this checkout's `.venv` (which holds
the test extras when `make test` ran); pass --venv for another, such as a fresh `make demo`
clone's. Goals: `--help` under 1.5 s on an idle machine; a demo install of 2.5 GB or less.
Run: .venv/bin/python bench/startup.py [--runs 7] [--venv PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

HELP_GOAL_S = 1.5
INSTALL_GOAL_GB = 2.5


def timed(command: list[str], runs: int) -> dict:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(seconds), 3), "worst_s": round(max(seconds), 3), "runs": runs}


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--venv", default=str(Path(sys.executable).parent.parent))
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "depthgauge")
    venv = Path(args.venv)
    size = folder_bytes(venv)
    packages = sorted(((folder_bytes(p), p.name) for p in (venv / "lib").glob("python3*/site-packages/*")
                       if p.is_dir()), reverse=True)[:8]
    results = {
        "help": timed([exe, "--help"], args.runs),
        "version": timed([exe, "--version"], args.runs),
        "import_depthgauge": timed([sys.executable, "-c", "import depthgauge"], args.runs),
        "venv": {"path": str(venv), "gb": round(size / 1e9, 2), "test_extras": (venv / ".test-installed").exists(),
                 "largest_packages_mb": {name: round(b / 1e6) for b, name in packages}},
    }
    results["goals"] = {"help_under_s": HELP_GOAL_S, "help_met": results["help"]["median_s"] < HELP_GOAL_S,
                        "install_gb_at_most": INSTALL_GOAL_GB, "install_met": results["venv"]["gb"] <= INSTALL_GOAL_GB}
    write_result("startup", results)


if __name__ == "__main__":
    main()
