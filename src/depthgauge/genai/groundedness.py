"""Is each sentence of a generated answer supported by the retrieved contexts?

A sentence's support score is the mean of two signals, each from 0 to 1:
- semantic: the highest cosine similarity (all-MiniLM-L6-v2, packaged, offline) between the sentence and any
  context sentence or pair of consecutive context sentences;
- lexical: the share of the sentence's content words (stop words dropped, plural and tense endings trimmed)
  that appear in the contexts.
A sentence that opens with a pronoun ("It was published in 1813.") is also compared with the previous
sentence of the answer in front of it, so the thing it refers to is in view; its semantic signal is the better of
the two. A sentence stating a number no context contains has its score halved: invented figures are the commonest
hallucination. The sentence is supported when its score reaches a threshold calibrated on labeled sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import numpy as np

STOP_WORDS = frozenset("""a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves per may must can""".split())
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PRONOUN_START = re.compile(r"^(it|its|they|their|them|this|these|that|those|he|she|his|her)\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Split text into sentences at ., ! or ? followed by a capital or a digit."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


@dataclass
class Support:
    score: float
    semantic: float
    lexical: float
    missing_numbers: list[str]
    evidence: str


def _units(contexts: list[str]) -> list[str]:
    """Context sentences, and each pair of consecutive ones (a claim may need both)."""
    units = []
    for context in contexts:
        parts = sentences(context)
        units += parts + [f"{a} {b}" for a, b in zip(parts, parts[1:])]
    return units


def score_claims(items: list[tuple[str, list[str]]], embed=None, previous: list[str | None] | None = None) -> list[Support]:
    """Return the support of each (sentence, contexts) item, embedding everything in one batch.

    `previous` gives, per item, the answer's sentence before it (None for the first).
    """
    if embed is None:
        from depthgauge.zoo.sentence import embed
    units = [_units(contexts) for _, contexts in items]
    previous = previous or [None] * len(items)
    joined_with = [f"{before} {sentence}" if before and _PRONOUN_START.match(sentence) else None
                   for (sentence, _), before in zip(items, previous)]
    # The sentences of one answer share its contexts: every distinct text is embedded once.
    texts = list(dict.fromkeys([sentence for sentence, _ in items] + [j for j in joined_with if j]
                               + [u for group in units for u in group]))
    row = {text: i for i, text in enumerate(texts)}
    vectors = embed(texts) if texts else np.zeros((0, 1))
    out = []
    for (sentence, contexts), group, joined in zip(items, units, joined_with):
        block = vectors[[row[u] for u in group]]
        similarity = block @ vectors[row[sentence]] if len(group) else np.zeros(0)
        if joined and len(group):
            similarity = np.maximum(similarity, block @ vectors[row[joined]])
        best = int(np.argmax(similarity)) if len(group) else -1
        semantic = float(max(similarity.max(), 0.0)) if len(group) else 0.0
        joined = " ".join(contexts)
        words = content_words(sentence)
        lexical = len(words & content_words(joined)) / len(words) if words else 1.0
        missing = sorted(_numbers(sentence) - _numbers(joined))
        score = (semantic + lexical) / 2 * (0.5 if missing else 1.0)
        out.append(Support(score, semantic, lexical, missing, group[best] if best >= 0 else ""))
    return out


@dataclass
class Calibration:
    threshold: float
    balanced_accuracy: float
    n_labeled: int
    n_supported: int
    source: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def calibrate(scores: list[float], labels: list[bool], source: str) -> Calibration:
    """Return the threshold that best separates supported from unsupported sentences (balanced accuracy).

    Ties are broken towards the middle of the best range, so the threshold does not hug one labeled example.
    """
    s, y = np.asarray(scores, float), np.asarray(labels, bool)
    cuts = np.unique(s)
    candidates = np.concatenate([[cuts[0] - 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-6]])

    def balanced(t: float) -> float:
        predicted = s >= t
        tpr = (predicted & y).sum() / max(y.sum(), 1)
        tnr = (~predicted & ~y).sum() / max((~y).sum(), 1)
        return (tpr + tnr) / 2 if y.any() and (~y).any() else float(np.mean(predicted == y))

    values = np.array([balanced(t) for t in candidates])
    best = np.flatnonzero(values == values.max())
    threshold = float(np.median(candidates[best]))
    return Calibration(threshold, float(values.max()), int(len(y)), int(y.sum()), source)


def packaged_examples() -> list[dict]:
    """Return the labeled sentences shipped with depthgauge (hand-written: one supported, one not, per context)."""
    import json

    text = resources.files("depthgauge.genai").joinpath("calibration.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
