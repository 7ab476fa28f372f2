"""Anomaly detectors without a target: an isolation forest and an autoencoder.

Both give every row an anomaly score and report it as the share of training rows that scored
lower (0 to 1), so the two read on one scale; a row is flagged as an anomaly when that share
is at least 1 − contamination. The forest is fitted by scikit-learn and exported as plain
arrays (scored by our own traversal, checked against scikit-learn in the tests); the
autoencoder is trained by the shared loop and scored by its reconstruction error.
"""

from __future__ import annotations

import numpy as np
import torch
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file, save_file
from sklearn.ensemble import IsolationForest
from torch import nn

from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo.encoding import TabularEncoder
from depthgauge.zoo.model import ZooModel

ANOMALY, NORMAL = "anomaly", "normal"
LEVELS = np.linspace(0.0, 1.0, 1001)
FOREST = "forest.safetensors"
WEIGHTS = "autoencoder.safetensors"


def average_path_length(n: np.ndarray) -> np.ndarray:
    """Return c(n), the average path length of an unsuccessful search in a binary search tree of n points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class AnomalyModel(ZooModel):
    """Fits without labels; `predict_proba` gives [anomaly share, 1 − share] in the order of `classes_`."""

    def fit(self, X, y=None, validation=None) -> "AnomalyModel":
        X = self.prepare(X)
        self.encoder_ = TabularEncoder(**self.encoder_roles()).fit(X)
        self.classes_ = [ANOMALY, NORMAL]
        self._fit_scores(self.design(X), None if validation is None else self.design(validation[0]))
        self.quantiles_ = np.quantile(self._scores(self.design(X)), LEVELS)
        self.fitted_ = True
        return self

    @property
    def contamination(self) -> float:
        return float(self.params.get("contamination", 0.05))

    def design(self, X) -> np.ndarray:
        return np.hstack([self.encoder_.numeric_scaled(X, "robust"), self.encoder_.one_hot(X)]).astype(np.float32)

    def anomaly_scores(self, X) -> np.ndarray:
        """Return the raw anomaly scores (higher is more anomalous): path-length score or reconstruction error."""
        self._check_fitted()
        return self._scores(self.design(self.prepare(X)))

    def _predict_raw(self, X):
        share = np.interp(self._scores(self.design(X)), self.quantiles_, LEVELS)
        return np.column_stack([share, 1.0 - share])

    def predict(self, X):
        share = self.predict_proba(X)[:, 0]
        return np.where(share >= 1.0 - self.contamination, ANOMALY, NORMAL).astype(object)

    def _extra_state(self):
        return {"quantiles": self.quantiles_.tolist()}

    def _load_weights(self, folder, extra):
        self.quantiles_ = np.asarray(extra["quantiles"])
        self._load_detector(folder, extra)

    def _fit_scores(self, design, validation_design) -> None:
        raise NotImplementedError

    def _scores(self, design) -> np.ndarray:
        raise NotImplementedError

    def _load_detector(self, folder, extra) -> None:
        raise NotImplementedError


class IsolationForestModel(AnomalyModel):
    family = "isolation_forest"
    display_name = "Isolation forest"
    explainability = "post-hoc"

    def _fit_scores(self, design, validation_design):
        forest = IsolationForest(n_estimators=self.params.get("trees", 200), max_samples=min(256, len(design)),
                                 random_state=self.seed).fit(design)
        self.max_samples_ = int(forest.max_samples_)
        trees = [e.tree_ for e in forest.estimators_]
        self.offsets_ = np.cumsum([0] + [t.node_count for t in trees])
        self.arrays_ = {
            "left": np.concatenate([t.children_left for t in trees]).astype(np.int64),
            "right": np.concatenate([t.children_right for t in trees]).astype(np.int64),
            "feature": np.concatenate([np.asarray(f)[np.maximum(t.feature, 0)] for t, f in
                                       zip(trees, forest.estimators_features_, strict=True)]).astype(np.int64),
            "threshold": np.concatenate([t.threshold for t in trees]).astype(np.float64),
            "samples": np.concatenate([t.n_node_samples for t in trees]).astype(np.float64),
            "offsets": self.offsets_.astype(np.int64),
        }

    def _scores(self, design):
        a, offsets = self.arrays_, self.arrays_["offsets"]
        x = design.astype(np.float64)
        rows = np.arange(len(x))
        total = np.zeros(len(x))
        for start in offsets[:-1]:
            node = np.full(len(x), start)
            depth = np.zeros(len(x))
            while True:
                inner = a["left"][node] != -1
                if not inner.any():
                    break
                go_left = x[rows, a["feature"][node]] <= a["threshold"][node]
                child = np.where(go_left, a["left"][node], a["right"][node]) + start
                node = np.where(inner, child, node)
                depth += inner
            total += depth + average_path_length(a["samples"][node])
        mean_depth = total / (len(offsets) - 1)
        return 2.0 ** (-mean_depth / average_path_length(np.array([self.max_samples_]))[0])

    def _extra_state(self):
        return {**super()._extra_state(), "max_samples": self.max_samples_}

    def _save_weights(self, folder):
        save_arrays(self.arrays_, str(folder / FOREST))

    def _load_detector(self, folder, extra):
        self.arrays_ = load_arrays(str(folder / FOREST))
        self.max_samples_ = extra["max_samples"]


class _Autoencoder(nn.Module):
    def __init__(self, width: int, hidden: int, bottleneck: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck), nn.ReLU(),
                                 nn.Linear(bottleneck, hidden), nn.ReLU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AutoencoderModel(AnomalyModel):
    family = "autoencoder"
    display_name = "Autoencoder (deep)"
    is_deep = True
    explainability = "none"

    def _module(self) -> _Autoencoder:
        return _Autoencoder(self.width_, self.params.get("hidden", 64), self.params.get("bottleneck",
                                                                                         max(2, self.width_ // 2)))

    def _fit_scores(self, design, validation_design):
        torch.manual_seed(self.seed)
        self.width_ = design.shape[1]
        self.module_ = self._module()
        train = torch.from_numpy(design)
        val = None if validation_design is None else torch.from_numpy(validation_design)
        config = TrainConfig(max_epochs=self.params.get("max_epochs", 300), batch_size=128, learning_rate=1e-3,
                             weight_decay=1e-5, patience=10, seed=self.seed, time_limit_s=self.time_limit_s)
        self.history_ = train_module(self.module_, nn.functional.mse_loss, (train,), train,
                                     None if val is None else (val,), val, config)

    def _scores(self, design):
        x = torch.from_numpy(design)
        with torch.no_grad():
            return ((self.module_(x) - x) ** 2).mean(dim=1).double().numpy() if len(x) else np.zeros(0)

    def _extra_state(self):
        return {**super()._extra_state(), "width": self.width_}

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.module_.state_dict().items()}, str(folder / WEIGHTS))

    def _load_detector(self, folder, extra):
        self.width_ = extra["width"]
        self.module_ = self._module()
        self.module_.load_state_dict(load_file(str(folder / WEIGHTS)))
        self.module_.eval()
