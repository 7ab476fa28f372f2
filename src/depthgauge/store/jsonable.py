"""JSON that every database and client accepts: NaN and infinity become null, numpy scalars plain numbers."""

from __future__ import annotations

import math


def json_ready(value):
    """Return `value` with NaN/infinity replaced by None and numpy scalars by Python numbers, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_ready(value.item())
    return value
