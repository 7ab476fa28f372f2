"""CNN seconds per epoch: the CNN candidate (shared loop, validation, augmentation) vs a bare PyTorch loop of the
same architecture, on 12,000 scattered digits (28x28, 10 classes). Goal (issue 16): within 1.5x of the bare loop.
Run: .venv/bin/python bench/cnn_epoch.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

from depthgauge.data.samples import scattered_digits  # noqa: E402
from depthgauge.zoo.image import CNNModel, SmallCNN  # noqa: E402


def bare(images: np.ndarray, labels: np.ndarray, epochs: int) -> list[float]:
    torch.manual_seed(0)
    X = torch.from_numpy(images[:, None].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    net = SmallCNN(1, 28, 28, 10)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        net.train()
        order = torch.randperm(len(y))
        for s in range(0, len(y), 128):
            idx = order[s:s + 128]
            opt.zero_grad()
            nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
            opt.step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    images, labels = scattered_digits(12_000)
    train, val = slice(0, 10_200), slice(10_200, 12_000)
    bare_s = bare(images[train], labels[train].astype(int), args.epochs)
    frame = pd.DataFrame({"image": list(images), "label": labels})
    model = CNNModel("multiclass", {"image": ["image"]}, seed=0, shape=[28, 28, 1], max_epochs=args.epochs,
                     patience=100)
    model.fit(frame.iloc[train][["image"]], frame["label"].to_numpy()[train],
              validation=(frame.iloc[val][["image"]], frame["label"].to_numpy()[val]))
    ours = model.history_.seconds / len(model.history_.train_loss)
    bare_median = float(np.median(bare_s))
    write_result("cnn_epoch", {
        "images": 12_000, "train_rows": 10_200, "epochs": args.epochs,
        "bare_loop_s_per_epoch": round(bare_median, 2),
        "candidate_s_per_epoch_with_validation": round(ours, 2),
        "ratio": round(ours / bare_median, 3), "goal_ratio_max": 1.5,
        "candidate_val_loss": [round(v, 4) for v in model.history_.val_loss],
    })


if __name__ == "__main__":
    main()
