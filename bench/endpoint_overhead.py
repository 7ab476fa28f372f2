"""What depthgauge adds to a vendor endpoint's calls when it evaluates one, at concurrency 8.

The same N distinct requests go to the loopback vendor-like server of the tests (which answers after DELAY_MS):
- raw: a bare httpx.AsyncClient with 8 requests in flight, parsing each JSON answer;
- depthgauge calls: `call_many` — the same concurrency plus request hashing, retry bookkeeping and the response
  cache written to a fresh SQLite workspace as answers arrive;
- depthgauge evaluation: `evaluate_endpoint` — the calls plus reading labels and confidences, the fallback,
  quality with 1,000 bootstrap resamples, latency percentiles, cost and risk.
Each is run REPEATS times, alternating; medians are reported. Run: .venv/bin/python bench/endpoint_overhead.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
sys.path[:0] = [str(Path(__file__).parent), str(ROOT)]
from _common import write_result  # noqa: E402

from depthgauge.endpoint.cache import ResponseCache  # noqa: E402
from depthgauge.endpoint.candidate import evaluate_endpoint  # noqa: E402
from depthgauge.endpoint.client import call_many  # noqa: E402
from depthgauge.endpoint.spec import load_spec  # noqa: E402
from depthgauge.workspace import Workspace  # noqa: E402
from tests.endpoint.test_endpoint import answer, reviews  # noqa: E402
from tests.endpoint.vendor_server import VendorServer, spec_text  # noqa: E402

N, CONCURRENCY, DELAY_MS, REPEATS = 800, 8, 20, 3


async def raw_calls(url: str, bodies: list) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:
        async def one(body):
            async with gate:
                response = await client.post(url, json=body, headers={"Authorization": "Bearer test-key"}, timeout=10)
                return response.json()

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return time.perf_counter() - started


def main() -> None:
    os.environ["ACME_KEY"] = "test-key"
    frame = reviews(N)
    with VendorServer(answer, delay_s=DELAY_MS / 1000) as server, tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "acme.yaml"
        spec_path.write_text(spec_text(server.url, column="review", timeout_s=10, concurrency=CONCURRENCY,
                                       labels={"POSITIVE": "pos", "NEGATIVE": "neg"}))
        spec = load_spec(spec_path)
        y = frame["sentiment"].to_numpy()
        timings = {"raw": [], "calls": [], "evaluation": []}
        for repeat in range(REPEATS):
            # a distinct suffix per repeat keeps every request a new one (no cache hits)
            rows = frame.assign(review=frame["review"] + f" #{repeat}")
            bodies = [spec.body(r) for r in rows[["review"]].to_dict("records")]
            timings["raw"].append(asyncio.run(raw_calls(server.url, bodies)))
            with Workspace.open(Path(tmp) / f"calls{repeat}") as workspace:
                started = time.perf_counter()
                batch = call_many(spec, bodies, cache=ResponseCache(workspace, spec.name))
                timings["calls"].append(time.perf_counter() - started)
                assert all(r.ok for r in batch.results)
            rows = frame.assign(review=frame["review"] + f" ##{repeat}")
            with Workspace.open(Path(tmp) / f"eval{repeat}") as workspace:
                started = time.perf_counter()
                result = evaluate_endpoint(spec, workspace, rows, "binary", y, y, "pos", 1_000_000, 1000, 0, 0.6,
                                           None, None)
                timings["evaluation"].append(time.perf_counter() - started)
                assert result.params["answered"] == N
    medians = {k: statistics.median(v) for k, v in timings.items()}
    write_result("endpoint_overhead", {
        "requests": N, "concurrency": CONCURRENCY, "server_delay_ms": DELAY_MS, "repeats": REPEATS,
        "seconds": timings, "median_seconds": medians,
        "raw_calls_per_s": N / medians["raw"],
        "calls_overhead_ms_per_call": (medians["calls"] - medians["raw"]) / N * 1000,
        "calls_overhead_share": medians["calls"] / medians["raw"] - 1,
        "evaluation_overhead_ms_per_call": (medians["evaluation"] - medians["raw"]) / N * 1000,
        "evaluation_overhead_share": medians["evaluation"] / medians["raw"] - 1,
    })


if __name__ == "__main__":
    main()
