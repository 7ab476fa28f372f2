"""Tables with free text beside the structured columns: every candidate reads the text; nothing is dropped silently."""

import numpy as np
import pandas as pd
import pytest

import depthgauge
from tests.helpers.cli import run_cli

ANGRY = ["cancel", "refund", "slow", "broken", "terrible", "leaving", "overcharged", "useless"]
HAPPY = ["great", "thanks", "love", "fast", "helpful", "perfect", "smooth", "recommend"]
NEUTRAL = ["the", "app", "account", "my", "invoice", "team", "today", "support", "plan", "login", "it", "was"]


def tickets(n: int, signal: str, seed: int = 0) -> pd.DataFrame:
    """Support tickets with a churn label carried only by the `signal` side: "text" or "numbers"."""
    rng = np.random.default_rng(seed)
    churned = rng.random(n) < 0.4
    texts = []
    for c in churned:
        words = list(rng.choice(NEUTRAL, 7))
        if signal == "text":
            words += list(rng.choice(ANGRY if c else HAPPY, 2)) + list(rng.choice(ANGRY + HAPPY, 1))
        else:
            words += list(rng.choice(ANGRY + HAPPY, 3))
        rng.shuffle(words)
        texts.append(" ".join(words))
    usage = rng.normal(50, 15, n) - (25 * churned if signal == "numbers" else 0)
    return pd.DataFrame({"ticket_id": np.arange(100_000, 100_000 + n), "complaint": texts,
                         "usage": usage.round(1), "seats": rng.integers(1, 40, n),
                         "churned": np.where(churned, "yes", "no")})


@pytest.mark.parametrize("signal", ["text", "numbers"])
def test_every_candidate_reads_the_text_column_of_a_table(tmp_path, signal):
    result = depthgauge.assess(tickets(1200, signal), target="churned", home=tmp_path / "ws", time_budget="40s",
                               candidates=("dummy", "linear", "lightgbm", "mlp"), resamples=200, repeats=1)
    roles = {c["name"]: c["role"] for c in result.profile["columns"]}
    assert roles["complaint"] == "text" and roles["ticket_id"] == "identifier"
    floor = next(c for c in result.candidates if c.family == "dummy").quality["roc_auc"].value
    for c in result.candidates:
        if c.family != "dummy":
            assert c.quality["roc_auc"].low > floor + 0.1, (c.name, c.quality["roc_auc"])
            names = [col["name"] for col in c.model.input_schema()["columns"]]
            assert "complaint" in names and "ticket_id" not in names
    lightgbm = next(c for c in result.candidates if c.family == "lightgbm")
    top = lightgbm.importance["features"][0]["feature"]
    assert top == ("complaint" if signal == "text" else "usage")


def test_a_text_table_model_is_saved_served_and_reloaded_with_the_same_answers(tmp_path):
    frame = tickets(900, "text", seed=2)
    home = tmp_path / "ws"
    result = depthgauge.assess(frame, target="churned", home=home, time_budget="45s", name="tickets",
                               candidates=("dummy", "linear", "mlp"), resamples=200, repeats=1)
    mlp = next(c for c in result.candidates if c.family == "mlp")
    assert mlp.model.encoder_.text_reader == "sentence", result.warnings  # the deep side reads text with MiniLM
    linear = next(c for c in result.candidates if c.family == "linear")
    assert linear.model.coef_.shape[1] > len(linear.model.encoder_.text_projections_["complaint"].vocabulary)
    rows = frame.drop(columns=["churned", "ticket_id"]).head(20)
    for candidate, ref in zip((linear, mlp), result.registered[1:], strict=True):
        model = depthgauge.load_model(ref, home=home)
        in_process = model.predict_proba(rows)
        assert np.allclose(in_process, candidate.model.predict_proba(rows), atol=1e-5), ref  # reloaded: same answers
        records = model.model.predict_records_raw(rows.to_dict("records"))
        assert np.allclose(in_process, records, atol=1e-5), ref  # the one-row fast path reads text the same way
        assert {"name": "complaint", "type": "text", "nullable": True} in model.input_schema["columns"]
        assert "complaint" in candidate.reference["features"]  # monitored: its words' drift


def test_the_deep_side_reads_text_as_tfidf_when_the_encoder_would_take_the_budget_and_says_so():
    from depthgauge.assessment.progress import Reporter
    from depthgauge.assessment.runner import _read_table_text

    frame = tickets(3000, "text")
    roles = {"numeric": ["usage"], "text": ["complaint"]}
    params, warnings, reserve = _read_table_text(("linear", "mlp", "tabm"), roles, frame, 600, 0, 12.0, "local",
                                                 Reporter())
    assert params == {"mlp": {"text_reader": "tfidf"}, "tabm": {"text_reader": "tfidf"}} and reserve == 0.0
    assert "read the text of complaint as TF-IDF" in warnings[0] and "--time-budget" in warnings[0]
    assert _read_table_text(("linear", "lightgbm"), roles, frame, 600, 0, 12.0, "local", Reporter()) == ({}, [], 0.0)


def test_a_change_in_what_people_write_is_text_drift():
    from depthgauge.data.reference import build_reference
    from depthgauge.monitor import drift

    reference = build_reference(tickets(2000, "text", seed=0), {"numeric": ["usage"], "text": ["complaint"]}, {})
    assert reference["features"]["complaint"]["kind"] == "text" and reference["not_monitored"] == []
    alike = tickets(500, "text", seed=1)
    assert not drift.feature_drift(reference, drift.profile_frame(reference, alike))["complaint"]["drifted"]
    moved = alike.assign(complaint="since the migration the export times out and the dashboard is blank " + alike["complaint"])
    measured = drift.feature_drift(reference, drift.profile_frame(reference, moved))["complaint"]
    assert measured["drifted"] and measured["psi"] >= drift.PSI_DRIFT
    assert "__other__" in measured["largest_changes"]  # the new words, which training never saw often


def test_dropped_columns_are_printed_with_the_reason_and_the_flag(tmp_path):
    data = tmp_path / "tickets.csv"
    tickets(300, "text").assign(plan="pro").to_csv(data, index=False)
    out = run_cli("--home", str(tmp_path / "ws"), "assess", str(data), "--target", "churned", "--time-budget", "30s",
                  "--drop", "seats")
    assert out.returncode == 0, out.stderr
    printed = out.stdout + out.stderr
    assert "'ticket_id'" in printed and "identifier" in printed
    assert "'seats'" in printed and "--drop" in printed


def test_onnx_export_refuses_a_text_column_with_the_reason_and_the_other_formats():
    from depthgauge.errors import DepthgaugeError
    from depthgauge.registry.onnx_graph import model_to_onnx
    from depthgauge.zoo import FAMILIES

    frame = tickets(300, "text")
    roles = {"numeric": ["usage", "seats"], "categorical": [], "boolean": [], "datetime": [], "text": ["complaint"]}
    model = FAMILIES["linear"]("binary", roles).fit(frame.drop(columns=["churned"]), frame["churned"].to_numpy())
    with pytest.raises(DepthgaugeError, match="free-text column.*complaint.*--format folder or --format mlflow"):
        model_to_onnx(model, "tickets:2")
