"""The estimator protocol every model family speaks: fit, predict, predict_proba, save, load.

Assess, registry and serving never ask which kind of model they hold. Learned state ends in
an underscore; `__init__` only stores its arguments; artifacts are JSON plus safetensors or
LightGBM text, so loading one cannot run code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from depthgauge.errors import DepthgaugeError, NotFittedError
from depthgauge.zoo.encoding import TabularEncoder

MODEL_FILE = "model.json"
TABLE_ROLES = ("numeric", "categorical", "boolean", "datetime", "text")  # "text": free text beside the others
# What `training_summary` and the planner add to a candidate's params: how its fit went, not its recipe.
TRAINING_OUTCOME = ("stopped_because", "epochs", "rounds", "iterations", "train_rows_used", "time_slice_s")


class ZooModel:
    """The base of every family in the zoo (tables, images, texts, graphs, series): fit, predict, save and load
    from plain files, with the input schema the service checks requests against."""

    family: ClassVar[str]
    display_name: ClassVar[str]
    is_deep: ClassVar[bool] = False
    explainability: ClassVar[str]  # intrinsic, post-hoc or none
    instant: ClassVar[bool] = False  # a baseline that takes no measurable time to fit (majority, naive forecast)
    embeds_text: ClassVar[bool] = False  # runs a sentence encoder over every text it predicts (slow: budgeted)
    uses_encoder: ClassVar[bool] = True  # families that read text, images or graphs bring their own input handling
    reads_records: ClassVar[bool] = False  # predicts one record without a DataFrame (`_predict_encoded`)
    # How a free-text column of a table is read: "tfidf" (TF-IDF + SVD) or "sentence" (the pretrained encoder);
    # the `text_reader` param overrides it (the assessment falls back to TF-IDF when the encoder is too slow).
    text_reader: ClassVar[str] = "tfidf"

    def __init__(self, task: str, roles: dict[str, list[str]], seed: int = 0, time_limit_s: float | None = None,
                 **params):
        self.task = task
        self.roles = roles
        self.seed = seed
        self.time_limit_s = time_limit_s
        self.params = params

    @property
    def is_classifier(self) -> bool:
        return self.task in ("binary", "multiclass", "anomaly")

    def get_params(self) -> dict:
        return {"seed": self.seed, **self.params}

    # protocol ----------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y, validation: tuple[pd.DataFrame, object] | None = None) -> "ZooModel":
        """Fit on (X, y), using `validation` for early stopping where the family supports it; return self."""
        X = self.prepare(X)
        if self.uses_encoder:
            self.encoder_ = TabularEncoder(**self.encoder_roles(), text_reader=self.reads_text_with()).fit(X)
        y_fit = self._encode_target(np.asarray(y), learn=True)
        val = None
        if validation is not None:
            val = (self.prepare(validation[0]), self._encode_target(np.asarray(validation[1])))
        self._fit(X, y_fit, val)
        self.fitted_ = True
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return predicted labels (classification) or values (regression)."""
        self._check_fitted()
        out = self._predict_raw(self.prepare(X))
        if self.is_classifier:
            return np.asarray(self.classes_, dtype=object)[np.argmax(out, axis=1)]
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return class probabilities, one column per entry of `classes_`."""
        self._check_fitted()
        if not self.is_classifier:
            raise DepthgaugeError(f"{self.display_name} is a regression model; it has no predict_proba. Use predict.")
        return self._predict_raw(self.prepare(X))

    def predict_records_raw(self, records: list[dict]) -> np.ndarray:
        """`_predict_raw` of records checked by the input contract, without a DataFrame (families that
        `reads_records`): probabilities (n, classes) or values (n,), the same numbers as the frame path gives."""
        self._check_fitted()
        return self._predict_encoded(*self.encoder_.encode_records(records))

    def save(self, folder: str | Path) -> Path:
        """Write the model as JSON plus weights in a safe format into `folder` and return it."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "family": self.family, "task": self.task, "roles": self.roles, "seed": self.seed, "params": self.params,
            "classes": getattr(self, "classes_", None), "encoder": self.encoder_.to_dict() if self.uses_encoder else None, "extra": self._extra_state(),
        }
        (folder / MODEL_FILE).write_text(json.dumps(state, indent=1))
        self._save_weights(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "ZooModel":
        state = json.loads((Path(folder) / MODEL_FILE).read_text())
        model = cls(state["task"], state["roles"], seed=state["seed"], **state["params"])
        if state["encoder"] is not None:
            model.encoder_ = TabularEncoder.from_dict(state["encoder"])
        if state["classes"] is not None:
            model.classes_ = state["classes"]
        model._load_weights(Path(folder), state["extra"])
        model.fitted_ = True
        return model

    def input_schema(self) -> dict:
        """Return the columns this model reads: type, categories seen, and the range seen in training."""
        self._check_fitted()
        encoder, columns = self.encoder_, []
        for name in encoder.numeric:
            q = encoder.numeric_stats_[name]["quantiles"]
            columns.append({"name": name, "type": "number", "min": q[0], "max": q[-1]})
        for name in encoder.boolean:
            columns.append({"name": name, "type": "boolean"})
        for name in encoder.datetime:
            columns.append({"name": name, "type": "datetime"})
        for name in encoder.text:
            columns.append({"name": name, "type": "text"})
        for name in encoder.categorical:
            seen = {"seen": encoder.seen_[name]} if name in encoder.seen_ else {}
            columns.append({"name": name, "type": "category", "categories": encoder.categories_[name], **seen,
                            "unknown_categories": "answered with a warning, handled like missing as in training"})
        for column in columns:
            column["nullable"] = encoder.nullable(column["name"])
        return {"task": self.task, "classes": getattr(self, "classes_", None), "columns": columns}

    def training_summary(self) -> dict:
        """Return how training ended: `stopped_because` (converged, early_stopping, time_budget, ...) and its counts."""
        history = getattr(self, "history_", None)
        if history is not None:
            return {"epochs": len(history.train_loss), "stopped_because": history.stopped_because}
        return dict(getattr(self, "training_", {}))

    def input_importance(self) -> dict[str, float]:
        """Return each input column's share of the model's importance, where the family can tell; else {}."""
        return {}

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the frame this family's encoder reads; families for images or series turn raw inputs into columns."""
        return X

    def reads_text_with(self) -> str:
        """Return how this model reads the free-text columns of a table ("tfidf" or "sentence")."""
        return self.params.get("text_reader", self.text_reader)

    def encoder_roles(self) -> dict[str, list[str]]:
        """Return the table columns the encoder reads (text, image and graph columns are read by their families)."""
        return {role: self.roles.get(role, []) for role in TABLE_ROLES}

    # helpers -------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"This {self.display_name} is not fitted yet. Call fit(X, y) before using it.")

    def _encode_target(self, y: np.ndarray, learn: bool = False) -> np.ndarray:
        if not self.is_classifier:
            return y.astype(np.float64)
        labels = y.astype(str)
        if learn:
            self.classes_ = sorted(set(labels.tolist()))
        index = {c: i for i, c in enumerate(self.classes_)}
        return np.array([index.get(v, -1) for v in labels], dtype=np.int64)

    @property
    def n_outputs(self) -> int:
        return len(self.classes_) if self.is_classifier else 1

    # what a family provides --------------------------------------------------------
    def _fit(self, X: pd.DataFrame, y: np.ndarray, validation) -> None:
        raise NotImplementedError

    def _predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Return probabilities (n, classes) for classifiers, values (n,) for regression."""
        raise NotImplementedError

    def _predict_encoded(self, raw: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """`_predict_raw` from the encoder's raw numerics and category codes (families that `reads_records`)."""
        raise NotImplementedError

    def _extra_state(self) -> dict:
        return {}

    def _save_weights(self, folder: Path) -> None:
        pass

    def _load_weights(self, folder: Path, extra: dict) -> None:
        pass


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid_to_two_columns(logit: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
    return np.column_stack([1.0 - p, p])
