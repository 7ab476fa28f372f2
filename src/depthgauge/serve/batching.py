"""Micro-batching: requests that arrive while a prediction is running share the next `predict` call.

Per-call overhead (building a frame, encoding, a forward pass) is paid once per batch instead
of once per request. It adapts to load: when nothing is predicting, a request goes at once
(no added latency); while a batch runs, the next one gathers, for at most `max_wait_ms` or
`max_rows` rows before it starts beside the running one.
"""

from __future__ import annotations

import asyncio
from typing import Callable

DEFAULT = {"max_wait_ms": 2.0, "max_rows": 128}


class MicroBatcher:
    def __init__(self, predict_rows: Callable[[list[dict]], list], max_wait_ms: float, max_rows: int):
        self.predict_rows = predict_rows
        self.max_wait_s = max_wait_ms / 1000
        self.max_rows = max_rows
        self.pending: list[tuple[list[dict], asyncio.Future]] = []
        self.rows = 0
        self.timer: asyncio.TimerHandle | None = None
        self.batches = 0
        self.running = 0

    async def submit(self, rows: list[dict]) -> list:
        """Return the outputs for `rows`, predicted together with whatever else arrived meanwhile."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((rows, future))
        self.rows += len(rows)
        if self.running == 0 or self.rows >= self.max_rows:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.max_wait_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending, self.rows = self.pending, [], 0
        if batch:
            self.batches += 1
            self.running += 1
            asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch) -> None:
        rows = [row for part, _ in batch for row in part]
        try:
            outputs = await asyncio.get_running_loop().run_in_executor(None, self.predict_rows, rows)
        except Exception as exc:  # every waiting request hears about it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        finally:
            self.running -= 1
            if self.pending and self.running == 0:
                self._flush()
        start = 0
        for part, future in batch:
            if not future.done():
                future.set_result(outputs[start:start + len(part)])
            start += len(part)
