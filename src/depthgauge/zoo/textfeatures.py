"""Free text inside a table, as a few numbers every tabular family can read.

Two readers, one per side of the comparison:
- `TextProjection` (the simple candidates): TF-IDF reduced by a truncated SVD;
- `SentenceProjection` (the deep candidates, MLP and TabM): the pretrained MiniLM sentence encoder's embedding,
  frozen, reduced by PCA, fused with the tabular columns at the network's input.

A support ticket, a review or a note beside structured columns carries signal that a table model would otherwise
never see. Each text column is turned into TF-IDF weights of its most frequent words and word pairs (learned on the
training rows only), then projected onto the `k` directions that explain most of that matrix (latent semantic
analysis). The linear model also reads the TF-IDF weights whole, as one sparse matrix with the other columns. The
`k` numbers join the numeric features, so linear models, decision rules, LightGBM, the MLP and TabM
read the text, and serving, export and the input contract take the column like any other.

Everything learned is JSON (the vocabulary, the IDF weights and the projection), so it loads without running code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_TERMS = 2000  # the vocabulary: the most frequent words and word pairs of the training rows
DIMENSIONS = 16  # numbers per text column
MIN_DOCUMENT_FREQUENCY = 2
NGRAMS = (1, 2)


def _texts(values: pd.Series) -> list[str]:
    return values.fillna("").astype(str).tolist()


class TextProjection:
    """One text column's TF-IDF vocabulary and its projection onto `DIMENSIONS` directions."""

    reader = "tfidf"

    def __init__(self, vocabulary: dict[str, int], idf: list[float], components: list[list[float]]):
        self.vocabulary = vocabulary
        self.idf = idf
        self.components = components
        self._vectorizer = None

    @classmethod
    def fit(cls, values: pd.Series, seed: int = 0) -> "TextProjection":
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = _texts(values)
        vectorizer = TfidfVectorizer(max_features=MAX_TERMS, ngram_range=NGRAMS, sublinear_tf=True,
                                     min_df=min(MIN_DOCUMENT_FREQUENCY, max(len(texts), 1)), dtype=np.float32)
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # no word in any row: the column carries nothing, and says so with zeros
            return cls({}, [], [])
        k = min(DIMENSIONS, matrix.shape[1] - 1, matrix.shape[0] - 1)
        if k < 1:
            components = np.ones((1, matrix.shape[1]), np.float32) / np.sqrt(matrix.shape[1])
        else:
            components = TruncatedSVD(n_components=k, random_state=seed).fit(matrix).components_
        vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        return cls(vocabulary, [round(float(v), 6) for v in vectorizer.idf_],
                   [[round(float(v), 6) for v in row] for row in components])

    @property
    def dimensions(self) -> int:
        return max(len(self.components), 1)

    def transform(self, values: pd.Series) -> np.ndarray:
        """Return the projection of each row's text, (n, dimensions) float32; empty text projects to zeros."""
        if not self.vocabulary:
            return np.zeros((len(values), 1), np.float32)
        return np.asarray(self.terms(values) @ np.asarray(self.components, np.float32).T, np.float32)

    def terms(self, values: pd.Series):
        """Return each row's TF-IDF weights over the vocabulary, a sparse (n, terms) matrix (the linear model reads
        them whole, beside the projection)."""
        from scipy import sparse

        if not self.vocabulary:
            return sparse.csr_matrix((len(values), 0), dtype=np.float32)
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(vocabulary=self.vocabulary, ngram_range=NGRAMS, sublinear_tf=True,
                                               dtype=np.float32)
            self._vectorizer.idf_ = np.asarray(self.idf, np.float64)
        return self._vectorizer.transform(_texts(values))

    def to_dict(self) -> dict:
        return {"reader": self.reader, "vocabulary": self.vocabulary, "idf": self.idf, "components": self.components}

    @classmethod
    def from_dict(cls, state: dict) -> "TextProjection":
        return cls(state["vocabulary"], state["idf"], state["components"])


SENTENCE_DIMENSIONS = 32  # principal directions of the 384-dimensional sentence embedding kept per text column
PCA_ROWS = 20_000  # training embeddings the directions are learned from (more changes them little)


class SentenceProjection:
    """One text column read by the frozen MiniLM sentence encoder, projected onto its `SENTENCE_DIMENSIONS` principal
    directions on the training rows. Only the mean and the directions are learned (JSON); the encoder's weights are
    the installed package's, so serving reads the text exactly as training did."""

    reader = "sentence"

    def __init__(self, mean: list[float], components: list[list[float]]):
        self.mean = mean
        self.components = components

    @classmethod
    def fit(cls, values: pd.Series, seed: int = 0) -> "SentenceProjection":
        from depthgauge.zoo import sentence

        texts = _texts(values)
        rows = np.random.default_rng(seed).permutation(len(texts))[:PCA_ROWS]
        embedded = sentence.embed([texts[i] for i in rows]).astype(np.float64)
        mean = embedded.mean(axis=0) if len(embedded) else np.zeros(sentence.DIMENSIONS)
        k = max(1, min(SENTENCE_DIMENSIONS, len(embedded) - 1))
        _, _, directions = np.linalg.svd(embedded - mean, full_matrices=False)
        components = directions[:k] if len(directions) else np.eye(sentence.DIMENSIONS)[:1]
        return cls([round(float(v), 7) for v in mean], [[round(float(v), 7) for v in row] for row in components])

    @property
    def dimensions(self) -> int:
        return len(self.components)

    def transform(self, values: pd.Series) -> np.ndarray:
        from depthgauge.zoo import sentence

        embedded = sentence.embed(_texts(values))
        return ((embedded - np.asarray(self.mean, np.float32)) @ np.asarray(self.components, np.float32).T).astype(
            np.float32)

    def to_dict(self) -> dict:
        return {"reader": self.reader, "mean": self.mean, "components": self.components}

    @classmethod
    def from_dict(cls, state: dict) -> "SentenceProjection":
        return cls(state["mean"], state["components"])


READERS = {"tfidf": TextProjection, "sentence": SentenceProjection}


def projection_from_dict(state: dict):
    """Return the text reader saved as `state` (artifacts written before the sentence reader are TF-IDF)."""
    return READERS[state.get("reader", "tfidf")].from_dict(state)
