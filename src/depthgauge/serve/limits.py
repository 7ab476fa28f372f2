"""Per-key limits: a request rate (a token bucket holding one second of requests, per server process) and a daily
prediction quota (rows predicted since midnight UTC, counted in the database and so shared by every server of the
workspace, and kept across restarts). Over either, the caller is told when to come back.

A server counts a key's predictions locally and adds them to the shared count every couple of seconds (`sync`);
it reads a key's count from the database the first time it sees the key each day: the shared count, or the number
of the key's predictions in the durable log, whichever is larger, so a killed server's unsynced count is not lost.
Several live servers together can overshoot a quota by at most what they predict for that key between two syncs.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from depthgauge.store.tables import KeyUsageRow, PredictionLogRow


def _today():
    return datetime.now(timezone.utc).date()


class KeyLimits:
    """What each key used; `workspace` (None: counted in this process only), `clock` and `today` are injectable."""

    def __init__(self, workspace=None, clock=time.monotonic, today=_today):
        self.workspace, self.clock, self.today = workspace, clock, today
        self.buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)
        self.shared: dict[tuple[str, str], int] = {}  # (key id, day) -> predictions in the database when last read
        self.pending: dict[tuple[str, str], int] = {}  # (key id, day) -> predictions not yet added to it
        self.inflight: dict[tuple[str, str], int] = {}  # being added by `sync` right now
        self.syncing = threading.Lock()  # one sync at a time (the background tick, shutdown, a test)

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
        counted = (key_id, day.isoformat())
        if counted not in self.shared:
            self.shared[counted] = self._read(*counted)
        used = self.shared[counted] + self.inflight.get(counted, 0) + self.pending.get(counted, 0)
        if used + rows > quota:
            midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
            return max((midnight - datetime.now(timezone.utc)).total_seconds(), 1.0)
        self.pending[counted] = self.pending.get(counted, 0) + rows
        return None

    def sync(self) -> None:
        """Add this server's new counts to the database's and read back today's totals (every server's)."""
        with self.syncing:
            self._sync()

    def _sync(self) -> None:
        if self.workspace is None:
            for counted, rows in self.pending.items():
                self.shared[counted] = self.shared.get(counted, 0) + rows
            self.pending.clear()
            return
        self.inflight, self.pending = self.pending, {}
        try:
            self._add(self.inflight)
        except Exception:  # the database is away: the counts wait for the next sync
            for counted, rows in self.inflight.items():
                self.pending[counted] = self.pending.get(counted, 0) + rows
            self.inflight = {}
            raise
        today = self.today().isoformat()
        with self.workspace.session() as session:
            totals = dict(session.execute(select(KeyUsageRow.key_id, KeyUsageRow.predictions)
                                          .where(KeyUsageRow.day == today)).all())
        self.shared = {(key_id, day): totals.get(key_id, 0) for key_id, day in self.shared if day == today}
        self.inflight = {}

    def _add(self, counts: dict[tuple[str, str], int]) -> None:
        with self.workspace.transaction() as session:
            for (key_id, day), rows in counts.items():
                changed = session.execute(update(KeyUsageRow)
                                          .where(KeyUsageRow.key_id == key_id, KeyUsageRow.day == day)
                                          .values(predictions=KeyUsageRow.predictions + rows)).rowcount
                if not changed:
                    try:
                        with session.begin_nested():
                            session.add(KeyUsageRow(key_id=key_id, day=day, predictions=rows))
                    except IntegrityError:  # another server added the day's row first
                        session.execute(update(KeyUsageRow)
                                        .where(KeyUsageRow.key_id == key_id, KeyUsageRow.day == day)
                                        .values(predictions=KeyUsageRow.predictions + rows))

    def _read(self, key_id: str, day: str) -> int:
        """The key's count for the day: the shared count, or the durable prediction log's, whichever is larger
        (a server killed between answering and its next sync left the log ahead of the shared count)."""
        if self.workspace is None:
            return 0
        start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=timezone.utc)
        with self.workspace.session() as session:
            shared = session.scalar(select(KeyUsageRow.predictions).where(KeyUsageRow.key_id == key_id,
                                                                          KeyUsageRow.day == day)) or 0
            logged = session.scalar(select(func.count()).select_from(PredictionLogRow).where(
                PredictionLogRow.key_id == key_id, PredictionLogRow.at >= start,
                PredictionLogRow.at < start + timedelta(days=1))) or 0
        return max(shared, logged)
