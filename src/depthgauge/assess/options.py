"""Parse the assessment's option strings (`5m`, `1000000/month`, `tp=40,fp=-5,fn=-60`), with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass

from depthgauge.errors import DepthgaugeError

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")
_PERIODS = {"month": 1.0, "mo": 1.0, "day": 30.4375, "d": 30.4375, "week": 4.348, "wk": 4.348, "year": 1 / 12, "yr": 1 / 12,
            "hour": 730.5, "h": 730.5}
VALUE_KEYS = {
    "binary": ("tp", "fp", "fn", "tn"),
    "multiclass": ("correct", "wrong"),
    "regression": ("error",),
}


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


@dataclass(frozen=True)
class ValueMatrix:
    """What each kind of outcome is worth, in the user's currency."""

    values: dict[str, float]

    def get(self, key: str) -> float:
        return self.values.get(key, 0.0)


def parse_value(text: str, task: str) -> ValueMatrix:
    """Return the value matrix for `tp=40,fp=-5,fn=-60,tn=0` (binary), `correct=..,wrong=..`, or `error=..`."""
    allowed = VALUE_KEYS[task]
    example = {"binary": "tp=40,fp=-5,fn=-60,tn=0", "multiclass": "correct=10,wrong=-20",
               "regression": "error=-2.5 (value per unit of absolute error)"}[task]
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, number = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in allowed:
            raise DepthgaugeError(
                f"Malformed --value '{text}': '{part}' is not one of {', '.join(k + '=NUMBER' for k in allowed)} "
                f"for a {task} task. Example: --value {example}."
            )
        try:
            values[key] = float(number)
        except ValueError:
            raise DepthgaugeError(f"Malformed --value '{text}': '{number.strip()}' for {key} is not a number. "
                                  f"Example: --value {example}.") from None
    if not values:
        raise DepthgaugeError(f"Malformed --value '{text}': no values given. Example: --value {example}.")
    return ValueMatrix(values)
