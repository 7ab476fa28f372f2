"""`depthgauge probe`: how a vendor endpoint behaves before you depend on it.

Bounded load at a few concurrency levels (no retries, so every failure shows), the latency distribution and
error classes at each, and what it does with empty, oversized, odd and wrongly typed inputs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from depthgauge.endpoint.client import CallResult, run_calls
from depthgauge.endpoint.spec import EndpointSpec, extract
from depthgauge.errors import DepthgaugeError

MAX_REQUESTS = 1000
OVERSIZED_CHARS = 100_000
EDGE_CASES = {
    "empty": lambda text: "",
    "whitespace only": lambda text: "   \n\t ",
    "oversized (100,000 characters)": lambda text: (str(text) + " ") * (OVERSIZED_CHARS // (len(str(text)) + 1) + 1),
    "control and unusual characters": lambda text: "\x00\x07\u202e\ufffd 🙂 ☃ " + str(text),
    "a number where text is expected": lambda text: 12345,
    "null": lambda text: None,
}


def _latency(results: list[CallResult]) -> dict:
    values = [r.latency_ms for r in results if r.ok]
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 90, 99)} | {"max": float(max(values))}


def _edge_outcome(spec: EndpointSpec, result: CallResult) -> dict:
    out = {"status_code": result.status_code, "error_class": result.error_class, "latency_ms": result.latency_ms}
    if result.ok:
        try:
            out["prediction"] = extract(result.response, spec.prediction_path)
            out["behaviour"] = "answered"
            out["assessment"] = "answers this input with a prediction: check such inputs yourself before calling"
        except KeyError:
            out["behaviour"] = "answered without a prediction"
            out["assessment"] = "answers without the field response.prediction names: handle it as a failure"
    elif result.error_class == "client_error":
        out["behaviour"], out["assessment"] = "rejected", "rejects it with a clear client error: good"
    elif result.error_class == "timeout":
        out["behaviour"], out["assessment"] = "timed out", f"no answer within {spec.timeout_s:g}s: bound it on your side"
    else:
        out["behaviour"] = result.error_class
        out["assessment"] = f"fails with {result.error_class.replace('_', ' ')} ({result.error}): not a clean rejection"
    return out


def probe(spec: EndpointSpec, rows: list[dict], levels: tuple[int, ...] = (1, 4, 8), requests: int = 40,
          on_progress=None) -> dict:
    """Return the reliability report of `spec` on `rows` (cycled to `requests` calls per concurrency level)."""
    if not rows:
        raise DepthgaugeError("probe needs example rows: pass --data FILE, or add `example:` (one row) to the spec.")
    if not levels or any(level < 1 or level > 256 for level in levels):
        raise DepthgaugeError(f"--levels takes concurrency levels from 1 to 256, e.g. 1,4,8; not {levels}.")
    if not 1 <= requests or requests * len(levels) > MAX_REQUESTS:
        raise DepthgaugeError(f"--requests × levels must stay between 1 and {MAX_REQUESTS} calls; "
                              f"{requests} × {len(levels)} is out of bounds. Lower --requests.")
    bodies = [spec.body(rows[i % len(rows)]) for i in range(requests)]
    report = {"endpoint": spec.public(), "levels": [], "edge_cases": [], "findings": []}
    spent = 0.0
    for level in levels:
        if on_progress:
            on_progress(f"{requests} calls at concurrency {level}")
        results, wall_s = run_calls(spec, bodies, level, retry=False)
        errors = Counter(r.error_class for r in results if not r.ok)
        answered = sum(r.ok for r in results)
        spent += sum(spec.cost_per_call(spec.tokens(r.response)) for r in results if r.ok)
        report["levels"].append({"concurrency": level, "requests": requests, "answered": answered,
                                 "errors": dict(errors), "latency_ms": _latency(results),
                                 "throughput_per_s": requests / wall_s if wall_s > 0 else None})
    if on_progress:
        on_progress("edge cases")
    column = spec.columns[0]
    edge_bodies = [spec.body({**rows[0], **{c: make(rows[0][c]) for c in spec.columns}}) for make in EDGE_CASES.values()]
    results, _ = run_calls(spec, edge_bodies, 1, retry=False)
    for case, result in zip(EDGE_CASES, results):
        report["edge_cases"].append({"case": case, "column": column, **_edge_outcome(spec, result)})
        spent += spec.cost_per_call(spec.tokens(result.response)) if result.ok else 0.0
    report["calls"] = requests * len(levels) + len(EDGE_CASES)
    report["spent_usd"] = spent
    report["findings"] = _findings(spec, report)
    return report


def _findings(spec: EndpointSpec, report: dict) -> list[str]:
    findings = []
    levels = report["levels"]
    first, last = levels[0], levels[-1]
    if first["latency_ms"]["p99"] is not None and last["latency_ms"]["p99"] is not None and len(levels) > 1:
        findings.append(f"p99 latency {first['latency_ms']['p99']:.0f} ms at {first['concurrency']} concurrent "
                        f"call(s), {last['latency_ms']['p99']:.0f} ms at {last['concurrency']}.")
    for level in levels:
        failed = level["requests"] - level["answered"]
        if failed:
            classes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(level["errors"].items()))
            findings.append(f"At concurrency {level['concurrency']}, {failed} of {level['requests']} calls failed "
                            f"({classes}); assess retries them {spec.retries} time(s).")
        if level["errors"].get("rate_limited"):
            findings.append(f"Rate-limited at concurrency {level['concurrency']}: keep `concurrency` in the spec below it.")
    answered_odd = [e["case"] for e in report["edge_cases"] if e["behaviour"] == "answered"]
    if answered_odd:
        findings.append("Answers with a prediction for: " + ", ".join(answered_odd)
                        + ". Validate such inputs before you call it, or its answers go unchecked.")
    bad = [e["case"] for e in report["edge_cases"] if e["behaviour"] not in ("answered", "rejected")]
    if bad:
        findings.append("Fails uncleanly (not a 4xx) for: " + ", ".join(bad) + ".")
    if not any(level["requests"] - level["answered"] for level in levels) and not bad:
        findings.append("No failures under this load.")
    return findings
