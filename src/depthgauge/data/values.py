"""How a cell's value is read as a boolean or a date, the same way everywhere: training, the input contract,
the monitor's reference profile."""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUE_WORDS = {"true", "yes", "y", "t", "1", "1.0"}
FALSE_WORDS = {"false", "no", "n", "f", "0", "0.0"}


def as_bool(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    return text.map(lambda v: 1.0 if v in TRUE_WORDS else (0.0 if v in FALSE_WORDS else np.nan), na_action="ignore").astype(float)


def as_datetime(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_datetime(series, errors="coerce", format="mixed")
