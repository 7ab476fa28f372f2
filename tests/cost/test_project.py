"""Cost projection: the arithmetic per category, options from an assessment, and precise errors for bad files."""

import json
import re

import pytest

import depthgauge
from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.project import Assumptions, CostOption, cost_option
from depthgauge.errors import DepthgaugeError
from tests.helpers.cli import run_cli


def test_every_category_follows_from_the_assumptions():
    catalog = load_catalog()
    price = catalog.get("aws.m7i.large").price_per_hour_usd
    assumptions = Assumptions(monthly_volume=3_600_000, retrain="weekly", storage_gb=100, storage_price_per_gb_month_usd=0.02,
                              pipelines_monthly_usd=10, monitoring_hours_per_month=2, engineer_hourly_usd=50,
                              monitoring_compute_share=0.1, review_rate=0.01, cost_per_review_usd=0.5,
                              governance_monthly_usd=300)
    # 3.6M a month is 1.37 rows/s, 4.1 at a 3× peak; 4 rows/s measured, planned at 50%: 2.05, so 3 instances
    option = CostOption("trees", instance="aws.m7i.large", training_hours=2, throughput_rows_per_s=4)
    cost = cost_option(option, assumptions, catalog)
    got = cost.monthly
    assert cost.instances == 3
    assert got["serving"] == pytest.approx(3 * 730 * price)
    assert got["retraining"] == pytest.approx(4.345 * 2 * price)
    assert got["storage_and_pipelines"] == pytest.approx(100 * 0.02 + 10)
    assert got["monitoring_and_operations"] == pytest.approx(2 * 50 + 0.1 * 3 * 730 * price)
    assert got["human_review"] == pytest.approx(3_600_000 * 0.01 * 0.5)
    assert got["governance"] == 300
    pinned = cost_option(CostOption("trees", instance="aws.m7i.large", throughput_rows_per_s=1e6,
                                    always_on_instances=2), assumptions, catalog)
    assert pinned.instances == 2  # the option's own minimum


def test_an_api_option_pays_per_call_and_runs_no_instance():
    got = cost_option(CostOption("api", price_per_1k_calls_usd=2.0), Assumptions(monthly_volume=500_000), load_catalog())
    assert got.monthly["serving"] == pytest.approx(1000.0)
    assert got.instances == 0 and got.monthly["retraining"] == 0


COST_FILE = """\
assumptions:
  monthly_volume: 2M/month
  retrain: weekly
  review_rate: 0.02
options:
  - {name: trees on CPU, instance: aws.m7i.large, training_hours: 0.05, throughput_rows_per_s: 20000}
  - {name: MLP on GPU, instance: aws.g5.xlarge, training_hours: 0.5, throughput_rows_per_s: 90000}
  - {name: vendor API, price_per_1k_calls_usd: 1.5}
"""


def test_file_options_side_by_side_stored_with_an_offline_page(tmp_path, home):
    path = tmp_path / "costs.yaml"
    path.write_text(COST_FILE)
    result = depthgauge.project_cost(path, home=home)
    table = result.table()
    assert list(table.index) == ["trees on CPU", "MLP on GPU", "vendor API"]
    assert table.loc["vendor API", "serving"] == pytest.approx(3000.0)
    assert table.loc["MLP on GPU", "serving"] > table.loc["trees on CPU", "serving"]  # GPU hours cost more
    assert (table["yearly_total_usd"] == 12 * table["monthly_total_usd"]).all()
    html = result.report_path.read_text()
    assert "Assumptions" in html and "monthly_volume" in html and "Plotly.newPlot" in html
    assert not re.search(r"<script[^>]*src=", html)
    from depthgauge.store.tables import CostProjectionRow
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.session() as session:
        assert session.get(CostProjectionRow, result.id).result["assumptions"]["monthly_volume"] == 2_000_000


@pytest.mark.parametrize("content,message", [
    ("options: [\n  {name: a\n", r"costs.yaml:\d+: invalid YAML"),
    ("assumptions:\n  monthly_volume: -5\noptions:\n  - {name: api, price_per_1k_calls_usd: 1}\n",
     r"costs.yaml:2 \(field assumptions.monthly_volume\): must not be negative"),
    ("options:\n  - {name: api, price_per_1k_calls_usd: -1}\n",
     r"costs.yaml:2 \(field options\[0\].price_per_1k_calls_usd\): must be at least 0"),
    ("options:\n  - name: box\n    instance: aws.m9.mega\n    throughput_rows_per_s: 10\n",
     r"costs.yaml:3 \(field options\[0\].instance\): Unknown instance 'aws.m9.mega'"),
    ("options:\n  - {name: box, instance: aws.m7i.large}\n", r"needs either price_per_1k_calls_usd"),
    ("assumptions:\n  retrain: hourly\n", r"unknown cadence 'hourly'"),
    ("options:\n  - {name: a, price_per_1k_calls_usd: 1, colour: red}\n", r"unknown field 'colour'"),
])
def test_bad_cost_files_name_file_line_and_field_and_store_nothing(tmp_path, home, content, message):
    path = tmp_path / "costs.yaml"
    path.write_text(content)
    with pytest.raises(DepthgaugeError, match=message):
        depthgauge.project_cost(path, home=home)
    assert not home.exists()


def test_options_from_a_stored_assessment(tmp_path, churn_csv):
    home = tmp_path / "ws"
    assessed = run_cli("--home", str(home), "assess", str(churn_csv), "--target", "churned", "--time-budget", "20s", "--json")
    assessment_id = json.loads(assessed.stdout)["id"]
    result = run_cli("--home", str(home), "cost", "project", "--from-assessment", assessment_id, "--instance",
                     "aws.g4dn.xlarge", "--volume", "50k/day", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    names = [o["option"]["name"] for o in data["options"]]
    assert "lightgbm on aws.g4dn.xlarge" in names and "mlp on aws.g4dn.xlarge" in names
    assert data["assumptions"]["monthly_volume"] == 1_521_875
    assert all(o["option"]["source"].startswith(f"assessment {assessment_id}") for o in data["options"])
    same = run_cli("--home", str(home), "cost", "project", "--from-assessment", assessment_id, "--json")
    projected = {o["option"]["name"].split(" on ")[0]: o for o in json.loads(same.stdout)["options"]}
    for candidate in json.loads(assessed.stdout)["candidates"]:
        if candidate["status"] != "ok":
            continue
        owned = candidate["scorecard"]["cost"]
        mine = projected[candidate["name"]]
        assert mine["instances"] == owned["instances"]
        for part in ("serving", "human_review", "retraining"):  # the same model, the same figures
            assert mine["monthly"][part] == pytest.approx(owned["monthly"][part]), (candidate["name"], part)
    printed = run_cli("--home", str(home), "cost", "project", "--from-assessment", assessment_id)
    assert "review_rate=0.0 for options that state none" in printed.stdout
    # the assessment showed its review shares without pricing them (no --review-threshold or --review-cost)
    assert "review not priced" in printed.stdout and "for the peak" in printed.stdout
    priced_file = tmp_path / "priced.yaml"
    priced_file.write_text("assumptions: {cost_per_review_usd: 0.5}\noptions:\n"
                           "  - {name: vendor API, price_per_1k_calls_usd: 1.5}\n")
    priced = run_cli("--home", str(home), "cost", "project", str(priced_file), "--from-assessment", assessment_id)
    assert "of predictions reviewed at $0.50 each" in priced.stdout
    missing = run_cli("--home", str(home), "cost", "project", "--from-assessment", "nope")
    assert missing.returncode == 2 and "No assessment 'nope'" in missing.stderr
