"""Per-key limits in the serving process: a request rate (a token bucket holding one second of requests) and a
daily prediction quota (rows predicted since midnight UTC). Over either, the caller is told when to come back."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


def _today():
    return datetime.now(timezone.utc).date()


class KeyLimits:
    """Counts what each key used; `clock` and `today` are injectable for tests."""

    def __init__(self, clock=time.monotonic, today=_today):
        self.clock, self.today = clock, today
        self.buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)
        self.used: dict[str, tuple[object, int]] = {}  # key id -> (day, rows predicted that day)

    def take_request(self, key_id: str, rate: float | None) -> float | None:
        """Spend one request of the key's rate; return None, or the seconds until one is allowed again."""
        if rate is None:
            return None
        now, capacity = self.clock(), max(rate, 1.0)
        tokens, then = self.buckets.get(key_id, (capacity, now))
        tokens = min(capacity, tokens + (now - then) * rate)
        if tokens < 1.0:
            self.buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate
        self.buckets[key_id] = (tokens - 1.0, now)
        return None

    def take_predictions(self, key_id: str, quota: int | None, rows: int) -> float | None:
        """Count `rows` predictions against the key's daily quota; return None, or the seconds until midnight UTC."""
        if quota is None:
            return None
        day = self.today()
        counted_day, used = self.used.get(key_id, (day, 0))
        if counted_day != day:
            used = 0
        if used + rows > quota:
            midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
            return max((midnight - datetime.now(timezone.utc)).total_seconds(), 1.0)
        self.used[key_id] = (day, used + rows)
        return None
