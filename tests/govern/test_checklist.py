"""The checklist fills itself from the workspace's evidence; people's marks are stored with who and when."""

import pytest

import depthgauge
from depthgauge.errors import DepthgaugeError
from tests.helpers.advice import PATHS_TO_LEAVES
from tests.helpers.cli import run_cli


def test_an_empty_workspace_has_twelve_open_items(home):
    items = depthgauge.checklist(home=home)
    assert len(items) == 12 and all(i.status == "open" for i in items)


def test_evidence_from_assessment_advice_cost_and_vendors_ticks_items(home, tmp_path, churn):
    result = depthgauge.assess(churn, target="churned", time_budget="20s", home=home, resamples=200)
    depthgauge.advise(PATHS_TO_LEAVES["classic_ml"], home=home)
    costs = tmp_path / "c.yaml"
    costs.write_text("options:\n  - {name: api, price_per_1k_calls_usd: 1}\n")
    depthgauge.project_cost(costs, home=home)
    from depthgauge.govern.service import write_vendor_template

    depthgauge.score_vendors(write_vendor_template(tmp_path / "v.yaml"), home=home)
    status = {i.key: i for i in depthgauge.checklist(home=home)}
    for key in ("baseline_established", "metrics_defined", "approach_selected", "architecture_chosen",
                "cost_projection", "vendor_questions"):
        assert status[key].status == "done", key
    assert status["data_inventoried"].status == "partial"
    assert "assessment" in status["baseline_established"].evidence[0]
    assert status["business_task"].status == "open" and status["governance"].status == "open"
    # the verdict answers whether deep learning is needed: yes, no (worse or equivalent), or not yet (partial)
    verdict = result.verdict
    answered = verdict.deep_recommended or verdict.call in ("deep_worse", "equivalent")
    assert status["deep_learning_confirmed"].status == ("done" if answered else "partial")
    assert verdict.headline in status["deep_learning_confirmed"].evidence[0]
    assert "mlp" not in status["baseline_established"].evidence[0]  # baselines are the simple candidates only
    assert status["deployment_plan"].status == "open"  # nothing deployed yet


def test_a_mark_is_stored_with_who_and_when_and_the_latest_stands(home, monkeypatch):
    monkeypatch.setenv("DEPTHGAUGE_USER", "ana")
    depthgauge.mark_checklist("governance", "access reviewed by security", home=home)
    monkeypatch.setenv("DEPTHGAUGE_USER", "ben")
    depthgauge.mark_checklist("governance", "audit found gaps", status="partial", home=home)
    item = next(i for i in depthgauge.checklist(home=home) if i.key == "governance")
    assert item.status == "partial" and item.marked_by == "ben" and item.marked_at
    assert any("ana" in e for e in item.evidence) and any("ben" in e for e in item.evidence)


@pytest.mark.parametrize("item,evidence,status,message", [
    ("govrnance", "x", "done", "Did you mean 'governance'"),
    ("governance", "  ", "done", "A mark needs evidence"),
    ("governance", "x", "finished", "Unknown status 'finished'"),
])
def test_bad_marks_are_refused_and_nothing_is_stored(home, item, evidence, status, message):
    with pytest.raises(DepthgaugeError, match=message):
        depthgauge.mark_checklist(item, evidence, status=status, home=home)
    assert not home.exists()


def test_cli_checklist_json(tmp_path):
    home = tmp_path / "ws"
    assert run_cli("--home", str(home), "checklist", "mark", "business_task", "--evidence", "KPI: churn rate").returncode == 0
    import json

    data = json.loads(run_cli("--home", str(home), "checklist", "--json").stdout)
    assert data["done"] == 1 and data["total"] == 12
