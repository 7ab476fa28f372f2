"""Logistic / ridge regression on robust-scaled numerics, one-hot categories and, for free-text columns, their TF-IDF
weights whole (one sparse design matrix); weights in safetensors."""

from __future__ import annotations

import time
import warnings

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.linear_model import LogisticRegression, Ridge

from depthgauge.zoo.model import ZooModel, sigmoid_to_two_columns, softmax

WEIGHTS = "linear.safetensors"
MAX_ITERATIONS = 1000
FIRST_ROUND = 10  # lbfgs iterations timed first, to size the rounds that follow


def fit_logistic(design, y: np.ndarray, C: float, seed: int, time_limit_s: float | None,
                 max_iter: int = MAX_ITERATIONS) -> tuple[LogisticRegression, dict]:
    """Fit a logistic regression by lbfgs within `time_limit_s`; return it and how its training ended.

    scikit-learn's solver has no clock, and on wide inputs (784 pixels, 50,000 TF-IDF terms) it can
    take minutes. So lbfgs runs in warm-started rounds: the first round is timed, the later ones are
    sized to the time left, and the fit stops when the solver converges or the slice is spent.
    """
    from sklearn.exceptions import ConvergenceWarning

    started = time.perf_counter()
    model = LogisticRegression(C=C, max_iter=FIRST_ROUND, random_state=seed, warm_start=True)
    done, converged = 0, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        while done < max_iter:
            model.fit(design, y)
            ran = int(np.max(model.n_iter_))
            done += ran
            if ran < model.max_iter:
                converged = True
                break
            elapsed = time.perf_counter() - started
            left = None if time_limit_s is None else time_limit_s - elapsed
            if left is not None and left <= 0:
                break
            per_iteration = elapsed / done
            room = max_iter - done if left is None else min(max_iter - done, int(0.9 * left / per_iteration))
            if room < 1:
                break
            model.max_iter = min(room, max(FIRST_ROUND, done))  # rounds grow, so restarts cost little
    summary = {"iterations": done, "stopped_because": "converged" if converged else
               ("max_iterations" if done >= max_iter else "time_budget")}
    return model, summary


class LinearModel(ZooModel):
    family = "linear"
    display_name = "Linear model"
    explainability = "intrinsic"
    reads_records = True

    def _design(self, X):
        design = self._design_encoded(*self.encoder_.encode(X))
        if not self.encoder_.text:
            return design
        from scipy import sparse

        terms = [self.encoder_.text_projections_[name].terms(X[name]) for name in self.encoder_.text]
        return sparse.hstack([sparse.csr_matrix(design), *terms], format="csr", dtype=np.float64)

    def _design_encoded(self, raw, codes):
        return np.hstack([self.encoder_.scaled(raw, "robust"), self.encoder_.one_hot_codes(codes)]).astype(np.float64)

    def predict_records_raw(self, records: list[dict]) -> np.ndarray:
        if self.encoder_.text:  # the TF-IDF terms are read from a frame, as in training
            import pandas as pd

            columns = [c for role in self.encoder_roles().values() for c in role]
            return self._predict_raw(pd.DataFrame([{c: r.get(c) for c in columns} for r in records], columns=columns))
        return super().predict_records_raw(records)

    def _fit(self, X, y, validation):
        design = self._design(X)
        if self.is_classifier:
            model, self.training_ = fit_logistic(design, y, self.params.get("C", 1.0), self.seed, self.time_limit_s)
        else:
            model = Ridge(alpha=self.params.get("alpha", 1.0)).fit(design, y)
            self.training_ = {"stopped_because": "converged"}
        self.coef_ = np.atleast_2d(model.coef_).astype(np.float64)
        self.intercept_ = np.atleast_1d(model.intercept_).astype(np.float64)

    def _predict_raw(self, X):
        return self._from_design(self._design(X))

    def _predict_encoded(self, raw, codes):
        return self._from_design(self._design_encoded(raw, codes))

    def _from_design(self, design):
        logits = np.asarray(design @ self.coef_.T) + self.intercept_
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
