"""The MLP's training throughput through our shared loop against a bare PyTorch loop on the same tensors.

Same module, same initial weights, same batch size, same AdamW settings, same epochs. Our
loop's time includes its per-epoch validation pass and best-weights bookkeeping; the bare
loop only trains. Goal: ours ≥ 0.9× bare rows/s. Run: .venv/bin/python bench/mlp_throughput.py
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import prepared_churn, write_result  # noqa: E402

from depthgauge.train.loop import TrainConfig, train_module  # noqa: E402
from depthgauge.zoo.mlp import MLPModel, loss_for  # noqa: E402

EPOCHS, BATCH, REPEATS = 3, 1024, 3


def bare_loop(module, loss_fn, inputs, target):
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-5)
    generator = torch.Generator().manual_seed(0)
    n = len(target)
    module.train()
    for _ in range(EPOCHS):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(module(*(x[idx] for x in inputs)), target[idx])
            loss.backward()
            optimizer.step()


def main() -> None:
    roles, X, y, split = prepared_churn()
    model = MLPModel("binary", roles, max_epochs=1)
    model.fit(X.iloc[split.train], y[split.train])
    inputs, val_inputs = model.tensors(X.iloc[split.train]), model.tensors(X.iloc[split.validation])
    target = model._target_tensor(model._encode_target(y[split.train]))
    val_target = model._target_tensor(model._encode_target(y[split.validation]))
    loss_fn = loss_for("binary")
    torch.manual_seed(0)
    initial = model.build_module(inputs[0].shape[1])
    rows = EPOCHS * len(target)

    ours, bare = [], []
    for _ in range(REPEATS):
        module = copy.deepcopy(initial)
        started = time.perf_counter()
        train_module(module, loss_fn, inputs, target, val_inputs, val_target,
                     TrainConfig(max_epochs=EPOCHS, batch_size=BATCH, patience=10**6))
        ours.append(rows / (time.perf_counter() - started))
        module = copy.deepcopy(initial)
        started = time.perf_counter()
        bare_loop(module, loss_fn, inputs, target)
        bare.append(rows / (time.perf_counter() - started))
    ratio = statistics.median(ours) / statistics.median(bare)
    write_result("mlp_throughput", {
        "data": f"generated churn 100000 x 50; {len(target)} training rows, {inputs[0].shape[1]} numeric inputs, "
                f"{inputs[1].shape[1]} embedded categories",
        "epochs": EPOCHS, "batch_size": BATCH, "repeats": REPEATS,
        "shared_loop_rows_per_s": [round(r) for r in ours], "bare_loop_rows_per_s": [round(r) for r in bare],
        "ratio_median": round(ratio, 3), "goal": "ratio >= 0.9", "goal_met": ratio >= 0.9,
    })


if __name__ == "__main__":
    main()
