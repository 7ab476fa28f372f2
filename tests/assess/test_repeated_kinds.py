"""Repeated splits for every kind, as for tables: every candidate scored on each split."""

import numpy as np
import pytest

import depthgauge
from depthgauge.data import samples


@pytest.mark.parametrize("kind", ["image", "series", "text", "graph"])
def test_every_kind_is_judged_over_repeated_splits(tmp_path, kind):
    if kind == "text":
        data = samples.docstring_topics().groupby("topic").head(150)
        options = dict(target="topic", candidates=("dummy", "tfidf", "minilm"), time_budget="60s")
    elif kind == "graph":
        papers, citations = samples.citation_graph(600)
        papers.to_csv(tmp_path / "papers.csv", index=False)
        citations.to_csv(tmp_path / "cites.csv", index=False)
        data = tmp_path / "papers.csv"
        options = dict(target="topic", edges=tmp_path / "cites.csv", time_budget="30s")
    elif kind == "image":
        images, labels = samples.digits(600)
        data = tmp_path / "digits.npz"
        np.savez(data, images=images, labels=labels)
        options = dict(candidates=("dummy", "pixels_linear"), time_budget="90s")  # no solver cut on a busy machine
    else:
        data = samples.daily_demand(400)
        options = dict(target="demand", kind="series", time_column="date", time_budget="45s")
    result = depthgauge.assess(data, home=tmp_path / "ws", repeats=3, resamples=200, **options)
    assert result.options["kind"] == kind
    k = result.split["repeats"]
    assert k >= 3, result.split["repeats_note"]
    for c in result.candidates:
        if c.ok:
            assert len(c.split_scores) == k and None not in c.split_scores, c.name
            assert c.quality[result.verdict.primary_metric].value == pytest.approx(np.mean(c.split_scores))
    trained = [c for c in result.candidates if c.ok and c.family != "dummy"]
    assert any(len({round(s, 6) for s in c.split_scores}) > 1 for c in trained)  # the splits really differ
