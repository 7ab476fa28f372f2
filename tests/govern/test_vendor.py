"""The vendor scorecard: the template scores as written, vendors rank by weighted score, bad files are named."""

import json

import pytest
import yaml

import depthgauge
from depthgauge.errors import DepthgaugeError
from depthgauge.govern.service import write_vendor_template
from depthgauge.govern.vendor import QUESTIONS
from tests.helpers.cli import run_cli


def two_vendors(tmp_path):
    document = yaml.safe_load(write_vendor_template(tmp_path / "v.yaml").read_text())
    strong = {k: 5 for k in QUESTIONS}
    weak = {**strong, "training_data_use": 1, "data_portability": 2}
    document["vendors"] = [{"name": "Weak Inc", "scores": weak}, {"name": "Strong Ltd", "scores": strong}]
    path = tmp_path / "filled.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_vendors_rank_by_weighted_score_with_their_shortfalls(tmp_path, home):
    result = depthgauge.score_vendors(two_vendors(tmp_path), home=home)
    assert [v.name for v in result.vendors] == ["Strong Ltd", "Weak Inc"]
    assert result.vendors[0].score == 100.0
    total_weight = sum(w for _, w in QUESTIONS.values())
    expected = 100 * (5 * total_weight - 4 * 3 - 3 * 2) / (5 * total_weight)  # weights 3 and 2 lost 4 and 3 points
    assert result.vendors[1].score == pytest.approx(expected, abs=0.05)
    assert result.vendors[1].shortfalls == ["training_data_use", "data_portability"]
    assert "Strong Ltd" in result.report_path.read_text()


def test_template_is_not_overwritten_without_force(tmp_path):
    path = write_vendor_template(tmp_path / "v.yaml")
    with pytest.raises(DepthgaugeError, match="already exists.*--force"):
        write_vendor_template(path)
    assert write_vendor_template(path, force=True) == path


@pytest.mark.parametrize("edit,message", [
    (lambda d: d["vendors"][0]["scores"].update(latency=7), r"\(field vendors\[0\].scores.latency\): score must be"),
    (lambda d: d["vendors"][0]["scores"].pop("latency"), r"has no score for 'latency'"),
    (lambda d: d["vendors"][0]["scores"].update(vibes=3), r"'vibes' is not one of the questions"),
    (lambda d: d["questions"][1].update(weight=-2), r"\(field questions\[1\].weight\): weight must be"),
    (lambda d: d.update(vendors=[]), r"must list at least one vendor"),
])
def test_bad_scorecards_name_the_field_and_store_nothing(tmp_path, home, edit, message):
    document = yaml.safe_load(write_vendor_template(tmp_path / "v.yaml").read_text())
    edit(document)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(DepthgaugeError, match=message):
        depthgauge.score_vendors(path, home=home)
    assert not home.exists()


def test_cli_template_then_score(tmp_path):
    home = tmp_path / "ws"
    path = tmp_path / "vendors.yaml"
    assert run_cli("vendor", "template", str(path)).returncode == 0
    result = run_cli("--home", str(home), "vendor", "score", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vendors"][0]["name"] == "Example Vendor"
    broken = tmp_path / "broken.yaml"
    broken.write_text("questions: [\n")
    bad = run_cli("--home", str(home), "vendor", "score", str(broken))
    assert bad.returncode == 2 and "broken.yaml:" in bad.stderr and "invalid YAML" in bad.stderr
