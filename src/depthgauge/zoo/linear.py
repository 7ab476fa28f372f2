"""Logistic / ridge regression on robust-scaled numerics and one-hot categories; weights in safetensors."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.linear_model import LogisticRegression, Ridge

from depthgauge.zoo.base import TabularModel, sigmoid_to_two_columns, softmax

WEIGHTS = "linear.safetensors"


class LinearModel(TabularModel):
    family = "linear"
    display_name = "Linear model"
    explainability = "intrinsic"

    def _design(self, X):
        return np.hstack([self.encoder_.numeric_scaled(X, "robust"), self.encoder_.one_hot(X)]).astype(np.float64)

    def _fit(self, X, y, validation):
        design = self._design(X)
        if self.is_classifier:
            model = LogisticRegression(C=self.params.get("C", 1.0), max_iter=1000, random_state=self.seed)
        else:
            model = Ridge(alpha=self.params.get("alpha", 1.0))
        model.fit(design, y)
        self.coef_ = np.atleast_2d(model.coef_).astype(np.float64)
        self.intercept_ = np.atleast_1d(model.intercept_).astype(np.float64)

    def _predict_raw(self, X):
        logits = self._design(X) @ self.coef_.T + self.intercept_
        if not self.is_classifier:
            return logits[:, 0]
        if self.coef_.shape[0] == 1:
            return sigmoid_to_two_columns(logits[:, 0])
        return softmax(logits)

    def _save_weights(self, folder):
        save_file({"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_}, str(folder / WEIGHTS))

    def _load_weights(self, folder, extra):
        tensors = load_file(str(folder / WEIGHTS))
        self.coef_, self.intercept_ = tensors["coef"], tensors["intercept"]
