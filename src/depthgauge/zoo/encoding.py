"""Turn a raw table into model inputs. Everything learned here is plain JSON, so it loads without running code."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from depthgauge.data.values import FALSE_WORDS, TRUE_WORDS, as_bool, as_datetime

MAX_SEEN = 5000  # categories remembered beyond the learned ones, to tell unseen from rare
_QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)
_REVERSED_LEVELS = 1.0 - _QUANTILE_LEVELS[::-1]
_CLIP = 10.0


def _number(value) -> float:
    """One value as `pd.to_numeric(..., errors="coerce")` reads it."""
    if value is None or isinstance(value, bool):
        return float(value) if isinstance(value, bool) else np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _boolean(value) -> float:
    """One value as `as_bool` reads it."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    text = str(value).strip().lower()
    return 1.0 if text in TRUE_WORDS else (0.0 if text in FALSE_WORDS else np.nan)


def column_quantiles(matrix: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Return each column's quantiles at `levels` ignoring NaN (linear interpolation, as numpy's default).

    One sort serves every level and column; a column with no values gets zeros.
    """
    if matrix.size == 0:
        return np.zeros((len(levels), matrix.shape[1]))
    ordered = np.sort(matrix, axis=0)  # NaN sorts last
    present = (~np.isnan(matrix)).sum(axis=0)
    position = levels[:, None] * np.maximum(present - 1, 0)[None, :]
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(present - 1, 0)[None, :])
    columns = np.arange(matrix.shape[1])[None, :]
    below, above = ordered[low, columns], ordered[high, columns]
    result = below + (position - low) * (above - below)
    result[:, present == 0] = 0.0
    return result


class TabularEncoder:
    """Numeric, boolean and datetime columns become numbers; categorical columns become integer codes.

    Code 0 is reserved for missing and unseen categories, so new values at prediction time are
    handled the way training handled rare ones.
    """

    def __init__(self, numeric=(), categorical=(), boolean=(), datetime=(), max_categories: int = 64, text=(),
                 text_reader: str = "tfidf"):
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.boolean = list(boolean)
        self.datetime = list(datetime)
        self.max_categories = max_categories
        self.text = list(text)  # free-text columns, read as a few numbers each (zoo/textfeatures.py)
        self.text_reader = text_reader  # "tfidf" or "sentence" (the pretrained encoder, for the deep families)

    # numbers ---------------------------------------------------------------
    def _numbers(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = {name: pd.to_numeric(frame[name], errors="coerce").astype(float) for name in self.numeric}
        for name in self.boolean:
            parts[name] = as_bool(frame[name])
        return pd.DataFrame({**parts, **self._dates(frame), **self._texts(frame)}, index=frame.index)

    def _texts(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        parts = {}
        for name in self.text:
            projected = self.text_projections_[name].transform(frame[name])
            for k in range(projected.shape[1]):
                parts[f"{name}.text{k}"] = projected[:, k].astype(float)
        return parts

    def _dates(self, frame: pd.DataFrame) -> dict[str, pd.Series]:
        parts = {}
        for name in self.datetime:
            stamp = as_datetime(frame[name])
            epoch_days = (stamp - pd.Timestamp("1970-01-01", tz=stamp.dt.tz)) / pd.Timedelta(days=1)
            parts[f"{name}.days"] = epoch_days.astype(float)
            parts[f"{name}.month"] = stamp.dt.month.astype(float)
            parts[f"{name}.weekday"] = stamp.dt.day_of_week.astype(float)
        return parts

    def fit(self, frame: pd.DataFrame) -> "TabularEncoder":
        from depthgauge.zoo.textfeatures import READERS

        self._numeric_arrays = None
        self.text_projections_ = {name: READERS[self.text_reader].fit(frame[name]) for name in self.text}
        numbers = self._numbers(frame)
        self.numeric_names_ = list(numbers.columns)
        self.numeric_stats_ = {}
        matrix = numbers.to_numpy(np.float64)
        missing = np.isnan(matrix).any(axis=0)
        quantiles = column_quantiles(matrix, _QUANTILE_LEVELS)
        for j, name in enumerate(numbers.columns):
            q = quantiles[:, j]
            spread = (q[75] - q[25]) or (q[-1] - q[0]) / 4 or 1.0
            self.numeric_stats_[name] = {
                "median": float(q[50]), "scale": float(spread), "quantiles": q.tolist(), "has_missing": bool(missing[j]),
            }
        self.categories_, self.seen_ = {}, {}
        for name in self.categorical:
            counts = frame[name].dropna().astype(str).value_counts()
            self.categories_[name] = counts.index[: self.max_categories].tolist()
            if len(counts) > len(self.categories_[name]) and len(counts) <= MAX_SEEN:
                self.seen_[name] = sorted(counts.index.tolist())  # rare ones too, so 'never seen' is only said when true
        self.category_missing_ = {name: bool(frame[name].isna().any()) for name in self.categorical}
        return self

    def nullable(self, column: str) -> bool:
        """Whether `column` had missing values in training: the input contract makes the others required.

        Artifacts from before the contract did not record it for categories, which stay optional.
        """
        if column in self.categorical:
            return self.category_missing_.get(column, True)
        if column in self.text:
            return True  # missing text reads as empty text
        return self.numeric_stats_[f"{column}.days" if column in self.datetime else column]["has_missing"]

    def numeric_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the numeric features as float32 with NaN for missing (for models that handle NaN)."""
        return self._numbers(frame)[self.numeric_names_].to_numpy(np.float32)

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return (raw numerics as float32 with NaN, category codes as int64): what every family starts from."""
        return self.numeric_raw(frame), self.codes(frame)

    def encode_records(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """`encode` of records checked by the input contract, without a DataFrame: the same numbers as `encode`
        gives for a frame of them, in microseconds a record (categories through dicts, numbers straight into rows)."""
        if not hasattr(self, "_category_index"):
            self._category_index = {n: {c: i + 1 for i, c in enumerate(self.categories_[n])} for n in self.categorical}
        raw = np.empty((len(records), len(self.numeric_names_)), np.float32)
        codes = np.empty((len(records), len(self.categorical)), np.int64)
        for i, record in enumerate(records):
            j = 0
            for name in self.numeric:
                raw[i, j] = _number(record.get(name))
                j += 1
            for name in self.boolean:
                raw[i, j] = _boolean(record.get(name))
                j += 1
            for k, name in enumerate(self.categorical):
                value = record.get(name)
                codes[i, k] = 0 if value is None else self._category_index[name].get(str(value), 0)
        start = len(self.numeric) + len(self.boolean)
        if self.datetime:  # dates are rare: parsed exactly as the frame path parses them
            dates = self._dates(pd.DataFrame({name: [record.get(name) for record in records] for name in self.datetime}))
            raw[:, start:start + 3 * len(self.datetime)] = pd.DataFrame(dates).to_numpy(np.float32)
        if self.text:
            texts = self._texts(pd.DataFrame({name: [record.get(name) for record in records] for name in self.text}))
            raw[:, start + 3 * len(self.datetime):] = np.column_stack(list(texts.values())).astype(np.float32)
        return raw, codes

    def numeric_imputed(self, frame: pd.DataFrame) -> np.ndarray:
        return self.imputed(self.numeric_raw(frame))

    def imputed(self, raw: np.ndarray) -> np.ndarray:
        """The raw numerics with each missing value replaced by its column's training median."""
        return np.where(np.isnan(raw), self._arrays()["medians"].astype(np.float32), raw).astype(np.float32)

    def _arrays(self) -> dict:
        """The numeric statistics as arrays, computed once (scaling one row must not rebuild them)."""
        if getattr(self, "_numeric_arrays", None) is None:
            stats = [self.numeric_stats_[n] for n in self.numeric_names_]
            quantiles = [np.asarray(s["quantiles"], np.float64) for s in stats]
            self._numeric_arrays = {
                "medians": np.array([s["median"] for s in stats], np.float64),
                "scales": np.array([s["scale"] for s in stats], np.float64),
                "flagged": np.array([s["has_missing"] for s in stats], bool),
                "up": quantiles, "down": [-q[::-1] for q in quantiles],
            }
        return self._numeric_arrays

    def numeric_scaled(self, frame: pd.DataFrame, how: str = "robust") -> np.ndarray:
        """Return imputed numerics scaled robustly (median/IQR) or by quantiles to a normal, plus missing flags."""
        return self.scaled(self.numeric_raw(frame), how)

    def scaled(self, raw: np.ndarray, how: str = "robust") -> np.ndarray:
        """`numeric_scaled` from the raw numerics: imputed, scaled, then one missing flag per column that had
        missing values in training."""
        arrays = self._arrays()
        x = raw.astype(np.float64)
        missing = np.isnan(x)
        x = np.where(missing, arrays["medians"], x)
        if how == "quantile":
            shares = np.empty_like(x)
            for j, (up, down) in enumerate(zip(arrays["up"], arrays["down"], strict=True)):
                shares[:, j] = (np.interp(x[:, j], up, _QUANTILE_LEVELS)
                                + (1.0 - np.interp(-x[:, j], down, _REVERSED_LEVELS))) / 2
            x = ndtri(np.clip(shares, 1e-4, 1 - 1e-4))
        else:
            x = np.clip((x - arrays["medians"]) / arrays["scales"], -_CLIP, _CLIP)
        return np.hstack([x, missing[:, arrays["flagged"]]]).astype(np.float32)

    # categories ------------------------------------------------------------
    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Return an int64 matrix of category codes: 0 for missing or unseen, 1..K for the learned categories."""
        out = np.zeros((len(frame), len(self.categorical)), np.int64)
        for j, name in enumerate(self.categorical):
            # Unknown and missing values get pandas' code -1, which becomes our reserved 0.
            values = frame[name]
            if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
                values = values.astype("string")  # categories were learned as text
            out[:, j] = pd.Index(self.categories_[name]).get_indexer(values).astype(np.int64) + 1
        return out

    def cardinalities(self) -> list[int]:
        return [len(self.categories_[n]) for n in self.categorical]

    def one_hot(self, frame: pd.DataFrame) -> np.ndarray:
        return self.one_hot_codes(self.codes(frame))

    def one_hot_codes(self, codes: np.ndarray) -> np.ndarray:
        """One column per learned category, in `one_hot_names` order; code 0 (missing, unseen) sets none."""
        sizes = self.cardinalities()
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else np.zeros(0, np.int64)
        out = np.zeros((len(codes), int(sum(sizes))), np.float32)
        rows, columns = np.nonzero(codes)
        out[rows, starts[columns] + codes[rows, columns] - 1] = 1.0
        return out

    def one_hot_names(self) -> list[tuple[str, str]]:
        return [(n, c) for n in self.categorical for c in self.categories_[n]]

    # persistence -----------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric, "categorical": self.categorical, "boolean": self.boolean,
            "datetime": self.datetime, "max_categories": self.max_categories,
            "numeric_names": self.numeric_names_, "numeric_stats": self.numeric_stats_, "categories": self.categories_,
            "seen": self.seen_, "category_missing": self.category_missing_, "text": self.text, "text_reader": self.text_reader,
            "text_projections": {n: p.to_dict() for n, p in getattr(self, "text_projections_", {}).items()},
        }

    @classmethod
    def from_dict(cls, state: dict) -> "TabularEncoder":
        from depthgauge.zoo.textfeatures import projection_from_dict

        encoder = cls(state["numeric"], state["categorical"], state["boolean"], state["datetime"], state["max_categories"],
                      state.get("text", []), state.get("text_reader", "tfidf"))
        encoder.text_projections_ = {n: projection_from_dict(p) for n, p in state.get("text_projections", {}).items()}
        encoder.numeric_names_ = state["numeric_names"]
        encoder.numeric_stats_ = state["numeric_stats"]
        encoder.categories_ = state["categories"]
        encoder.seen_ = state.get("seen", {})
        encoder.category_missing_ = state.get("category_missing", {})
        return encoder
