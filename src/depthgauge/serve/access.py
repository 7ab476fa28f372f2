"""The access log: one line per HTTP request (method, path, status, latency, request id), never a body or a key."""

from __future__ import annotations

import json
import sys
import time
from typing import Callable, TextIO

from depthgauge.errors import DepthgaugeError

FORMATS = ("text", "json")
AccessLog = Callable[[str, str, int, float, str], None]


def access_log(log_format: str | None, stream: TextIO | None = None) -> AccessLog | None:
    """Return the writer for `log_format` ('text', or 'json' for log shippers), or None for no access log."""
    if log_format is None:
        return None
    if log_format not in FORMATS:
        raise DepthgaugeError(f"Unknown log format '{log_format}'. Use one of: {', '.join(FORMATS)}.")

    def write(method: str, path: str, status: int, seconds: float, request_id: str) -> None:
        out = stream or sys.stdout
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
        if log_format == "json":
            line = json.dumps({"time": at, "method": method, "path": path, "status": status,
                               "latency_ms": round(seconds * 1000, 2), "request_id": request_id})
        else:
            line = f"{at} {method} {path} {status} {seconds * 1000:.1f}ms {request_id}"
        out.write(line + "\n")
        out.flush()

    return write
