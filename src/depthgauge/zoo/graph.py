"""A graph neural network for node classification: two mean-aggregation graph-convolution layers in plain PyTorch.

Each row is a node: its id, its neighbours (space-separated ids) and its features. The model
keeps the graph it was fitted on (node ids, edges, scaled features) in safetensors. At
prediction time the rows asked about join that graph with their own features and neighbours,
so a new node is scored from the neighbours it names; neighbours the model never saw are ignored.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo.model import ZooModel
from depthgauge.zoo.networks import NetworkOutputs, loss_for

WEIGHTS = "gnn.safetensors"
GRAPH = "graph.safetensors"
NODES = "nodes.json"


def neighbour_lists(values: pd.Series) -> list[list[str]]:
    return [str(v).split() if isinstance(v, str) else [] for v in values]


def mean_adjacency(n: int, src: np.ndarray, dst: np.ndarray) -> torch.Tensor:
    """Return the sparse n × n matrix that averages each node's neighbours (undirected, no self-loops)."""
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    keep = rows != cols
    pairs = np.unique(np.stack([rows[keep], cols[keep]]), axis=1) if keep.any() else np.zeros((2, 0), np.int64)
    degree = np.bincount(pairs[0], minlength=n).astype(np.float32)
    values = 1.0 / degree[pairs[0]] if pairs.shape[1] else np.zeros(0, np.float32)
    return torch.sparse_coo_tensor(torch.from_numpy(pairs), torch.from_numpy(values.astype(np.float32)),
                                   (n, n), check_invariants=True).coalesce()


class _GraphSAGE(nn.Module):
    def __init__(self, width: int, hidden: int, outputs: int, dropout: float):
        super().__init__()
        self.self1, self.nbr1 = nn.Linear(width, hidden), nn.Linear(width, hidden, bias=False)
        self.self2, self.nbr2 = nn.Linear(hidden, outputs), nn.Linear(hidden, outputs, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, features: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.self1(features) + self.nbr1(torch.sparse.mm(adjacency, features)))
        h = self.dropout(h)
        return self.self2(h) + self.nbr2(torch.sparse.mm(adjacency, h))


class _OnGraph(nn.Module):
    """Binds the network to one graph, so the shared loop can pass it batches of node positions."""

    def __init__(self, network: _GraphSAGE, features: torch.Tensor, adjacency: torch.Tensor):
        super().__init__()
        self.network = network
        self.features, self.adjacency = features, adjacency  # plain attributes: not part of the saved weights

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return self.network(self.features, self.adjacency)[positions]


