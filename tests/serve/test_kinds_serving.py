"""Serving text and images over HTTP: text in the JSON body, images as base64 PNG; bad images get a clear 422."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pandas as pd
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
        yield url, token, images, labels, home


def _png(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_are_served_from_base64_png(served):
    url, token, images, labels, _ = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        schema = c.get("/openapi.json").json()["components"]["schemas"]["digits_record"]
        answer = c.post("/v1/models/digits/predict", json={"inputs": [{"image": _png(i)} for i in images[:40]]})
    assert answer.status_code == 200, answer.text
    predicted = [p["prediction"] for p in answer.json()["predictions"]]
    assert answer.json()["version"] == "digits:4" and np.mean(np.array(predicted) == labels[:40]) > 0.9
    assert "base64" in schema["properties"]["image"]["description"]


@pytest.mark.parametrize("image, reason", [
    ("bm90IGFuIGltYWdl", "base64-encoded image bytes"),  # base64 of "not an image"
    ("", "base64-encoded image bytes"),
])
def test_bad_images_are_refused_with_the_reason(served, image, reason):
    import re

    url, token, *_ = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.post("/v1/models/digits/predict", json={"inputs": {"image": image}})
    assert answer.status_code == 422
    assert re.search(reason, answer.json()["detail"][0]["reason"])


def test_an_image_of_another_size_and_mode_is_answered_as_in_process(served):
    url, token, images, labels, home = served
    local = depthgauge.load_model("digits:4", home=home)
    bigger = np.kron(images[:12], np.ones((1, 3, 2), np.uint8))  # 24×16 pixels instead of 8×8
    colour = [np.dstack([b, b, b, np.full_like(b, 255)]) for b in bigger]  # RGBA, opaque
    sent = [_png(c) for c in colour]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.post("/v1/models/digits/predict", json={"inputs": [{"image": s} for s in sent]})
    assert answer.status_code == 200, answer.text
    expected = local.predict_proba(pd.DataFrame({"image": sent}))
    for row, got in zip(expected, answer.json()["predictions"], strict=True):
        assert [got["probabilities"][str(k)] for k in local.classes_] == pytest.approx(list(row), abs=1e-6)
    predicted = [p["prediction"] for p in answer.json()["predictions"]]
    assert np.mean(np.array(predicted) == labels[:12]) >= 0.5  # resized back to 8×8, the digits still read


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
