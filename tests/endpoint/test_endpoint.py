"""A vendor endpoint on the leaderboard, against a real vendor-like HTTP server on loopback that answers, fails,
times out and rate-limits on cue: quality, latency, errors, cost, retries, the response cache and resume."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import depthgauge
from depthgauge.endpoint.cache import ResponseCache
from depthgauge.endpoint.client import call_many
from depthgauge.endpoint.probe import probe
from depthgauge.endpoint.spec import load_spec
from depthgauge.errors import DepthgaugeError
from depthgauge.money import usd
from depthgauge.workspace import Workspace
from tests.endpoint.vendor_server import VendorServer, spec_text
from tests.helpers.cli import cli_json, run_cli

POSITIVE = ["great", "excellent", "love", "superb", "reliable", "sturdy"]
NEGATIVE = ["awful", "broken", "slow", "hate", "refund", "flimsy"]
PRICE = 0.002


def reviews(n: int = 400, cues: bool = False, seed: int = 0) -> pd.DataFrame:
    """Short product reviews whose sentiment is carried by their adjectives; with cues, every 40th row fails,
    every 40th + 1 is slow (times out) and every 40th + 2 gets an answer that is not JSON."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        words = rng.sample(POSITIVE if label == "pos" else NEGATIVE, 2) + rng.sample(POSITIVE + NEGATIVE, 1)
        text = f"review {i}: the product felt " + " and ".join(words)
        if cues and i % 40 < 3:
            text += [" [[fail]]", " [[slow]]", " [[bad]]"][i % 40]
        rows.append({"review": text, "sentiment": label})
    return pd.DataFrame(rows)


def vendor_rule(text: str) -> str:
    """The vendor knows only four words of each kind, so it is good, not perfect."""
    score = sum(w in text for w in POSITIVE[:4]) - sum(w in text for w in NEGATIVE[:4])
    return "POSITIVE" if score >= 0 else "NEGATIVE"


