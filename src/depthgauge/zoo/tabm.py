"""TabM (Gorishniy et al., ICLR 2025): an MLP trained as k weight-sharing submodels, with piecewise-linear embeddings.

The `tabm` package supplies the network; our own training loop trains it, as every family.
Each of the k = 32 submodels is trained on its own loss (the mean over heads is what the loop
minimises); a prediction is the mean of the submodels' probabilities, or of their values.
Numerics are quantile-normalised, then embedded piecewise-linearly over 48 quantile bins
(version "B", as the authors recommend with TabM); categories are one-hot, inside the network.

The network is narrower than the paper's GPU default (128 units and 8-wide embeddings instead
of 512 and 16): the k submodels make every row cost k forward passes, and on 2 CPU cores the
default width trains 2,000 rows/s against 5,500 for this one, measured with batches of 256
(batches of 1,024 are slower still on CPU). A wide TabM would spend a 5-minute budget on a
few passes over a 100,000-row table.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import replace
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from depthgauge.zoo.mlp import MLPModel
from depthgauge.zoo.networks import loss_for

DEFAULTS = {"k": 32, "d_block": 128, "n_blocks": 2, "d_embedding": 8, "n_bins": 48, "dropout": 0.1,
            "learning_rate": 2e-3, "weight_decay": 3e-4, "max_epochs": 400, "patience": 8}
EPOCH_ROWS = 8192  # on larger tables an "epoch" is this many fresh random rows, so the curve and early stopping
                   # see progress every 1-2 seconds instead of once per pass over 70,000 rows


@contextmanager
def _one_bin_is_fine():
    """Silence rtdl's warning that a column with two distinct values (or a constant one) gets one bin: that is right,
    and it was printed eight times a run."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*has just two bin edges", category=UserWarning)
        yield


def quantile_bins(numeric: torch.Tensor, n_bins: int) -> list[torch.Tensor]:
    """Return piecewise-linear bin edges for every numeric column; a constant column gets one bin around its value."""
    from rtdl_num_embeddings import compute_bins

    varying = ~(numeric == numeric[0]).all(dim=0)
    edges = [torch.tensor([float(numeric[0, j]) - 1.0, float(numeric[0, j]) + 1.0]) for j in range(numeric.shape[1])]
    if varying.any():
        with _one_bin_is_fine():
            computed = compute_bins(numeric[:, varying], n_bins=max(2, min(n_bins, len(numeric) - 1)))
        for j, bins in zip(torch.nonzero(varying).flatten().tolist(), computed):
            edges[j] = bins
    return edges


class _Inputs(nn.Module):
    """Feed TabM the inputs a table has: numerics, category codes, or both (it takes no empty tensor)."""

    def __init__(self, net: nn.Module, numeric: bool, categorical: bool):
        super().__init__()
        self.net, self.numeric, self.categorical = net, numeric, categorical

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        given = iter(inputs)
        return self.net(next(given) if self.numeric else None, next(given) if self.categorical else None)


class TabMModel(MLPModel):
    family = "tabm"
    display_name = "TabM (deep)"
    defaults: ClassVar[dict] = DEFAULTS
    weights_file: ClassVar[str] = "tabm.safetensors"

    def build_module(self, n_numeric: int):
        from rtdl_num_embeddings import PiecewiseLinearEmbeddings
        from tabm import TabM

        embeddings = None
        if n_numeric:
            with _one_bin_is_fine():
                embeddings = PiecewiseLinearEmbeddings(self.bins_, self._setting("d_embedding"), activation=False,
                                                       version="B")
        cardinalities = [c + 1 for c in self.encoder_.cardinalities()]  # code 0: missing or unseen
        net = TabM.make(n_num_features=n_numeric, cat_cardinalities=cardinalities, d_out=self.n_logits,
                        num_embeddings=embeddings, k=self._setting("k"), d_block=self._setting("d_block"),
                        n_blocks=self._setting("n_blocks"), dropout=self._setting("dropout"))
        return _Inputs(net, n_numeric > 0, bool(cardinalities))

    def tensors_encoded(self, raw, codes) -> tuple[torch.Tensor, ...]:
        numeric, codes = super().tensors_encoded(raw, codes)
        parts = (numeric if numeric.shape[1] else None, codes if codes.shape[1] else None)
        return tuple(p for p in parts if p is not None)  # TabM takes no empty inputs

    def _fit(self, X, y, validation):
        numeric = torch.from_numpy(self.encoder_.numeric_scaled(X, "quantile"))
        self.bins_ = quantile_bins(numeric, self._setting("n_bins")) if numeric.shape[1] else []
        super()._fit(X, y, validation)

    def _train_config(self, n_rows: int, rank: int, world: int):
        return replace(super()._train_config(n_rows, rank, world), batch_size=256,
                       epoch_rows=EPOCH_ROWS if n_rows > 2 * EPOCH_ROWS else None)

    def _loss(self):
        per_head = loss_for(self.task)

        def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # out: (batch, k, logits)
            return per_head(out.flatten(0, 1), y.repeat_interleave(out.shape[1]))

        return loss

    def _outputs(self, out: np.ndarray) -> np.ndarray:
        """Average the k submodels: their probabilities for classes, their values for regression."""
        if self.task == "binary":
            p = (1.0 / (1.0 + np.exp(-out[:, :, 0]))).mean(axis=1)
            return np.column_stack([1.0 - p, p])
        if self.task == "multiclass":
            return torch.softmax(torch.from_numpy(out), dim=2).mean(dim=1).numpy()
        return out[:, :, 0].mean(axis=1) * self.target_std_ + self.target_mean_

    def _from_tensors(self, inputs, n: int):
        if n == 0:
            return self._outputs(np.zeros((0, 1, self.n_logits)))
        return super()._from_tensors(inputs, n)

    def _extra_state(self):
        return {**super()._extra_state(), "bin_edges": [len(b) for b in self.bins_]}

    def _load_weights(self, folder, extra):
        # The bin edges are buffers of the embedding, restored from the weights; only their counts shape it.
        self.bins_ = [torch.linspace(0.0, 1.0, n) for n in extra["bin_edges"]]
        super()._load_weights(folder, extra)
