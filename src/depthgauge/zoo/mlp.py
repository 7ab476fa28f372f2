"""A tabular MLP in current practice: embeddings for categories, quantile-normal numerics, AdamW, early stopping."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo.model import ZooModel
from depthgauge.zoo.networks import NetworkOutputs, loss_for

WEIGHTS = "mlp.safetensors"
DEFAULTS = {"hidden": 256, "depth": 3, "dropout": 0.1, "learning_rate": 1e-3, "weight_decay": 1e-5,
            "max_epochs": 200, "patience": 8}


def embedding_size(cardinality: int) -> int:
    return int(min(16, max(2, round(1.6 * (cardinality + 1) ** 0.56))))


class TabularMLP(nn.Module):
    def __init__(self, n_numeric: int, cardinalities: list[int], n_outputs: int, hidden: int, depth: int, dropout: float):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c + 1, embedding_size(c)) for c in cardinalities)
        width = n_numeric + sum(embedding_size(c) for c in cardinalities)
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        parts = [numeric] + [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.net(torch.cat(parts, dim=1))


class MLPModel(NetworkOutputs, ZooModel):
    family = "mlp"
    display_name = "MLP (deep)"
    is_deep = True
    explainability = "post-hoc"
    defaults: ClassVar[dict] = DEFAULTS
    weights_file: ClassVar[str] = WEIGHTS
    reads_records = True
    text_reader = "sentence"  # free text through the pretrained sentence encoder, fused at the network's input

    def _setting(self, name):
        return self.params.get(name, self.defaults[name])

    def _loss(self):
        return loss_for(self.task)

    def _train_config(self, n_rows: int, rank: int, world: int) -> TrainConfig:
        return TrainConfig(
            max_epochs=self._setting("max_epochs"), batch_size=256 if n_rows < 20000 else 1024,
            learning_rate=self._setting("learning_rate"), weight_decay=self._setting("weight_decay"),
            patience=self._setting("patience"), seed=self.seed, time_limit_s=self.time_limit_s, rank=rank,
            world_size=world,
        )

    def tensors(self, X) -> tuple[torch.Tensor, ...]:
        return self.tensors_encoded(*self.encoder_.encode(X))

    def tensors_encoded(self, raw: np.ndarray, codes: np.ndarray) -> tuple[torch.Tensor, ...]:
        return torch.from_numpy(self.encoder_.scaled(raw, "quantile")), torch.from_numpy(codes)

    def build_module(self, n_numeric: int) -> TabularMLP:
        return TabularMLP(n_numeric, self.encoder_.cardinalities(), self.n_logits, self._setting("hidden"),
                          self._setting("depth"), self._setting("dropout"))

    def _fit(self, X, y, validation):
        torch.manual_seed(self.seed)
        self._learn_target_scale(y)
        train_inputs = self.tensors(X)
        self.n_numeric_ = int(train_inputs[0].shape[1])
        self.module_ = self.build_module(self.n_numeric_)
        val_inputs = val_target = None
        if validation is not None:
            val_inputs, val_target = self.tensors(validation[0]), self._target_tensor(validation[1])
        rank, world = getattr(self, "data_parallel", None) or (0, 1)
        config = self._train_config(len(y), rank, world)
        module = self.module_
        if world > 1:  # inside a Ray Train worker: DDP averages the gradients across the processes
            module = torch.nn.parallel.DistributedDataParallel(self.module_)
        self.history_ = train_module(module, self._loss(), train_inputs, self._target_tensor(y),
                                     val_inputs, val_target, config)

    def _predict_raw(self, X):
        return self._from_tensors(self.tensors(X), len(X))

    def _predict_encoded(self, raw, codes):
        return self._from_tensors(self.tensors_encoded(raw, codes), len(raw))

    def _from_tensors(self, inputs, n: int):
        outs = []
        with torch.no_grad():
            for start in range(0, n, 8192):
                outs.append(self.module_(*(t[start:start + 8192] for t in inputs)))
        return self._outputs(torch.cat(outs).double().numpy() if outs else np.zeros((0, self.n_logits)))

    def _extra_state(self):
        return {"n_numeric": self.n_numeric_, **self._target_state()}

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.module_.state_dict().items()}, str(folder / self.weights_file))

    def _load_weights(self, folder, extra):
        self.n_numeric_ = extra["n_numeric"]
        self._load_target_state(extra)
        self.module_ = self.build_module(self.n_numeric_)
        self.module_.load_state_dict(load_file(str(folder / self.weights_file)))
        self.module_.eval()
