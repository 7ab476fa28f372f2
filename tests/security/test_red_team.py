"""The red team's findings, each replayed as an attacker would against a real `depthgauge serve` process.

Every test here failed on the code the red team found, and names the SECURITY.md claim it holds up."""

import json
import os
import socket
import stat
import time

import httpx
import pytest

import depthgauge
from tests.helpers.servers import client

ROW = {"tenure_months": 12.0, "monthly_charges": 70.5, "support_calls": 2, "contract": "month-to-month",
       "region": "east", "usage_0": 0.3}


def _raw(url: str, request: bytes, then: bytes = b"", timeout: float = 20.0) -> bytes:
    """Send raw bytes on one connection and return what the server answers (the attacker's own client)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            sock.sendall(then)
        except OSError:  # the server stopped reading and answered: what it answered is what matters
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _predict(url, token, row=ROW):
    with client(url, token) as c:
        answer = c.post("/v1/models/churn/predict", json={"inputs": row})
    assert answer.status_code == 200, answer.text
    return answer.json()["predictions"][0]["request_id"]


# 1 (high) ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/reviews/x", "/v1/feedback"])
def test_a_chunked_body_over_the_limit_is_refused_without_a_key_before_it_is_held(served, path):
    url, _, _ = served
    chunk = b"a" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(24))  # 1.5 MB; the limit is 1 MB
    head = (f"POST {path} HTTP/1.1\r\nHost: {url.removeprefix('http://')}\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
    answer = _raw(url, head, body)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    with client(url) as c:
        assert c.get("/healthz").status_code == 200  # and the server is still there for everyone else


# 3 (medium) --------------------------------------------------------------------------------------------------------

def test_a_folder_named_like_a_ref_never_stands_in_for_the_registered_version(red_team_workspace, tmp_path,
                                                                              monkeypatch):
    from depthgauge.registry.export import export_model

    home, _ = red_team_workspace
    monkeypatch.chdir(tmp_path)
    export_model("churn:2", "churn:2", home=home)  # `models export churn:2 --to churn:2`, then an edit
    card = tmp_path / "churn:2" / "model.json"
    state = json.loads(card.read_text())
    state["classes"] = ["forged", "also-forged"]
    card.write_text(json.dumps(state))
    registered = depthgauge.load_model("churn:2", home=home)
    assert registered.ref == "churn:2" and list(registered.classes_) == ["no", "yes"]
    assert list(depthgauge.load_model("./churn:2").classes_) == ["forged", "also-forged"]  # only when asked for


# 4 (medium) --------------------------------------------------------------------------------------------------------

def test_a_predictor_key_reads_nothing_but_the_models_it_may_call(served):
    url, tokens, _ = served
    _predict(url, tokens["predictor"])
    with client(url, tokens["predictor"]) as c:
        for path in ("/v1/reviews?model=churn&status=all", "/v1/monitor/churn", "/metrics"):
            assert c.get(path).status_code == 403, path
        assert c.get("/v1/models").status_code == 200  # what it may call, and with which inputs
    with httpx.Client(base_url=url, follow_redirects=False) as browser:
        signed = browser.post("/login", data={"key": tokens["predictor"], "next": "/audit"})
        assert signed.status_code == 403 and "cannot sign in" in signed.text
        assert browser.get("/audit").status_code == 303  # back to the sign-in page: no session was made


# 5 (medium) --------------------------------------------------------------------------------------------------------

def test_signing_out_ends_the_session_on_the_server(served):
    url, tokens, _ = served
    with httpx.Client(base_url=url, follow_redirects=False) as browser:
        assert browser.post("/login", data={"key": tokens["deployer"], "next": "/"}).status_code == 303
        stolen = dict(browser.cookies)
        page = browser.get("/models")
        assert page.status_code == 200
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert browser.post("/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=url, cookies=stolen, follow_redirects=False) as replayed:
        assert replayed.get("/models").status_code == 303  # the old cookie is signed out
        assert replayed.post("/models/churn:2/approve", data={"csrf": csrf}).status_code in (303, 403)
        assert replayed.get("/models").headers["location"].startswith("/login")


# 6 (medium) --------------------------------------------------------------------------------------------------------

def test_deeply_nested_json_is_refused_with_422_and_fires_nothing(served):
    url, tokens, _ = served
    nested = b'{"inputs":' + b"[" * 1000 + b"]" * 1000 + b"}"
    with client(url, tokens["predictor"]) as c:
        for path in ("/v1/models/churn/predict", "/v1/feedback"):
            answer = c.post(path, content=nested, headers={"Content-Type": "application/json"})
            assert answer.status_code == 422, (path, answer.text)
            assert "nested" in answer.json()["detail"][0]["reason"]
    with client(url, tokens["viewer"]) as c:
        assert 'status="500"' not in c.get("/metrics").text


# 7 (medium) --------------------------------------------------------------------------------------------------------

def test_feedback_labels_are_checked_and_scoped_to_the_key_that_asked(served):
    url, tokens, _ = served
    mine = _predict(url, tokens["predictor"])
    with client(url, tokens["other-predictor"]) as other:
        stolen = other.post("/v1/feedback", json={"request_id": mine, "label": "yes"})
        assert stolen.status_code == 404, stolen.text  # another caller's prediction does not exist for it
    with client(url, tokens["predictor"]) as c:
        for label in (-999, "maybe"):
            bad = c.post("/v1/feedback", json={"request_id": mine, "label": label})
            assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "label", bad.text
            assert "no, yes" in bad.json()["detail"][0]["reason"]
        assert c.post("/v1/feedback", json={"request_id": mine, "label": "yes"}).status_code == 200
    with client(url, tokens["reviewer"]) as labeller:  # a labeller may label any prediction
        assert labeller.post("/v1/feedback", json={"request_id": mine, "label": "no"}).status_code == 200


# 8, 9 (low) --------------------------------------------------------------------------------------------------------

def test_calls_without_a_key_write_nothing_and_refused_calls_use_no_quota(served):
    url, tokens, home = served
    with client(url) as anonymous:
        for i in range(20):
            assert anonymous.post(f"/v1/models/invented{i}/predict", json={"inputs": ROW}).status_code == 401
    time.sleep(2.5)  # past a flush of the serving counts
    import sqlite3

    db = sqlite3.connect(home / "depthgauge.db")
    names = {row[0] for row in db.execute("SELECT model_name FROM serving_counts")}
    db.close()
    assert not any(name.startswith("invented") for name in names), names
    with client(url, tokens["quota-3"]) as c:
        for _ in range(5):
            assert c.post("/v1/models/churn/predict", json={"inputs": {**ROW, "tenure_months": "x"}}).status_code == 422
        answers = [c.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# 10 (low) ----------------------------------------------------------------------------------------------------------

def test_without_a_key_the_open_pages_name_no_model_and_no_column(served):
    url, tokens, _ = served
    with client(url) as anonymous:
        document = anonymous.get("/openapi.json")
        ready = anonymous.get("/readyz")
    assert document.status_code == 200 and ready.status_code == 200
    assert "churn" not in document.text and "tenure_months" not in document.text and "churn" not in ready.text
    with client(url, tokens["predictor"]) as keyed:
        assert "tenure_months" in keyed.get("/openapi.json").text  # a caller with a key sees each model's inputs


# 11 (low) ----------------------------------------------------------------------------------------------------------

def test_a_form_from_another_site_cannot_sign_anyone_in(served):
    url, tokens, _ = served
    with httpx.Client(base_url=url, follow_redirects=False) as browser:
        forged = browser.post("/login", data={"key": tokens["viewer"], "next": "/"},
                              headers={"Origin": "https://attacker.example"})
        assert forged.status_code == 403 and "depthgauge_session" not in forged.headers.get("set-cookie", "")
        same = browser.post("/login", data={"key": tokens["viewer"], "next": "/"}, headers={"Origin": url})
        assert same.status_code == 303


# 12 (low) ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [b"Infinity", b"-Infinity", b"NaN", b"1e999"])
def test_non_finite_numbers_are_refused_so_the_log_holds_what_was_predicted(served, number):
    url, tokens, _ = served
    body = b'{"inputs": {"tenure_months": ' + number + b', "monthly_charges": 70.5, "support_calls": 2, ' \
           b'"contract": "month-to-month", "region": "east", "usage_0": 0.3}}'
    with client(url, tokens["predictor"]) as c:
        answer = c.post("/v1/models/churn/predict", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and "finite" in answer.text, answer.text


# 14 (low) ----------------------------------------------------------------------------------------------------------

def test_smaller_points_names_files_and_caches(served):
    url, tokens, home = served
    from depthgauge.errors import DepthgaugeError
    from depthgauge.registry.refs import check_name

    with pytest.raises(DepthgaugeError):
        check_name("churn\n")
    for name in ("depthgauge.db", "depthgauge.db-wal", "audit.key", "session.key"):
        if (home / name).exists():
            assert stat.S_IMODE(os.stat(home / name).st_mode) & 0o077 == 0, name
    with httpx.Client(base_url=url, follow_redirects=False) as browser:
        browser.post("/login", data={"key": tokens["viewer"], "next": "/"})
        card = browser.get("/cards/churn:2")
    assert card.status_code == 200 and card.headers["cache-control"] == "no-store"


def test_a_daily_quota_holds_across_a_killed_server(red_team_workspace):
    import signal

    from depthgauge.govern.keys import create_key
    from depthgauge.workspace import Workspace
    from tests.helpers.servers import free_port
    from tests.serve.crashing import start_server, stop_server

    home, _ = red_team_workspace
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "crash-app", "predictor", None, "4/day")[1]
    port = free_port()
    first = start_server(home, port, "--monitor-every", "0")
    url = f"http://127.0.0.1:{port}"
    with client(url, token) as c:
        assert c.post("/v1/models/churn/predict", json={"inputs": [ROW, ROW, ROW]}).status_code == 200
    os.killpg(first.pid, signal.SIGKILL)  # before the server adds its count to the shared one (every 2 s)
    first.wait(timeout=30)
    second = start_server(home, port, "--monitor-every", "0")
    try:
        with client(url, token) as c:
            assert c.post("/v1/models/churn/predict", json={"inputs": [ROW, ROW]}).status_code == 429
            assert c.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code == 200
    finally:
        stop_server(second)


# 13 (low) ----------------------------------------------------------------------------------------------------------

def test_a_connection_that_trickles_its_headers_is_closed(served):
    from depthgauge.serve.protocol import HEADER_TIMEOUT_S

    url, _, _ = served
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=HEADER_TIMEOUT_S + 10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started, closed = time.monotonic(), False
        while time.monotonic() - started < HEADER_TIMEOUT_S + 8:
            try:
                sock.sendall(b"X-Slow: 1\r\n")  # a header a second, never the blank line that ends them
            except OSError:
                closed = True
                break
            sock.settimeout(1.0)
            try:
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
        assert closed and time.monotonic() - started >= HEADER_TIMEOUT_S - 1


def test_dashboard_pages_are_rate_limited_per_key(served):
    url, tokens, _ = served
    with httpx.Client(base_url=url, follow_redirects=False) as browser:
        assert browser.post("/login", data={"key": tokens["reviewer"], "next": "/"}).status_code == 303
        answers = [browser.get("/costs").status_code for _ in range(60)]
    assert answers[0] == 200 and 429 in answers