def answer(body):
    text = body["document"]["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    return {"result": {"label": vendor_rule(text), "score": 0.9}, "usage": {"tokens": len(text.split())}}


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("ACME_KEY", "test-key")
    with VendorServer(answer, delay_s=0.02, slow_s=1.5) as running:
        yield running


@pytest.fixture
def spec_file(server, tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(spec_text(server.url, column="review", price=PRICE, timeout_s=0.4,
                              labels={"POSITIVE": "pos", "NEGATIVE": "neg"}))
    return path


def _assess(frame, spec_file, home, **kwargs):
    return depthgauge.assess(frame, "sentiment", time_budget="30s", home=home, endpoints=[spec_file],
                             candidates=("dummy", "tfidf"), resamples=200, **kwargs)


def test_the_endpoint_is_scored_on_the_same_test_rows_with_five_dimensions(server, spec_file, home):
    frame = reviews()
    assessment = _assess(frame, spec_file, home, metric="accuracy")
    vendor = next(c for c in assessment.candidates if c.name == "endpoint:acme")
    tfidf = next(c for c in assessment.candidates if c.name == "tfidf")
    n_test = len(tfidf.outcome.y)
    # Every test row was sent once, and only test rows.
    texts = {b["document"]["text"] for b in server.bodies}
    assert len(texts) == n_test == vendor.params["calls"] == vendor.params["answered"] == server.requests
    truth = dict(zip(frame["review"], frame["sentiment"]))
    expected = np.mean([("pos" if vendor_rule(t) == "POSITIVE" else "neg") == truth[t] for t in texts])
    assert vendor.quality["accuracy"].value == pytest.approx(expected)
    assert 0.6 < expected < 1.0, "the vendor should be good but not perfect"
    assert vendor.quality["accuracy"].low < expected < vendor.quality["accuracy"].high
    # Operations from the real calls: the server waits 20 ms before answering.
    assert vendor.operations.latency_p50_ms >= 20 and vendor.operations.latency_p99_ms >= vendor.operations.latency_p50_ms
    # Cost at its price, and what this evaluation spent.
    assert vendor.cost.cost_per_1k_predictions_usd == pytest.approx(1000 * PRICE)
    assert vendor.params["spent_usd"] == pytest.approx(n_test * PRICE)
    assert vendor.risk["error_rate"] == 0 and vendor.risk["explainability"] == "none"
    # One verdict: the vendor against the best own model, with the price comparison.
    assert assessment.verdict.endpoint == "endpoint:acme"
    assert "vendor endpoint acme" in assessment.verdict.headline
    assert f"the endpoint {usd(vendor.cost.monthly_total_usd, '/ month')} (calls" in assessment.verdict.headline
    assert vendor.cost.monthly["serving"] == pytest.approx(1000 * PRICE * 1_000_000 / 1000)  # calls at the volume
    assert assessment.verdict.endpoint_vs_own is not None
    assert "endpoint:acme" in assessment.scorecard.index


def test_failures_are_counted_by_class_and_scored_as_the_fallback_never_dropped(server, spec_file, home):
    frame = reviews(cues=True)
    assessment = _assess(frame, spec_file, home)
    vendor = next(c for c in assessment.candidates if c.name == "endpoint:acme")
    sent = {b["document"]["text"] for b in server.bodies}
    expect = {"server_error": sum("[[fail]]" in t for t in sent), "timeout": sum("[[slow]]" in t for t in sent),
              "bad_response": sum("[[bad]]" in t for t in sent)}
    assert sum(expect.values()) > 0, "the split must send some cue rows"
    assert vendor.risk["errors"] == {k: v for k, v in expect.items() if v}
    n = vendor.params["calls"]
    assert len(vendor.outcome.y) == n == len(sent), "failed rows stay in the scoring"
    assert vendor.params["answered"] == n - sum(expect.values())
    assert vendor.risk["timeout_rate"] == pytest.approx(expect["timeout"] / n)
    # 500s and timeouts were retried twice (retries: 2); a non-JSON answer is not retried.
    fail_requests = sum("[[fail]]" in str(b) for b in server.bodies)
    assert fail_requests == 3 * expect["server_error"]
    assert f"{n - vendor.params['answered']} of its {n} calls failed" in " ".join(assessment.verdict.reasons)


def test_a_rerun_pays_only_for_what_failed_and_an_interrupted_run_resumes(server, spec_file, home):
    frame = reviews(cues=True)
    first = _assess(frame, spec_file, home)
    vendor = next(c for c in first.candidates if c.name == "endpoint:acme")
    failed, before = vendor.params["calls"] - vendor.params["answered"], server.requests
    again = next(c for c in _assess(frame, spec_file, home).candidates if c.name == "endpoint:acme")
    retried = sum(3 if ("[[fail]]" in t or "[[slow]]" in t) else 1
                  for t in {b["document"]["text"] for b in server.bodies} if "[[" in t)
    assert server.requests - before == retried, "answered calls come from the cache"
    assert again.params["from_cache"] == vendor.params["answered"] and again.params["spent_usd"] == 0
    assert again.params["calls"] - again.params["from_cache"] == failed  # only the failed rows were called again
    assert again.quality["roc_auc"].value == pytest.approx(vendor.quality["roc_auc"].value)

    # Stopped by an error after 10 answers (a crash, or Ctrl-C, which leaves by the same `finally`): the answers
    # are kept, and the next run asks only for the rest.
    spec = load_spec(spec_file)
    bodies = [spec.body({"review": f"fresh review {i} great"}) for i in range(30)]

    class Stopped(Exception):
        pass

    def stop_after_ten(done, total):
        if done == 10:
            raise Stopped

    with Workspace.open(home) as workspace:
        cache = ResponseCache(workspace, spec.name)
        with pytest.raises(Stopped):
            call_many(spec, bodies, cache=cache, concurrency=1, on_progress=stop_after_ten)
        kept = len(cache.get_many([spec.request_hash(b) for b in bodies]))
        assert kept >= 10
        before = server.requests
        batch = call_many(spec, bodies, cache=cache)
        assert server.requests - before == 30 - kept
        assert sum(r.cached for r in batch.results) == kept and all(r.ok for r in batch.results)


def test_retries_back_off_through_server_errors_and_rate_limits(server, spec_file):
    server.fail_first, server.rate_limit_first = 2, 2
    spec = load_spec(spec_file)
    spec.retries = 4
    batch = call_many(spec, [spec.body({"review": "great"})], concurrency=1)
    result = batch.results[0]
    assert result.ok and result.attempts == 5 and server.requests == 5
    # With fewer retries than failures, the failure is kept with its class.
    server.requests, spec.retries = 0, 1
    failed = call_many(spec, [spec.body({"review": "superb"})], concurrency=1).results[0]
    assert not failed.ok and failed.error_class == "server_error" and failed.attempts == 2


def test_repeated_requests_are_called_once(server, spec_file):
    spec = load_spec(spec_file)
    bodies = [spec.body({"review": "love it"})] * 5 + [spec.body({"review": "hate it"})]
    batch = call_many(spec, bodies)
    assert server.requests == 2 and batch.live_calls == 2
    assert [r.shared for r in batch.results] == [False, True, True, True, True, False]


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("url: http", "url: ftp"), "url must start with http"),
    (lambda t: t + "colour: blue\n", "unknown key 'colour'"),
    (lambda t: t.replace("price: {per_call_usd: 0.002}", "price: {}"), "price needs per_call_usd"),
    (lambda t: t.replace("'{review}'", "'{comment}'"), "reads column 'comment'"),
    (lambda t: t.replace("'{review}'", "'{sentiment}'"), "sends the target column 'sentiment'"),
    (lambda t: t.replace("env: ACME_KEY", "env: ACME_KEY, key: sk-123"), "never in this file"),
    (lambda t: t.replace("env: ACME_KEY", "env: NOT_SET_ANYWHERE"), "NOT_SET_ANYWHERE, which is not set"),
    (lambda t: t.replace("timeout_s: 0.4", "timeout_s: -1"), "timeout_s must be a number"),
    (lambda t: t.replace("concurrency: 4", "concurrency: [4"), "invalid YAML"),
])
def test_a_bad_spec_is_a_clear_error_and_nothing_is_called_or_written(server, spec_file, home, change, message):
    spec_file.write_text(change(spec_file.read_text()))
    with pytest.raises(DepthgaugeError, match=message):
        _assess(reviews(60), spec_file, home)
    assert server.requests == 0 and not home.exists()


