"""Data-kind detection and the errors each kind gives on bad input, before anything is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import depthgauge
from depthgauge.data import samples
from depthgauge.data.kinds import detect_kind, prepare
from depthgauge.errors import DepthgaugeError


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    return samples.write_image_folder(tmp_path_factory.mktemp("digits") / "digits", n=120)


def test_each_kind_is_detected_from_the_path_and_the_options(tmp_path, digit_folder):
    text = samples.write_text_folder(tmp_path / "docs", samples.docstring_topics().sample(60, random_state=0))
    images, labels = samples.digits(50)
    np.savez(tmp_path / "digits.npz", images=images, labels=labels)
    assert detect_kind(digit_folder, None, None, None, None) == "image"
    assert detect_kind(text, None, None, None, None) == "text"
    assert detect_kind(tmp_path / "digits.npz", None, None, None, None) == "image"
    assert detect_kind("nodes.csv", "topic", None, "edges.csv", None) == "graph"
    assert detect_kind("sales.csv", "demand", None, None, 7) == "series"
    assert detect_kind("rows.csv", None, None, None, None) == "anomaly"
    assert detect_kind("rows.csv", "churned", None, None, None) == "table"
    assert detect_kind("rows.csv", "churned", "text", None, None) == "text"
    with pytest.raises(DepthgaugeError, match="Unknown kind 'video'.*table, text, image"):
        detect_kind("rows.csv", "churned", "video", None, None)


def test_folders_and_array_files_become_one_table(tmp_path, digit_folder):
    prepared = prepare("image", digit_folder, None)
    assert prepared.target == "label" and len(prepared.frame) == 120
    assert prepared.params["cnn"]["shape"] == [8, 8, 1]
    assert prepared.frame["image"].iloc[0].dtype == np.uint8
    text = prepare("text", samples.write_text_folder(tmp_path / "docs", samples.docstring_topics().sample(80, random_state=0)), None)
    assert text.assigned == {"text": "text"} and set(text.frame["label"]) <= set(samples.TEXT_SUBPACKAGES)


def test_a_time_series_becomes_lag_windows_split_by_time(tmp_path):
    series = samples.daily_demand(200)
    prepared = prepare("series", series, "demand", time_column="date", horizon=3)
    window = prepared.params["gru"]["window"]
    assert prepared.params["gru"]["season"] == 7 and window == 14
    row = prepared.frame.iloc[0]
    # the first origin is the window's last day; lag_1 is its value, the target is 3 days later
    assert row["lag_1"] == series["demand"].iloc[window - 1]
    assert row[f"lag_{window}"] == series["demand"].iloc[0]
    assert row["demand"] == series["demand"].iloc[window - 1 + 3]
    assert len(prepared.frame) == 200 - window - 3 + 1


def test_a_graph_gets_neighbours_and_their_mean_features(tmp_path):
    nodes = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 10.0], "y": ["p", "q", "p", "q"]})
    pd.DataFrame({"s": ["a", "a", "b"], "t": ["b", "c", "a"]}).to_csv(tmp_path / "e.csv", index=False)
    prepared = prepare("graph", nodes, "y", edges=tmp_path / "e.csv")
    frame = prepared.frame.set_index("id")
    assert frame.loc["a", "neighbors"] == "b c" and frame.loc["d", "neighbors"] == ""
    assert frame.loc["a", "degree"] == 2 and frame.loc["a", "neighbour_mean_x"] == 2.5
    assert np.isnan(frame.loc["d", "neighbour_mean_x"])
    assert "1 node(s) have no edges." in prepared.notes


def _fails(home, match, *args, **kwargs):
    with pytest.raises(DepthgaugeError, match=match):
        depthgauge.assess(*args, home=home, time_budget="30s", **kwargs)
    assert not home.exists()  # bad input writes nothing


def test_an_empty_text_column_is_refused(home):
    frame = pd.DataFrame({"text": [""] * 60, "label": ["a", "b"] * 30})
    _fails(home, "Text column 'text' is empty in every row", frame, "label", kind="text")


def test_a_folder_with_many_unreadable_images_is_refused(home, tmp_path, digit_folder):
    mixed = tmp_path / "mixed"
    for label in ("0", "1"):
        (mixed / label).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(mixed / label / "a.png")
    (mixed / "1" / "b.png").write_bytes(b"not an image at all")
    _fails(home, r"1 of 3 files are not readable images \('.*b.png'\).*Remove or replace", mixed)


def test_a_time_column_with_duplicates_or_gaps_is_refused(home):
    series = samples.daily_demand(120)
    duplicated = pd.concat([series, series.iloc[[10]]])
    _fails(home, r"'date' has 1 duplicate time\(s\).*aggregate duplicates", duplicated, "demand",
           time_column="date", horizon=1)
    gapped = series.drop(index=[40, 41])
    _fails(home, r"1 gap\(s\).*usual step is 1 days.*Fill the missing periods", gapped, "demand",
           time_column="date", horizon=1)


def test_an_edge_list_naming_unknown_nodes_is_refused(home, tmp_path):
    papers, citations = samples.citation_graph(100)
    papers.to_csv(tmp_path / "papers.csv", index=False)
    citations.loc[len(citations)] = ["p1", "p999"]
    citations.to_csv(tmp_path / "cites.csv", index=False)
    _fails(home, r"names 1 node\(s\) that are not in the node table, for example 'p999'", tmp_path / "papers.csv",
           "topic", edges=tmp_path / "cites.csv")


def test_kinds_that_need_a_target_say_so(home, digit_folder):
    _fails(home, "needs --time-column", samples.daily_demand(120), "demand", horizon=2)
    _fails(home, "An anomaly label column needs two values", samples.daily_demand(120), "demand", kind="anomaly")
