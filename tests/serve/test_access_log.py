"""`depthgauge serve` as a user starts it: it says where it is and what it serves, and logs every request."""

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.helpers.servers import ROW, free_port, private_copy


def test_serve_prints_its_address_and_models_and_logs_each_request_without_body_or_key(served_workspace, tmp_path,
                                                                                         monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    token = served_workspace[1]["predictor"]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                                "--log-format", "json", "--monitor-every", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.time() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            answered = client.post("/v1/models/churn/predict", json={"inputs": ROW}, headers={"X-Request-ID": "trace-42"})
            refused = client.post("/v1/models/churn/predict", json={"inputs": {**ROW, "tenure_months": "many"}})
            sneaky = client.get("/v1/models/nothing%0Aforged 200", headers={"X-Request-ID": "a b\tc"})
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert answered.status_code == 200 and answered.headers["x-request-id"] == "trace-42"
    assert refused.status_code == 422 and sneaky.status_code in (401, 404)
    assert f"serving on http://127.0.0.1:{port}" in err and f"dashboard: {url}/" in err
    assert "churn: churn:2" in err and "authentication: on" in err
    lines = [json.loads(line) for line in out.splitlines()]  # every line is one JSON object
    entry = next(line for line in lines if line["request_id"] == "trace-42")
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/v1/models/churn/predict", 200)
    assert entry["latency_ms"] > 0 and set(entry) == {"time", "method", "path", "status", "latency_ms", "request_id"}
    assert [line["status"] for line in lines if line["path"] == "/v1/models/churn/predict"] == [200, 422]
    assert any(line["request_id"] == refused.headers["x-request-id"] for line in lines)
    forged = next(line for line in lines if "forged" in line["path"])
    assert "%0A" in forged["path"] and forged["request_id"] == "abc"  # an encoded newline stays encoded
    assert token not in out and "month-to-month" not in out and "many" not in out  # never a key or a body


def test_the_text_access_log_is_one_readable_line_and_unknown_formats_are_refused():
    import io

    import pytest

    from depthgauge.errors import DepthgaugeError
    from depthgauge.serve.access import access_log

    stream = io.StringIO()
    access_log("text", stream)("GET", "/readyz", 200, 0.0015, "abc123")
    assert stream.getvalue().endswith("Z GET /readyz 200 1.5ms abc123\n") and stream.getvalue().count("\n") == 1
    assert access_log(None) is None
    with pytest.raises(DepthgaugeError, match="Unknown log format 'xml'"):
        access_log("xml")
