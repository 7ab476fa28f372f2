"""The families for text, images, series, anomalies and graphs: real training, safe round trips, their own checks."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.ensemble import IsolationForest

from depthgauge.data import samples
from depthgauge.data.kinds import prepare
from depthgauge.errors import DepthgaugeError
from depthgauge.zoo import FAMILIES, load_model
from depthgauge.zoo.image import decode_image, random_shift
from depthgauge.zoo.sentence import embed


def _round_trip(model, X, tmp_path):
    again = load_model(model.save(tmp_path / model.family))
    if model.is_classifier:
        np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(again.predict(X), model.predict(X), rtol=1e-5, atol=1e-5)
    assert not list((tmp_path / model.family).glob("*.pkl"))
    return again


@pytest.fixture(scope="module")
def digits_frame():
    images, labels = samples.digits(400)
    return pd.DataFrame({"image": list(images), "label": labels})


@pytest.mark.parametrize("family", ["pixels_linear", "pixels_lightgbm", "cnn"])
def test_image_families_learn_digits_and_load_back(family, digits_frame, tmp_path):
    train, test = digits_frame.iloc[:300], digits_frame.iloc[300:]
    model = FAMILIES[family]("multiclass", {"image": ["image"]}, shape=[8, 8, 1], time_limit_s=20)
    model.fit(train[["image"]], train["label"].to_numpy(), validation=(test[["image"]], test["label"].to_numpy()))
    accuracy = float(np.mean(model.predict(test[["image"]]) == test["label"].to_numpy()))
    assert accuracy > 0.85, accuracy
    _round_trip(model, test[["image"]], tmp_path)
    png = io.BytesIO()
    Image.fromarray(test["image"].iloc[0]).save(png, format="PNG")
    as_base64 = pd.DataFrame({"image": [base64.b64encode(png.getvalue()).decode()]})
    assert model.predict(as_base64)[0] == model.predict(test[["image"]].iloc[:1])[0]  # served images read the same


def test_images_must_be_readable_and_are_brought_to_the_trained_size():
    with pytest.raises(DepthgaugeError, match="base64-encoded image bytes"):
        decode_image("not base64!", (8, 8, 1))
    tall = np.zeros((16, 12), np.uint8)
    tall[:, 6:] = 255  # right half white: after the shorter side goes to 8 and the centre crop, still half
    fitted = decode_image(tall, (8, 8, 1))
    assert fitted.shape == (8, 8, 1) and fitted[:, :3].max() < 60 and fitted[:, 5:].min() > 200
    colour = decode_image(np.dstack([tall, tall, tall]), (8, 8, 1))  # a colour image read as luminance
    assert colour.shape == (8, 8, 1) and np.array_equal(colour, fitted)
    for not_pixels in ([[1, 2], [3]], [["a", None], [{}, 2]], np.zeros((2, 2, 2, 2), np.uint8)):
        with pytest.raises(DepthgaugeError, match="grid of pixels"):
            decode_image(not_pixels, (8, 8, 1))


def test_the_augmentation_shifts_a_batch_without_changing_its_shape():
    images = torch.zeros((2, 1, 8, 8))
    images[:, :, 4, 4] = 1.0
    shift = random_shift(torch.Generator().manual_seed(3), 1)
    moved = [shift(images) for _ in range(12)]
    assert all(m.shape == images.shape and float(m.sum()) == 2.0 for m in moved)
    assert any(not torch.equal(m, images) for m in moved)


def test_isolation_forest_exported_as_arrays_scores_like_scikit_learn(tmp_path):
    frame = samples.rare_malignant().drop(columns="diagnosis")
    roles = {"numeric": list(frame.columns)}
    model = FAMILIES["isolation_forest"]("anomaly", roles, seed=0).fit(frame)
    design = model.design(frame)
    reference = IsolationForest(n_estimators=200, max_samples=256, random_state=0).fit(design)
    np.testing.assert_allclose(model.anomaly_scores(frame), -reference.score_samples(design), rtol=1e-9)
    again = _round_trip(model, frame, tmp_path)
    flagged = np.mean(again.predict(frame) == "anomaly")
    assert 0.03 < flagged < 0.08  # about the 5% contamination on the rows it was fitted on


def test_the_autoencoder_scores_outliers_above_typical_rows(tmp_path):
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, (600, 6))
    frame = pd.DataFrame(np.column_stack([normal[:, :3], normal[:, :3] * 2 + rng.normal(0, 0.1, (600, 3))]),
                         columns=[f"f{i}" for i in range(6)])
    model = FAMILIES["autoencoder"]("anomaly", {"numeric": list(frame.columns)}, time_limit_s=20).fit(frame)
    odd = frame.iloc[:20].copy()
    odd[["f3", "f4", "f5"]] *= -1  # breaks the relation between the column pairs, not the ranges
    assert np.median(model.anomaly_scores(odd)) > np.quantile(model.anomaly_scores(frame), 0.9)
    _round_trip(model, odd, tmp_path)


def test_forecasters_read_lags_and_the_seasonal_one_picks_the_same_weekday(tmp_path):
    prepared = prepare("series", samples.daily_demand(400), "demand", time_column="date", horizon=3)
    frame, params = prepared.frame, prepared.params["gru"]
    lags = [c for c in frame.columns if c.startswith("lag_")]
    X, y = frame[lags], frame["demand"].to_numpy()
    seasonal = FAMILIES["seasonal_naive"]("regression", {"numeric": lags}, **params).fit(X, y)
    np.testing.assert_array_equal(seasonal.predict(X), frame["lag_5"])  # 7·ceil(3/7) − 3 + 1 = 5
    gru = FAMILIES["gru"]("regression", {"numeric": lags}, time_limit_s=15, **params)
    gru.fit(X.iloc[:250], y[:250], validation=(X.iloc[250:300], y[250:300]))
    history = gru.history_
    ran = len(history.train_loss)
    assert ran >= 1 and 0 <= history.best_epoch < ran  # the kept weights are those of an epoch that ran
    _round_trip(gru, X.iloc[300:], tmp_path)
    assert gru.input_schema()["columns"][0]["name"] == "lag_1"


def test_the_graph_network_scores_a_new_node_from_the_neighbours_it_names(tmp_path):
    papers, citations = samples.citation_graph(400, seed=2)
    prepared = prepare("graph", papers, "topic", edges=_csv(tmp_path, citations))
    frame = prepared.frame
    roles = prepared.roles["gnn"]
    model = FAMILIES["gnn"]("multiclass", roles, time_limit_s=20)
    train, test = frame.iloc[:300], frame.iloc[300:]
    model.fit(train, train["topic"].to_numpy(), validation=(test.iloc[:50], test["topic"].iloc[:50].to_numpy()))
    _round_trip(model, test, tmp_path)
    topic0 = train[train["topic"] == "topic0"]["paper"].tolist()[:8]
    newcomer = pd.DataFrame([{**{c: 1.0 for c in roles["numeric"]}, "paper": "new", "neighbors": " ".join(topic0)}])
    assert model.predict(newcomer)[0] == "topic0"


def _csv(tmp_path, frame):
    path = tmp_path / "edges.csv"
    frame.to_csv(path, index=False)
    return path


def test_text_families_learn_topics_and_load_back(tmp_path):
    frame = samples.docstring_topics().sample(240, random_state=0)
    train, test = frame.iloc[:180], frame.iloc[180:]
    roles = {"text": ["text"]}
    for family in ("tfidf", "minilm"):
        model = FAMILIES[family]("multiclass", roles).fit(train[["text"]], train["topic"].to_numpy())
        assert np.mean(model.predict(test[["text"]]) == test["topic"].to_numpy()) > 0.6
        _round_trip(model, test[["text"]], tmp_path)
    assert "stats" in FAMILIES["tfidf"]("multiclass", roles).fit(train[["text"]], train["topic"].to_numpy()).top_terms()


def test_the_fine_tuned_encoder_trains_within_its_slice_and_loads_back(tmp_path):
    frame = samples.docstring_topics().sample(120, random_state=1)
    model = FAMILIES["minilm_tuned"]("multiclass", {"text": ["text"]}, time_limit_s=8, max_epochs=2)
    model.fit(frame[["text"]].iloc[:90], frame["topic"].to_numpy()[:90],
              validation=(frame[["text"]].iloc[90:], frame["topic"].to_numpy()[90:]))
    assert model.history_.train_loss and model.history_.val_loss
    _round_trip(model, frame[["text"]].iloc[90:], tmp_path)


def test_sentence_embeddings_are_unit_length_and_put_paraphrases_close():
    vectors = embed(["The cat sits on the mat.", "A cat is sitting on a rug.", "Quarterly revenue fell by 4%."])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
