"""Each data kind on its full bundled or generated set: time to verdict, every candidate's quality with its 95%
interval, monthly cost of ownership, and the verdict with its summary; plus the MiniLM encoder's throughput in sentences per second.

Sets (see depthgauge/data/samples.py): SciPy docstring topics (557 texts), scikit-learn digits (1,797 images),
three years of daily demand (7-day horizon), breast cancer with rare malignant rows (anomalies, labelled and
not), a 3,000-node citation-like graph. Budget 3 minutes per kind by default.
Run: .venv/bin/python bench/assess_kinds.py [--budget 3m] [--kinds text,image,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data import samples  # noqa: E402


def _summary(label: str, result, wall: float) -> dict:
    metric = result.verdict.primary_metric
    return {
        "kind": label,
        "time_to_verdict_s": round(wall, 2),
        "time_budget_s": result.options["time_budget_s"],
        "test_rows": result.split["sizes"]["test"],
        "primary_metric": metric,
        "verdict": result.verdict.headline,
        "summary": result.verdict.summary,
        "deep_recommended": result.verdict.deep_recommended,
        "candidates": [
            {"candidate": c.name, "deep": c.is_deep, "status": c.status, "fit_seconds": round(c.fit_seconds, 2),
             metric: None if not c.ok else round(c.quality[metric].value, 4),
             "ci95": None if not c.ok else [round(c.quality[metric].low, 4), round(c.quality[metric].high, 4)],
             "cost_per_1k_usd": None if not c.ok else c.cost.cost_per_1k_predictions_usd,
             "monthly_cost_usd": None if not c.ok else round(c.cost.monthly_total_usd, 2),
             "instances": None if not c.ok else c.cost.instances,
             "rows_per_s": None if not c.ok else round(c.operations.throughput_rows_per_s, 1)}
            for c in result.candidates
        ],
    }


def _run(label: str, budget: str, work: Path, *args, **kwargs) -> dict:
    started = time.perf_counter()
    result = depthgauge.assess(*args, time_budget=budget, home=work / f"ws-{len(list(work.iterdir()))}", **kwargs)
    return _summary(label, result, time.perf_counter() - started)


def encoder_throughput() -> dict:
    from depthgauge.zoo.sentence import embed, shared_encoder

    texts = samples.docstring_topics()["text"].tolist()
    shared_encoder()
    embed(texts[:64])  # warm-up
    started = time.perf_counter()
    embed(texts)
    seconds = time.perf_counter() - started
    return {"sentences": len(texts), "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
            "seconds": round(seconds, 2), "sentences_per_s": round(len(texts) / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="3m")
    parser.add_argument("--kinds", default="text,image,series,anomaly,graph")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if "text" in kinds:
            runs.append(_run("text", args.budget, work, samples.docstring_topics(), "topic"))
        if "image" in kinds:
            images, labels = samples.digits()
            np.savez(work / "digits.npz", images=images, labels=labels)
            runs.append(_run("image", args.budget, work, work / "digits.npz"))
        if "series" in kinds:
            runs.append(_run("series", args.budget, work, samples.daily_demand(), "demand", time_column="date",
                             horizon=7))
        if "anomaly" in kinds:
            runs.append(_run("anomaly (labelled)", args.budget, work, samples.rare_malignant(), "diagnosis",
                             kind="anomaly"))
            runs.append(_run("anomaly (no labels)", args.budget, work,
                             samples.rare_malignant().drop(columns="diagnosis")))
        if "graph" in kinds:
            papers, citations = samples.citation_graph(3000)
            papers.to_csv(work / "papers.csv", index=False)
            citations.to_csv(work / "cites.csv", index=False)
            runs.append(_run("graph", args.budget, work, work / "papers.csv", "topic", edges=work / "cites.csv"))
    write_result("assess_kinds", {
        "budget": args.budget,
        "runs": runs,
        "text_encoder": encoder_throughput() if "text" in kinds else None,
        "within_budget_plus_10pct": all(r["time_to_verdict_s"] <= 1.1 * r["time_budget_s"] for r in runs),
    })


if __name__ == "__main__":
    main()
