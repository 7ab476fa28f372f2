"""What every PyTorch family shares: the loss of each task, and the target and outputs as the network sees them."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def loss_for(task: str):
    if task == "binary":
        return lambda out, y: nn.functional.binary_cross_entropy_with_logits(out[:, 0], y)
    if task == "multiclass":
        return nn.functional.cross_entropy
    return lambda out, y: nn.functional.mse_loss(out[:, 0], y)


class NetworkOutputs:
    """What every PyTorch family shares: the target as a tensor, and network outputs as probabilities or values.

    Binary and regression networks have one output (a logit, or the target in standard units);
    multiclass networks one logit per class.
    """

    @property
    def n_logits(self) -> int:
        return 1 if self.task in ("binary", "regression") else self.n_outputs

    def _learn_target_scale(self, y: np.ndarray) -> None:
        if self.task == "regression":
            self.target_mean_, self.target_std_ = float(np.mean(y)), float(np.std(y) or 1.0)

    def _target_tensor(self, y: np.ndarray) -> torch.Tensor:
        if self.task == "multiclass":
            return torch.from_numpy(y.astype(np.int64))
        if self.task == "binary":
            return torch.from_numpy(y.astype(np.float32))
        return torch.from_numpy(((y - self.target_mean_) / self.target_std_).astype(np.float32))

    def _outputs(self, out: np.ndarray) -> np.ndarray:
        """Return (n, classes) probabilities, or (n,) values, from the network's raw (n, n_logits) outputs."""
        if self.task == "binary":
            p = 1.0 / (1.0 + np.exp(-out[:, 0]))
            return np.column_stack([1.0 - p, p])
        if self.task == "multiclass":
            return torch.softmax(torch.from_numpy(out), dim=1).numpy()
        return out[:, 0] * self.target_std_ + self.target_mean_

    def _target_state(self) -> dict:
        return {"target_mean": self.target_mean_, "target_std": self.target_std_} if self.task == "regression" else {}

    def _load_target_state(self, extra: dict) -> None:
        if self.task == "regression":
            self.target_mean_, self.target_std_ = extra["target_mean"], extra["target_std"]