def test_probe_loads_the_endpoint_and_tries_odd_inputs(server, spec_file):
    spec = load_spec(spec_file)
    rows = reviews(20, cues=True).to_dict("records")
    rows = rows[3:] + rows[:3]  # odd inputs are made from the first row: one without a cue
    report = probe(spec, rows, levels=(1, 4), requests=20)
    assert [level["concurrency"] for level in report["levels"]] == [1, 4]
    for level in report["levels"]:
        assert level["requests"] == 20 and level["errors"] == {"server_error": 1, "timeout": 1, "bad_response": 1}
        assert level["latency_ms"]["p50"] >= 20 and level["answered"] == 17
    assert server.requests == 2 * 20 + len(report["edge_cases"]), "the probe does not retry: failures show"
    behaviour = {case["case"]: case["behaviour"] for case in report["edge_cases"]}
    assert behaviour["empty"] == "rejected" and behaviour["null"] == "rejected"
    assert behaviour["oversized (100,000 characters)"] == "answered"
    assert any("1 server error" in f for f in report["findings"])
    assert report["calls"] == server.requests


def test_the_cli_takes_endpoints_and_probes(server, spec_file, tmp_path):
    data = tmp_path / "reviews.csv"
    reviews(200).to_csv(data, index=False)
    env = {"DEPTHGAUGE_HOME": str(tmp_path / "ws"), "ACME_KEY": "test-key"}
    out = cli_json("assess", str(data), "--target", "sentiment", "--endpoint", str(spec_file), "--time-budget", "40s",
                   env=env)
    names = [c["name"] for c in out["candidates"]]
    assert "endpoint:acme" in names and out["verdict"]["endpoint"] == "endpoint:acme"
    report = cli_json("probe", str(spec_file), "--levels", "2", "--requests", "5", env=env)
    assert report["levels"][0]["answered"] == 5
    missing_key = run_cli("probe", str(spec_file), env={**env, "ACME_KEY": ""})
    assert missing_key.returncode == 2 and "ACME_KEY" in missing_key.stderr and "Traceback" not in missing_key.stderr
    example = run_cli("probe", "--example")
    assert example.returncode == 0 and "per_call_usd" in example.stdout


def test_the_response_cache_works_on_postgresql(server, spec_file, tmp_path, postgres):
    spec = load_spec(spec_file)
    bodies = [spec.body({"review": f"review {i} superb"}) for i in range(12)]
    with Workspace.open(tmp_path / "ws", postgres.create_database()) as workspace:
        first = call_many(spec, bodies, cache=ResponseCache(workspace, spec.name))
        second = call_many(spec, bodies, cache=ResponseCache(workspace, spec.name))
    assert server.requests == 12 and all(r.ok for r in first.results)
    assert all(r.cached for r in second.results) and second.live_calls == 0
