"""Time columns as users have them: datetimes, date strings, integers and floats (fractional years, sequence numbers).

A column is read as dates only when it holds dates; numbers are ordered as numbers. Reading a
float such as 1749.083 as nanoseconds since 1970 would order it, but collapse neighbours into
duplicates and make every step meaningless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from depthgauge.errors import DepthgaugeError


def time_values(series: pd.Series, name: str) -> pd.Series:
    """Return `series` as datetimes or as floats, whichever it holds; raise naming the first value that is neither."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    if pd.api.types.is_bool_dtype(series):
        raise DepthgaugeError(f"Time column '{name}' holds true/false values; it needs dates, times or numbers.")
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(float)
    else:
        numbers = pd.to_numeric(series, errors="coerce")
        present = series.notna()
        if present.any() and numbers[present].notna().all():  # numbers written as text, as in a CSV read as strings
            values = numbers.astype(float)
        else:
            values = pd.to_datetime(series, errors="coerce", format="mixed")
    bad = series[values.isna()]
    if len(bad):
        raise DepthgaugeError(f"Time column '{name}' has {len(bad)} value(s) that are not dates, times or numbers, "
                              f"for example {bad.iloc[0]!r}. Fix or remove those rows.")
    return values


def is_numeric_time(values: pd.Series) -> bool:
    return not pd.api.types.is_datetime64_any_dtype(values)


def sort_key(values: pd.Series) -> np.ndarray:
    """Return values that sort in time order (datetimes as int64 nanoseconds, numbers as floats; missing last)."""
    if is_numeric_time(values):
        return np.nan_to_num(values.to_numpy(float), nan=np.inf)
    raw = values.to_numpy("datetime64[ns]").astype(np.int64)
    return np.where(values.isna().to_numpy(), np.iinfo(np.int64).max, raw)


def numeric_season(step: float) -> int:
    """Return the season of a numeric time axis whose step is a fraction of a year (1/12: months), else 1."""
    for period in (12, 4, 52, 365):
        if step > 0 and abs(step * period - 1) < 0.02:
            return period
    return 1
