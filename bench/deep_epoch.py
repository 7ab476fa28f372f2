"""Seconds per epoch of every deep family in the shared training loop vs a bare PyTorch loop on the same module and
the same tensors. Goal (issue 16): within 1.5x of the bare loop on 2 cores.

Each family is trained inside a real `depthgauge.assess` on data of its kind. The benchmark wraps the loop that
the families call, so it sees exactly the module, tensors, loss and batch size a family uses; it runs that loop for
a fixed number of epochs (no clock, no early stop), then trains a copy of the same untrained module with a bare loop
(AdamW, shuffled batches, forward, loss, backward, step; no validation, no augmentation).
Run: .venv/bin/python bench/deep_epoch.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

import depthgauge  # noqa: E402
from depthgauge.data import samples  # noqa: E402
from depthgauge.data.synth import churn_table  # noqa: E402
from depthgauge.train import loop  # noqa: E402
from depthgauge.zoo import anomaly, graph, image, mlp, series, text  # noqa: E402

MODULES = {"cnn": image, "gru": series, "autoencoder": anomaly, "gnn": graph, "mlp": mlp, "minilm_tuned": text}


def bare_seconds_per_epoch(module, loss_fn, inputs, target, config, epochs: int) -> float:
    optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    n = len(target) if config.epoch_rows is None else min(len(target), config.epoch_rows)
    started = time.perf_counter()
    for _ in range(epochs):
        module.train()
        order = torch.randperm(len(target))[:n]
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(module(*[x[idx] for x in inputs]), target[idx]).backward()
            optimizer.step()
    return (time.perf_counter() - started) / epochs


def measure(family: str, run, epochs: int) -> dict:
    found = {}
    real = loop.train_module

    def spy(module, loss_fn, train_inputs, train_target, val_inputs, val_target, config, *args, **kwargs):
        fresh = copy.deepcopy(module)
        config = replace(config, max_epochs=epochs, patience=10_000, time_limit_s=None)
        history = real(module, loss_fn, train_inputs, train_target, val_inputs, val_target, config, *args, **kwargs)
        found["ours"] = history.seconds / len(history.train_loss)
        found["bare"] = bare_seconds_per_epoch(fresh, loss_fn, train_inputs, train_target, config, epochs)
        found["rows"], found["batch_size"] = int(len(train_target)), config.batch_size
        return history

    MODULES[family].train_module = spy
    try:
        run()
    finally:
        MODULES[family].train_module = real
    return {"family": family, "train_rows": found["rows"], "batch_size": found["batch_size"],
            "ours_s_per_epoch_with_validation": round(found["ours"], 3),
            "bare_s_per_epoch": round(found["bare"], 3), "ratio": round(found["ours"] / found["bare"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--families", default=",".join(MODULES))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deep-epoch-"))

    def assess(data, target, family, **options):
        simple = {"minilm_tuned": "tfidf", "gru": "linear", "autoencoder": "isolation_forest"}.get(family, "dummy")
        return lambda: depthgauge.assess(data, target, time_budget="10m", home=work / family,
                                         candidates=(simple, family), resamples=200, **options)

    papers, cites = samples.citation_graph(3000)
    papers.to_csv(work / "papers.csv", index=False)
    cites.to_csv(work / "cites.csv", index=False)
    images, labels = samples.scattered_digits(12_000)
    np.savez(work / "digits.npz", images=images, labels=labels)
    runs = {
        "cnn": assess(work / "digits.npz", "digit", "cnn"),
        "gru": assess(samples.daily_demand(), "demand", "gru", time_column="date", kind="series"),
        "autoencoder": assess(samples.rare_malignant(), "diagnosis", "autoencoder", kind="anomaly"),
        "gnn": assess(work / "papers.csv", "topic", "gnn", edges=work / "cites.csv"),
        "mlp": assess(churn_table(20_000, 20, seed=0), "churned", "mlp"),
        "minilm_tuned": assess(samples.docstring_topics(), "topic", "minilm_tuned"),
    }
    results = []
    for family in args.families.split(","):
        results.append(measure(family, runs[family], args.epochs))
        print(results[-1], file=sys.stderr, flush=True)
    write_result("deep_epoch", {"epochs": args.epochs, "goal_ratio_max": 1.5, "families": results,
                                "worst_ratio": max(r["ratio"] for r in results)})


if __name__ == "__main__":
    main()
