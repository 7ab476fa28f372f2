"""The access log: one line per HTTP request (method, path, status, latency, request id), never a body or a key."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Callable, TextIO

from depthgauge.errors import DepthgaugeError

FORMATS = ("text", "json")
FLUSH_SECONDS = 0.1  # a line reaches the stream at most this long after its request is answered
AccessLog = Callable[[str, str, int, float, str], None]


def access_log(log_format: str | None, stream: TextIO | None = None) -> AccessLog | None:
    """Return the writer for `log_format` ('text', or 'json' for log shippers), or None for no access log."""
    if log_format is None:
        return None
    if log_format not in FORMATS:
        raise DepthgaugeError(f"Unknown log format '{log_format}'. Use one of: {', '.join(FORMATS)}.")

    flushing = []  # a flush is scheduled on the event loop
    stamp = [0, ""]  # the second last written, and its text

    def flush() -> None:
        flushing.clear()
        (stream or sys.stdout).flush()

    def write(method: str, path: str, status: int, seconds: float, request_id: str) -> None:
        out = stream or sys.stdout
        now = int(time.time())
        if now != stamp[0]:
            stamp[:] = [now, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z"]
        at = stamp[1]
        if log_format == "json":
            line = json.dumps({"time": at, "method": method, "path": path, "status": status,
                               "latency_ms": round(seconds * 1000, 2), "request_id": request_id})
        else:
            line = f"{at} {method} {path} {status} {seconds * 1000:.1f}ms {request_id}"
        out.write(line + "\n")
        if flushing:
            return
        try:  # under load, one flush (one system call) every FLUSH_SECONDS rather than one per line
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, flush)
            flushing.append(True)
        except RuntimeError:  # not on an event loop: flush now
            flush()

    return write
