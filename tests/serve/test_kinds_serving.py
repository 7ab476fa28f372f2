"""Serving text and images over HTTP: text in the JSON body, images as base64 PNG; bad images get a clear 422."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

import depthgauge
from depthgauge.data import samples
from depthgauge.govern.keys import create_key
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.servers import LiveServer


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("kinds") / "ws"
    images, labels = samples.digits(500)
    npz = home.parent / "digits.npz"
    np.savez(npz, images=images, labels=labels)
    depthgauge.assess(npz, time_budget="20s", home=home, resamples=200, name="digits")
    depthgauge.assess(samples.docstring_topics(), "topic", time_budget="20s", home=home, resamples=200,
                      name="topics", candidates=("dummy", "tfidf"))
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "predictor", "predictor")[1]
        deployments.deploy(session, "digits", "4")  # the CNN
        deployments.deploy(session, "topics", "2")  # TF-IDF
    with LiveServer(create_app(home)) as url:
        yield url, token, images, labels


def _png(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_are_served_from_base64_png(served):
    url, token, images, labels = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        schema = c.get("/openapi.json").json()["components"]["schemas"]["digits_record"]
        answer = c.post("/v1/models/digits/predict", json={"inputs": [{"image": _png(i)} for i in images[:40]]})
    assert answer.status_code == 200, answer.text
    predicted = [p["prediction"] for p in answer.json()["predictions"]]
    assert answer.json()["version"] == "digits:4" and np.mean(np.array(predicted) == labels[:40]) > 0.9
    assert "base64" in schema["properties"]["image"]["description"]


@pytest.mark.parametrize("image, reason", [
    ("bm90IGFuIGltYWdl", "base64-encoded PNG or JPEG"),  # base64 of "not an image"
    (_png(np.zeros((16, 16), np.uint8)), "16×16 pixels.*reads 8×8"),
])
def test_bad_images_are_refused_with_the_reason(served, image, reason):
    import re

    url, token, *_ = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.post("/v1/models/digits/predict", json={"inputs": {"image": image}})
    assert answer.status_code == 422
    assert re.search(reason, answer.json()["detail"][0]["reason"])


def test_text_is_served_from_the_json_body(served):
    url, token, *_ = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.post("/v1/models/topics/predict", json={"inputs": [
            {"text": "Compute the singular value decomposition of a matrix."},
            {"text": "Design a Butterworth digital filter and return its coefficients."},
        ]})
        wrong = c.post("/v1/models/topics/predict", json={"inputs": {"review": "a column the model does not read"}})
    assert answer.status_code == 200, answer.text
    assert [p["prediction"] for p in answer.json()["predictions"]] == ["linalg", "signal"]
    assert wrong.status_code == 422 and "review" in wrong.text
