"""Durations and volumes as users write them (`5m`, `1h30m`, `1000000/month`, `50k/day`), read with clear errors."""

from __future__ import annotations

import re

from depthgauge.errors import DepthgaugeError

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")
_PERIODS = {"month": 1.0, "mo": 1.0, "day": 30.4375, "d": 30.4375, "week": 4.348, "wk": 4.348, "year": 1 / 12, "yr": 1 / 12,
            "hour": 730.5, "h": 730.5}


def parse_duration(text: str | float | int) -> float:
    """Return seconds for `300`, `90s`, `5m`, `1h30m`."""
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match or not any(match.groups()):
            raise DepthgaugeError(f"Cannot read the duration '{text}'. Write it like 90s, 5m or 1h30m.")
        h, m, s = (float(g) if g else 0.0 for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    if seconds <= 0:
        raise DepthgaugeError(f"The duration '{text}' must be positive. Write it like 90s, 5m or 1h30m.")
    return seconds


def parse_volume(text: str | int) -> int:
    """Return predictions per month for `1000000/month`, `50k/day`, `2.5M/month` or a plain number (per month)."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*([\d_.,]+(?:e\d+)?)\s*([kKmMbB]?)\s*(?:/\s*([a-z]+))?\s*", str(text))
    if not match:
        raise DepthgaugeError(f"Cannot read the volume '{text}'. Write it like 1000000/month, 50k/day or 2.5M/month.")
    number, suffix, period = match.groups()
    try:
        value = float(number.replace(",", "").replace("_", ""))
    except ValueError:
        raise DepthgaugeError(f"Cannot read the number in volume '{text}'. Write it like 1000000/month.") from None
    value *= {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}[suffix.lower()]
    if period is not None and period not in _PERIODS:
        raise DepthgaugeError(f"Unknown period '/{period}' in volume '{text}'. Use /hour, /day, /week, /month or /year.")
    return int(round(value * _PERIODS[period or "month"]))
