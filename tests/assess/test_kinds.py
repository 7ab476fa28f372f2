"""`assess` on every kind of data: the simple rivals and the deep model side by side, one holdout, one verdict."""

from __future__ import annotations

import numpy as np
import pytest

import depthgauge
from depthgauge.data import samples


def _trained(assessment) -> dict:
    return {c.name: c for c in assessment.candidates if c.ok}


def test_text_trains_tfidf_the_pretrained_encoder_and_its_fine_tuned_copy(home):
    frame = samples.docstring_topics().sample(300, random_state=0)
    a = depthgauge.assess(frame, "topic", time_budget="45s", home=home, resamples=200, name="topics")
    assert a.duration_s <= 1.1 * 45  # the budget holds for every kind
    trained = _trained(a)
    assert a.options["kind"] == "text" and a.options["text_text_column"] == "text"
    assert {"tfidf", "minilm", "minilm_tuned"} <= set(trained)
    assert trained["minilm"].quality["accuracy"].value > trained["dummy"].quality["accuracy"].value + 0.3
    assert trained["minilm_tuned"].learning_curve["train_loss"]
    verdict = a.verdict
    assert verdict.best_simple == "tfidf" and verdict.deep in ("minilm", "minilm_tuned")
    # the verdict follows the evidence: deep only with a significant gain that pays for itself
    assert verdict.deep_recommended == (verdict.call == "deep_better"
                                        and verdict.extra_monthly_cost <= verdict.max_extra_cost)
    assert len(a.registered) == 4


def test_images_pit_pixels_against_a_cnn(home, tmp_path):
    images, labels = samples.digits(700)
    np.savez(tmp_path / "digits.npz", images=images, labels=labels)
    a = depthgauge.assess(tmp_path / "digits.npz", time_budget="30s", home=home, resamples=200)
    assert a.duration_s <= 1.1 * 30  # the budget holds for every kind
    trained = _trained(a)
    assert a.options["kind"] == "image" and {"pixels_linear", "pixels_lightgbm", "cnn"} <= set(trained)
    assert trained["cnn"].quality["accuracy"].value > 0.9
    assert trained["cnn"].learning_curve["stopped_because"] in ("early_stopping", "time_budget", "max_epochs")


def test_a_forecast_is_split_by_time_and_judged_against_naive_forecasts(home):
    a = depthgauge.assess(samples.daily_demand(), "demand", time_column="date", horizon=7, time_budget="30s",
                          home=home, resamples=200)
    assert a.duration_s <= 1.1 * 30  # the budget holds for every kind
    trained = _trained(a)
    assert a.split["method"] == "time-ordered" and a.profile["task"] == "regression"
    assert set(trained) == {"naive", "seasonal_naive", "linear", "lightgbm", "gru"}
    assert a.verdict.primary_metric == "rmse" and a.verdict.deep == "gru"
    # with a weekly season, the same weekday last week beats yesterday
    assert trained["seasonal_naive"].params["season"] == 7


def test_anomalies_with_labels_are_measured_and_without_labels_are_not_guessed(home, tmp_path):
    labelled = depthgauge.assess(samples.rare_malignant(), "diagnosis", kind="anomaly", time_budget="20s",
                                 home=home, resamples=200)
    assert labelled.duration_s <= 1.1 * 20  # the budget holds for every kind
    trained = _trained(labelled)
    assert labelled.profile["task"] == "anomaly" and labelled.verdict.primary_metric == "roc_auc"
    assert trained["isolation_forest"].quality["roc_auc"].value > 0.85
    assert set(trained) == {"isolation_forest", "autoencoder"}

    unlabelled = depthgauge.assess(samples.rare_malignant().drop(columns="diagnosis"), time_budget="20s",
                                   home=tmp_path / "other", contamination=0.1)
    assert unlabelled.duration_s <= 1.1 * 20  # the budget holds for every kind
    verdict = unlabelled.verdict
    assert verdict.recommended == "isolation_forest" and not verdict.deep_recommended
    assert "without labels there is no evidence" in verdict.headline and "agree on" in verdict.headline
    assert verdict.summary[0] == ("Use Isolation forest: without labels nothing shows that a deep detector finds more "
                                  "real anomalies.")
    assert verdict.summary[2].startswith("How sure: not sure. Without labels")
    for c in unlabelled.candidates:
        assert 0.02 < c.quality["flagged_share"].value < 0.25 and c.params["expected_share"] == 0.1


def test_a_graph_network_wins_where_the_links_carry_the_signal(home, tmp_path):
    papers, citations = samples.citation_graph(900)
    papers.to_csv(tmp_path / "papers.csv", index=False)
    citations.to_csv(tmp_path / "cites.csv", index=False)
    a = depthgauge.assess(tmp_path / "papers.csv", "topic", edges=tmp_path / "cites.csv", time_budget="30s",
                          home=home, resamples=500, name="papers")
    assert a.duration_s <= 1.1 * 30  # the budget holds for every kind
    trained = _trained(a)
    assert a.options["kind"] == "graph" and set(trained) == {"dummy", "linear", "lightgbm", "gnn"}
    verdict = a.verdict
    assert verdict.deep == "gnn" and verdict.deep_vs_simple.low > 0  # a significant gain in accuracy
    # taken only if it also pays for itself: at most $100 a month more to own
    assert verdict.deep_recommended == (verdict.call == "deep_better"
                                        and verdict.extra_monthly_cost <= verdict.max_extra_cost)
    assert trained["gnn"].quality["accuracy"].value > trained["lightgbm"].quality["accuracy"].value


def test_ray_and_tuning_are_refused_for_data_that_is_not_a_table(home):
    from depthgauge.errors import DepthgaugeError

    with pytest.raises(DepthgaugeError, match="--executor ray, --tune and --workers apply to tables"):
        depthgauge.assess(samples.daily_demand(), "demand", time_column="date", horizon=1, home=home, tune=2)
    assert not home.exists()


def test_a_table_with_a_text_column_stays_a_table_unless_asked(home, churn):
    frame = churn.copy()
    frame["notes"] = [f"customer called about item {i} and asked for a refund today" for i in range(len(frame))]
    a = depthgauge.assess(frame, "churned", time_budget="20s", home=home, resamples=200)
    assert a.duration_s <= 1.1 * 20  # the budget holds for every kind
    assert a.options["kind"] == "table"
    assert next(c for c in a.profile["columns"] if c["name"] == "notes")["role"] == "text"
    trained = {c.family for c in a.candidates if c.ok}
    assert {"linear", "lightgbm"} <= trained  # a table's models were trained on it, the notes read as text
