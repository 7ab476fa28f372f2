"""Calls to a vendor endpoint: bounded concurrency, a timeout per attempt, retries with exponential backoff on
timeouts, 429 and 5xx (Retry-After honoured), every failure kept with its class, answers cached by request hash."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

import httpx

from depthgauge.endpoint.spec import EndpointSpec

MAX_RETRY_AFTER_S = 30.0
FLUSH_EVERY = 64


@dataclass
class CallResult:
    """One row's call: the JSON answer, or the class of failure, and how long the caller waited for it."""

    ok: bool
    response: object = None
    latency_ms: float = 0.0
    attempts: int = 0
    status_code: int | None = None
    error_class: str | None = None
    error: str | None = None
    cached: bool = False  # answered from an earlier run's cache: not paid again
    shared: bool = False  # the same request as an earlier row of this run: called once


@dataclass
class CallBatch:
    results: list[CallResult]
    wall_s: float
    live_calls: int  # requests that reached the network in this run (retries counted once per row)
    attempts: int


def _retryable(error_class: str | None) -> bool:
    return error_class in ("timeout", "rate_limited", "server_error", "connection")


def _retry_after(response: httpx.Response | None) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


async def call_once(client: httpx.AsyncClient, spec: EndpointSpec, body, headers: dict, retry: bool = True) -> CallResult:
    """Return one row's result after at most 1 + retries attempts; never raises for the endpoint's failures."""
    started = time.perf_counter()
    attempts, result = 0, CallResult(False)
    while True:
        attempts += 1
        response = None
        try:
            response = await client.request(spec.method, spec.url, json=None if spec.method == "GET" else body,
                                            params=body if spec.method == "GET" and isinstance(body, dict) else None,
                                            headers=headers, timeout=spec.timeout_s)
            code = response.status_code
            if code == 429:
                result = CallResult(False, status_code=code, error_class="rate_limited", error="HTTP 429 Too Many Requests")
            elif code >= 500:
                result = CallResult(False, status_code=code, error_class="server_error", error=f"HTTP {code}")
            elif code >= 400:
                result = CallResult(False, status_code=code, error_class="client_error",
                                    error=f"HTTP {code}: {response.text[:200]}")
            else:
                try:
                    result = CallResult(True, response=response.json(), status_code=code)
                except ValueError:
                    result = CallResult(False, status_code=code, error_class="bad_response",
                                        error=f"not JSON: {response.text[:100]!r}")
        except httpx.TimeoutException:
            result = CallResult(False, error_class="timeout", error=f"no answer within {spec.timeout_s:g}s")
        except httpx.TransportError as exc:
            result = CallResult(False, error_class="connection", error=f"{type(exc).__name__}: {exc}")
        if result.ok or not retry or not _retryable(result.error_class) or attempts > spec.retries:
            break
        wait = _retry_after(response) if result.error_class == "rate_limited" else None
        await asyncio.sleep(wait if wait is not None else spec.backoff_s * 2 ** (attempts - 1))
    result.attempts, result.latency_ms = attempts, (time.perf_counter() - started) * 1000
    return result


def run_calls(spec: EndpointSpec, bodies: list, concurrency: int, retry: bool = True,
              on_result: Callable[[int, CallResult], None] | None = None) -> tuple[list[CallResult], float]:
    """Send every body (duplicates too), at most `concurrency` in flight; return the results in order and the wall time."""
    headers = spec.auth_headers()
    results: list[CallResult | None] = [None] * len(bodies)

    async def run() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=limits) as client:
            async def one(i: int) -> None:
                async with gate:
                    results[i] = await call_once(client, spec, bodies[i], headers, retry)
                if on_result:
                    on_result(i, results[i])

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(len(bodies))))
            return time.perf_counter() - started

    wall_s = asyncio.run(run()) if bodies else 0.0
    return results, wall_s


def call_many(spec: EndpointSpec, bodies: list, *, cache=None, concurrency: int | None = None, retry: bool = True,
              on_progress: Callable[[int, int], None] | None = None) -> CallBatch:
    """Call the endpoint once per distinct body, at most `concurrency` at a time; return a result per body, in order.

    With a `cache`, answers already stored are not requested again and new answers are stored as they come
    (in small transactions), so an interrupted run keeps what it paid for.
    """
    hashes = [spec.request_hash(b) for b in bodies]
    cached = cache.get_many(list(dict.fromkeys(hashes))) if cache is not None else {}
    by_hash: dict[str, CallResult] = {h: CallResult(True, row.response, row.latency_ms, row.attempts, cached=True)
                                      for h, row in cached.items()}
    todo = list(dict.fromkeys(h for h in hashes if h not in by_hash))
    body_of = dict(zip(hashes, bodies))
    pending: list[tuple[str, object, float, int]] = []
    progress = {"done": len(by_hash), "flushed": time.perf_counter()}
    unique = len(by_hash) + len(todo)

    def flush() -> None:
        batch = pending[:]
        del pending[:len(batch)]
        cache.put_many(batch)
        progress["flushed"] = time.perf_counter()

    def on_result(i: int, result: CallResult) -> None:
        by_hash[todo[i]] = result
        if result.ok and cache is not None:
            pending.append((todo[i], result.response, result.latency_ms, result.attempts))
            if len(pending) >= FLUSH_EVERY or time.perf_counter() - progress["flushed"] > 2.0:
                flush()
        progress["done"] += 1
        if on_progress:
            on_progress(progress["done"], unique)

    try:
        new, wall_s = run_calls(spec, [body_of[h] for h in todo], concurrency or spec.concurrency, retry, on_result)
    finally:
        if cache is not None:
            flush()
    results, seen = [], set()
    for h in hashes:
        result = by_hash[h]
        if h in seen:
            result = CallResult(**{**result.__dict__, "shared": True})
        seen.add(h)
        results.append(result)
    return CallBatch(results, wall_s, len(todo), sum(r.attempts for r in new))
