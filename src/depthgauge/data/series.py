"""How a series becomes a table of lags: the lag columns' names and the seasonal lag of a forecast horizon."""

from __future__ import annotations

import math


def lag_names(window: int) -> list[str]:
    return [f"lag_{k}" for k in range(1, window + 1)]


def seasonal_lag(season: int, horizon: int) -> int:
    """Return the lag holding the same season position as the forecast target: m·ceil(h/m) − h + 1."""
    return season * math.ceil(horizon / season) - horizon + 1
