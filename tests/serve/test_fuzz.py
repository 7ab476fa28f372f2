"""The API fuzzed from its own OpenAPI document (schemathesis, a fixed seed, a few examples per operation) against a
real server serving a table, an image and a text model, with an admin key and a viewer key; then one regression test
for each thing the fuzzing found. bench/api_fuzz.py runs the same with many examples."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from tests.helpers.servers import free_port
from tests.serve.crashing import start_server, stop_server
from tests.serve.fuzzing import fuzz_workspace, run_fuzz

EXAMPLES = 15
SEED = 20261203


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz") / "ws"
    tokens = fuzz_workspace(home)
    port = free_port()
    process = start_server(home, port, "--monitor-every", "0")
    yield f"http://127.0.0.1:{port}", tokens
    stop_server(process)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_fuzzing_finds_no_server_error_no_undocumented_answer_and_no_change_by_a_viewer(fuzz_server, role):
    url, tokens = fuzz_server
    code, output, counts = run_fuzz(url, tokens[role], tokens["viewer"], EXAMPLES, SEED)
    assert code == 0, re.sub(r"\s{3,}", "  ", output)[-6000:]  # schemathesis's report, without its padding
    assert counts["generated"] > 300 and counts["failures"] == 0, counts


def _client(url, token):
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_document_gives_each_model_its_own_predict_operation_and_says_how_to_authenticate(fuzz_server):
    url, tokens = fuzz_server
    document = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()
    paths = document["paths"]
    assert {"/v1/models/churn/predict", "/v1/models/digits/predict", "/v1/models/topics/predict"} <= set(paths)
    assert "/v1/models/{name}/predict" not in paths
    topics = paths["/v1/models/topics/predict"]["post"]
    assert topics["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("topics_predict_request")
    assert topics["security"] == [{"apiKey": []}] and "healthz" not in str(paths["/healthz"].get("security"))
    assert {"401", "403", "422", "429"} <= set(topics["responses"])
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_a_viewer_is_refused_a_change_before_its_body_is_read(fuzz_server):
    url, tokens = fuzz_server
    with _client(url, tokens["viewer"]) as c:
        for path in ("/v1/models/churn/deploy", "/v1/reviews/x", "/v1/feedback", "/v1/models/churn/predict"):
            answer = c.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
            assert answer.status_code == 403, (path, answer.text)


def test_every_refusal_names_the_field_in_one_shape(fuzz_server):
    url, tokens = fuzz_server
    with _client(url, tokens["admin"]) as c:
        limit = c.get("/v1/reviews", params={"limit": 10**30})
        status = c.get("/v1/reviews", params={"status": "whatever"})
        body = c.post("/v1/models/churn/deploy", content=b"{not json", headers={"Content-Type": "application/json"})
        blank = c.post("/v1/reviews/x", json={"decision": "correct", "label": "  "})
    for answer, field in ((limit, "limit"), (status, "status"), (body, "body"), (blank, "label")):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"] == field and answer.json()["detail"][0]["reason"]


def test_a_window_too_long_to_compute_is_refused_not_a_server_error(fuzz_server):
    url, tokens = fuzz_server
    with _client(url, tokens["admin"]) as c:
        huge = c.get("/v1/monitor/churn", params={"window": "964406562742507w"})
        fine = c.get("/v1/monitor/churn", params={"window": "9999w"})
    assert huge.status_code == 422 and huge.json()["detail"][0]["field"] == "window"
    assert fine.status_code == 200, fine.text


def test_a_text_and_an_image_model_are_monitored(fuzz_server):
    url, tokens = fuzz_server
    with _client(url, tokens["admin"]) as c:
        c.post("/v1/models/topics/predict", json={"inputs": {"text": "Invert a sparse matrix."}}).raise_for_status()
        for name in ("topics", "digits"):
            report = c.get(f"/v1/monitor/{name}")
            assert report.status_code == 200, report.text
            assert report.json()["model"] == name


@pytest.mark.parametrize("image", [{}, 7, True, [1, 2, 3], [[[[0]]]], [["$G", None], {}, [{}, -280]],
                                   base64.b64encode(b"not an image").decode()])
def test_an_image_that_is_no_image_is_refused_with_the_reason(fuzz_server, image):
    url, tokens = fuzz_server
    with _client(url, tokens["admin"]) as c:
        answer = c.post("/v1/models/digits/predict", json={"inputs": {"image": image}})
    assert answer.status_code == 422, answer.text
    assert "image" in answer.json()["detail"][0]["reason"].lower()