class GraphSAGEModel(NetworkOutputs, ZooModel):
    family = "gnn"
    display_name = "Graph neural network (deep)"
    is_deep = True
    explainability = "none"

    @property
    def node_column(self) -> str:
        return self.roles["node"][0]

    @property
    def neighbours_column(self) -> str:
        return self.roles["neighbors"][0]

    def _node_features(self, X) -> np.ndarray:
        return np.hstack([self.encoder_.numeric_scaled(X, "quantile"), self.encoder_.one_hot(X)]).astype(np.float32)

    def _graph(self, frames: list[pd.DataFrame]) -> tuple:
        """Return node ids, features and mean adjacency of the stored graph joined with the rows of `frames`."""
        ids = list(getattr(self, "node_ids_", []))
        position = {node: i for i, node in enumerate(ids)}
        features = [self.features_] if ids else []
        src, dst = [getattr(self, "src_", np.zeros(0, np.int64))], [getattr(self, "dst_", np.zeros(0, np.int64))]
        rows = pd.concat(frames) if len(frames) > 1 else frames[0]
        new_features = self._node_features(rows)
        for node in rows[self.node_column].astype(str):
            if node not in position:
                position[node] = len(ids)
                ids.append(node)
        grown = np.zeros((len(ids), new_features.shape[1]), np.float32)
        if features:
            grown[:len(self.features_)] = self.features_
        targets = np.array([position[n] for n in rows[self.node_column].astype(str)], np.int64)
        grown[targets] = new_features
        for node, neighbours in zip(targets, neighbour_lists(rows[self.neighbours_column]), strict=True):
            known = [position[m] for m in neighbours if m in position]
            src.append(np.full(len(known), node, np.int64))
            dst.append(np.asarray(known, np.int64))
        src_all, dst_all = np.concatenate(src), np.concatenate(dst)
        return ids, torch.from_numpy(grown), mean_adjacency(len(ids), src_all, dst_all), (src_all, dst_all)

    def _fit(self, X, y, validation):
        torch.manual_seed(self.seed)
        self._learn_target_scale(y)
        frames = [X] if validation is None else [X, validation[0]]
        ids, features, adjacency, (src, dst) = self._graph(frames)
        self.node_ids_, self.features_, self.src_, self.dst_ = ids, features.numpy(), src, dst
        self.network_ = _GraphSAGE(features.shape[1], self.params.get("hidden", 64), self.n_logits,
                                   self.params.get("dropout", 0.3))
        bound = _OnGraph(self.network_, features, adjacency)
        position = {node: i for i, node in enumerate(ids)}
        train_pos = torch.tensor([position[n] for n in X[self.node_column].astype(str)])
        val_inputs = val_target = None
        if validation is not None:
            val_pos = torch.tensor([position[n] for n in validation[0][self.node_column].astype(str)])
            val_inputs, val_target = (val_pos,), self._target_tensor(validation[1])
        config = TrainConfig(max_epochs=self.params.get("max_epochs", 400), batch_size=len(train_pos),
                             learning_rate=self.params.get("learning_rate", 1e-2), weight_decay=5e-4,
                             patience=self.params.get("patience", 30), seed=self.seed, time_limit_s=self.time_limit_s)
        self.history_ = train_module(bound, loss_for(self.task), (train_pos,), self._target_tensor(y), val_inputs,
                                     val_target, config)

    def _predict_raw(self, X):
        if len(X) == 0:
            out = np.zeros((0, self.n_logits))
        else:
            ids, features, adjacency, _ = self._graph([X])
            position = {node: i for i, node in enumerate(ids)}
            asked = torch.tensor([position[n] for n in X[self.node_column].astype(str)])
            with torch.no_grad():
                out = self.network_(features, adjacency)[asked].double().numpy()
        return self._outputs(out)

    def input_schema(self) -> dict:
        schema = super().input_schema()
        schema["columns"] = [
            {"name": self.node_column, "type": "category", "categories": [], "nullable": False,
             "unknown_categories": "a new node, scored from its features and the known neighbours it names"},
            {"name": self.neighbours_column, "type": "text", "nullable": True,
             "description": "space-separated ids of the node's neighbours"},
        ] + schema["columns"]
        return schema

    def _extra_state(self):
        return {"width": int(self.features_.shape[1]), **self._target_state()}

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.network_.state_dict().items()}, str(folder / WEIGHTS))
        save_file({"features": torch.from_numpy(self.features_), "src": torch.from_numpy(self.src_),
                   "dst": torch.from_numpy(self.dst_)}, str(folder / GRAPH))
        (folder / NODES).write_text(json.dumps(self.node_ids_))

    def _load_weights(self, folder, extra):
        self._load_target_state(extra)
        graph = load_file(str(folder / GRAPH))
        self.features_, self.src_, self.dst_ = graph["features"].numpy(), graph["src"].numpy(), graph["dst"].numpy()
        self.node_ids_ = json.loads((folder / NODES).read_text())
        self.network_ = _GraphSAGE(extra["width"], self.params.get("hidden", 64), self.n_logits,
                                   self.params.get("dropout", 0.3))
        self.network_.load_state_dict(load_file(str(folder / WEIGHTS)))
        self.network_.eval()
