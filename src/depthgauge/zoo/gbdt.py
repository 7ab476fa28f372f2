"""Gradient-boosted trees (LightGBM) with early stopping on validation; saved in LightGBM's text format."""

from __future__ import annotations

import os
import time

import lightgbm as lgb
import numpy as np

from depthgauge.zoo.model import ZooModel

MODEL_TEXT = "lightgbm.txt"
DEFAULTS = {
    "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20, "feature_fraction": 0.9,
    "lambda_l2": 1.0, "max_rounds": 2000, "early_stopping_rounds": 50,
}


def lightgbm_params(task: str, n_classes: int, seed: int, overrides: dict) -> dict:
    """Return the LightGBM parameter dict for `task` (also used by the benchmark's bare run)."""
    p = {**DEFAULTS, **overrides}
    objective = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}[task]
    params = {
        "objective": objective, "learning_rate": p["learning_rate"], "num_leaves": p["num_leaves"],
        "min_data_in_leaf": p["min_data_in_leaf"], "feature_fraction": p["feature_fraction"],
        "lambda_l2": p["lambda_l2"], "seed": seed, "deterministic": True, "verbosity": -1,
        "num_threads": os.cpu_count() or 1,
    }
    if "max_bin" in p:
        params["max_bin"] = p["max_bin"]
    if task == "multiclass":
        params["num_class"] = n_classes
    return params


def _time_limit_callback(deadline: float, stopped: dict):
    def callback(env):
        if time.perf_counter() > deadline:
            stopped["stopped_because"] = "time_budget"
            raise lgb.callback.EarlyStopException(env.model.best_iteration or env.iteration, env.evaluation_result_list)
    callback.order = 40
    return callback


def _design(raw: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return np.hstack([raw, codes.astype(np.float32)])


class LightGBMModel(ZooModel):
    family = "lightgbm"
    display_name = "LightGBM"
    explainability = "post-hoc"
    reads_records = True

    def design(self, X) -> np.ndarray:
        """Return the matrix LightGBM sees: raw numerics (NaN kept) then category codes."""
        return _design(*self.encoder_.encode(X))

    def _categorical_indices(self) -> list[int]:
        start = len(self.encoder_.numeric_names_)
        return list(range(start, start + len(self.encoder_.categorical)))

    def _fit(self, X, y, validation):
        params = lightgbm_params(self.task, self.n_outputs, self.seed, self.params)
        cats = self._categorical_indices()
        train = lgb.Dataset(self.design(X), y, categorical_feature=cats, free_raw_data=True)
        callbacks, valid_sets = [], []
        if validation is not None:
            valid_sets = [lgb.Dataset(self.design(validation[0]), validation[1], categorical_feature=cats, reference=train)]
            rounds = {**DEFAULTS, **self.params}["early_stopping_rounds"]
            callbacks.append(lgb.early_stopping(rounds, verbose=False))
        stopped = {"stopped_because": "max_rounds"}
        if self.time_limit_s is not None:
            callbacks.append(_time_limit_callback(time.perf_counter() + self.time_limit_s, stopped))
        max_rounds = {**DEFAULTS, **self.params}["max_rounds"]
        booster = lgb.train(params, train, num_boost_round=max_rounds, valid_sets=valid_sets, callbacks=callbacks)
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        if stopped["stopped_because"] != "time_budget" and booster.current_iteration() < max_rounds:
            stopped["stopped_because"] = "early_stopping"
        self.training_ = {"rounds": int(booster.current_iteration()), **stopped}
        self.booster_ = booster

    def _predict_raw(self, X):
        return self._from_design(self.design(X))

    def _predict_encoded(self, raw, codes):
        return self._from_design(_design(raw, codes))

    def _from_design(self, design):
        out = self.booster_.predict(design, num_iteration=self.best_iteration_,
                                    num_threads=1 if len(design) < 64 else 0)
        if self.task == "binary":
            return np.column_stack([1.0 - out, out])
        return out

    def input_importance(self) -> dict[str, float]:
        """Return each input column's share of the total split gain (derived date parts count for their column)."""
        self._check_fitted()
        names = [n.split(".")[0] if n not in self.encoder_.numeric else n for n in self.encoder_.numeric_names_]
        gains = self.booster_.feature_importance("gain", iteration=self.best_iteration_)
        shares: dict[str, float] = {}
        for name, gain in zip(names + list(self.encoder_.categorical), gains, strict=True):
            shares[name] = shares.get(name, 0.0) + float(gain)
        total = sum(shares.values()) or 1.0
        return {name: gain / total for name, gain in shares.items()}

    def _extra_state(self):
        return {"best_iteration": self.best_iteration_}

    def _save_weights(self, folder):
        (folder / MODEL_TEXT).write_text(self.booster_.model_to_string(num_iteration=self.best_iteration_))

    def _load_weights(self, folder, extra):
        self.best_iteration_ = extra["best_iteration"]
        self.booster_ = lgb.Booster(model_str=(folder / MODEL_TEXT).read_text())
