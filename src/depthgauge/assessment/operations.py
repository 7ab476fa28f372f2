"""Operations: single-row latency, batch throughput, peak memory during fit, artifact size.

Every candidate is measured in the same process, one after another, on the same rows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psutil

LATENCY_ROWS = 200
LATENCY_SECONDS = 2.0
THROUGHPUT_SECONDS = 0.5


@dataclass
class Operations:
    latency_p50_ms: float
    latency_p99_ms: float
    throughput_rows_per_s: float
    fit_seconds: float
    peak_memory_mb: float
    artifact_bytes: int
    latencies_ms: list[float] = field(default_factory=list, repr=False)


class PeakMemory:
    """Samples this process's resident memory while active; `.peak_mb` is the rise above the start."""

    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s
        self.peak_mb = 0.0

    def __enter__(self):
        self._process = psutil.Process()
        self._baseline = self._process.memory_info().rss
        self._peak = self._baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self._peak = max(self._peak, self._process.memory_info().rss)
            self._stop.wait(self.interval_s)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._process.memory_info().rss)
        self.peak_mb = (self._peak - self._baseline) / 2**20
        return False


def measure_latency_ms(model, X: pd.DataFrame, max_rows: int = LATENCY_ROWS, max_seconds: float = LATENCY_SECONDS) -> list[float]:
    """Return the time of single-row predictions, one row at a time, as a list of milliseconds."""
    model.predict(X.iloc[:1])  # warm-up: first-call allocations are not steady-state latency
    timings, deadline = [], time.perf_counter() + max_seconds
    for i in range(min(max_rows, len(X))):
        row = X.iloc[i:i + 1]
        start = time.perf_counter()
        model.predict(row)
        timings.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > deadline and len(timings) >= 20:
            break
    return timings


THROUGHPUT_BATCH = 1024


def measure_throughput(model, X: pd.DataFrame, min_seconds: float = THROUGHPUT_SECONDS) -> float:
    """Return batch prediction throughput in rows per second, batches of up to 1,024 rows repeated for `min_seconds`.

    One batch, not the whole test set: a text encoder would spend a minute on 6,000 rows to learn
    the same rate that 1,024 rows show.
    """
    X = X.iloc[:THROUGHPUT_BATCH]
    rows, started = 0, time.perf_counter()
    while True:
        model.predict(X)
        rows += len(X)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return rows / elapsed


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")
