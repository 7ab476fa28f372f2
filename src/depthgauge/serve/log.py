"""The durable prediction log: requests wait until their record is committed; concurrent records share one commit.

A single writer thread drains a queue: everything that arrived while the previous transaction
was committing goes into the next one (group commit), so durability costs one fsync per batch,
not one per prediction. A caller's future resolves only after its batch is committed.

Durability is the operator's choice, as PostgreSQL's `synchronous_commit` is: "power" (the
default) flushes every group commit to the disk, so an answered prediction survives power
loss; "crash" lets the operating system flush it, so it survives the server being killed
but not the machine losing power, and saves one disk flush per answer.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass

from sqlalchemy import insert

from depthgauge.errors import DepthgaugeError
from depthgauge.store.tables import PredictionLogRow, ReviewRow

MAX_BATCH = 512
DURABILITY = ("power", "crash")


def check_durability(durability: str) -> str:
    if durability not in DURABILITY:
        raise DepthgaugeError(f"Unknown durability '{durability}'. Use 'power' (flush each commit to disk, "
                              "the default) or 'crash' (survive a killed server, not a power cut).")
    return durability


@dataclass
class Pending:
    records: list[dict]
    reviews: list[dict]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class GroupCommitLog:
    def __init__(self, workspace, durability: str = "power"):
        check_durability(durability)
        self.workspace = workspace
        self.durability = durability
        self.queue: queue.Queue[list[Pending] | None] = queue.Queue()
        self.gathering: list[Pending] = []
        self.thread = threading.Thread(target=self._run, name="depthgauge-log-writer", daemon=True)
        self.batches = 0
        self.thread.start()

    @property
    def backlog(self) -> int:
        """Requests whose records wait for the writer (counted in hand-overs to it, plus those being gathered)."""
        return self.queue.qsize() + len(self.gathering)

    async def write(self, records: list[dict], reviews: list[dict]) -> None:
        """Return once `records` and `reviews` are committed; raise if the commit failed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.gathering.append(Pending(records, reviews, future, loop))
        if len(self.gathering) == 1:  # what this turn of the event loop writes goes to the writer in one piece
            loop.call_soon(self._hand_over)
        await future

    def _hand_over(self) -> None:
        handed, self.gathering = self.gathering, []
        self.queue.put(handed)

    def _run(self) -> None:
        with self.workspace.engine.connect() as connection:  # held for the writer's life, so its setting stays its own
            relaxed = self.durability == "crash"
            if relaxed:
                _relax(connection, True)
            try:
                self._drain(connection)
            finally:
                if relaxed:
                    _relax(connection, False)

    def _drain(self, connection) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = list(first)
            while len(batch) < MAX_BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)
                    break
                batch.extend(item)
            error = None
            try:
                records = [r for pending in batch for r in pending.records]
                reviews = [r for pending in batch for r in pending.reviews]
                with connection.begin():  # Core executemany: no ORM unit of work per batch
                    connection.execute(insert(PredictionLogRow.__table__), records)
                    if reviews:
                        connection.execute(insert(ReviewRow.__table__), reviews)
                self.batches += 1
            except Exception as exc:  # the callers hear about it; nothing is acknowledged that was not stored
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
            for pending in batch:
                by_loop.setdefault(pending.loop, []).append(pending.future)
            for loop, futures in by_loop.items():  # one wake-up of each loop per batch, not one per request
                loop.call_soon_threadsafe(_settle, futures, error)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)


def _relax(connection, relaxed: bool) -> None:
    """Set whether commits on `connection` wait for the disk."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if relaxed else 'FULL'}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET synchronous_commit TO {'off' if relaxed else 'on'}")
    connection.commit()


def _settle(futures: list[asyncio.Future], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
