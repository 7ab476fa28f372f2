"""Shared rendering helpers: JSON output that stays valid (no NaN), and the rich consoles."""

from __future__ import annotations

import json
import math

from rich.console import Console


def plain(value):
    """Return `value` with NaN and infinity replaced by None, so it is valid JSON everywhere."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    return value


def print_json(data) -> None:
    print(json.dumps(plain(data), indent=2, default=str))


def stderr_console() -> Console:
    return Console(stderr=True)
