"""Groundedness throughput on this machine: answers (and sentences) per second through `depthgauge genai eval`.

The hand-labeled test cases (tests/genai/grounding_cases.jsonl: 12 answers, 29 sentences, 1-2 contexts each) are
repeated COPIES times, every sentence of every copy made distinct ("... in case 7."), so no embedding is shared
between answers (the sentences of one answer do share their contexts' embeddings, as in real use), and evaluated end to end: sentence
splitting, MiniLM embeddings of every sentence and context sentence, lexical overlap, calibration on the shipped
labeled set, correctness against references, and the stored evaluation with its review queue. The encoder is
loaded once beforehand (a warm-up evaluation), as in a long-running process.
Run: .venv/bin/python bench/groundedness_throughput.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).parents[1]
sys.path[:0] = [str(Path(__file__).parent), str(ROOT)]
from _common import write_result  # noqa: E402

from depthgauge.genai.groundedness import sentences  # noqa: E402
from depthgauge.genai.service import evaluate  # noqa: E402

COPIES, REPEATS = 40, 3
CASES = ROOT / "tests" / "genai" / "grounding_cases.jsonl"


def distinct(text: str, copy: int) -> str:
    return " ".join(f"{s[:-1]} in case {copy}{s[-1]}" for s in sentences(text))


def main() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.jsonl"
        rows = []
        for copy in range(COPIES):
            for case in cases:
                rows.append({"question": case["question"], "answer": distinct(case["answer"], copy),
                             "contexts": [distinct(c, copy) for c in case["contexts"]], "reference": case["reference"]})
        path.write_text("\n".join(json.dumps(r) for r in rows))
        evaluate(CASES, "warmup", home=Path(tmp) / "ws")
        seconds, result = [], None
        for repeat in range(REPEATS):
            started = time.perf_counter()
            result = evaluate(path, f"bench{repeat}", home=Path(tmp) / "ws")
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    summary = result["summary"]
    write_result("groundedness_throughput", {
        "answers": len(rows), "sentences": summary["sentences"], "repeats": REPEATS, "seconds": seconds,
        "torch_threads": torch.get_num_threads(), "answers_per_s": len(rows) / median,
        "sentences_per_s": summary["sentences"] / median,
    })


if __name__ == "__main__":
    main()
