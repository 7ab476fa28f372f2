import pytest

from depthgauge.assessment.options import parse_value
from depthgauge.cost.catalog import load_catalog
from depthgauge.errors import DepthgaugeError
from depthgauge.units import parse_duration, parse_volume


@pytest.mark.parametrize("text,seconds", [("300", 300), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("2.5m", 150), (45, 45)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["five minutes", "-3m", "0", "m"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(DepthgaugeError, match="90s, 5m or 1h30m"):
        parse_duration(text)


@pytest.mark.parametrize("text,monthly", [("1000000/month", 1_000_000), ("2.5M/month", 2_500_000), ("50k/day", 1_521_875),
                                          ("1,000", 1000), ("12000/year", 1000)])
def test_volumes(text, monthly):
    assert parse_volume(text) == monthly


def test_bad_volume():
    with pytest.raises(DepthgaugeError, match="Unknown period"):
        parse_volume("10/fortnight")


def test_value_matrix_per_task():
    assert parse_value("tp=40,fp=-5,fn=-60", "binary").values == {"tp": 40, "fp": -5, "fn": -60}
    assert parse_value("error=-2.5", "regression").get("error") == -2.5


@pytest.mark.parametrize("text,task,message", [
    ("tp=40,fp=oops", "binary", "'oops' for fp is not a number"),
    ("tp40", "binary", "'tp40' is not one of"),
    ("tp=1", "regression", "for a regression task"),
    ("", "binary", "no values given"),
])
def test_malformed_value(text, task, message):
    with pytest.raises(DepthgaugeError, match=message):
        parse_value(text, task)


def test_catalog_is_dated_and_unknown_instance_suggests_names(tmp_path):
    catalog = load_catalog()
    assert catalog.as_of and catalog.get("aws.m7i.large").price_per_hour_usd > 0
    assert any(i.gpu for i in catalog.instances)
    with pytest.raises(DepthgaugeError, match=r"Unknown instance 'aws.m7i.larg'.*Did you mean 'aws.m7i.large'"):
        catalog.get("aws.m7i.larg")
    own = tmp_path / "prices.yaml"
    own.write_text("as_of: '2026-11-01'\ninstances:\n  - {name: onprem.box, price_per_hour_usd: 0.05}\n")
    assert load_catalog(own).get("onprem.box").price_per_hour_usd == 0.05
    own.write_text("instances:\n  - {name: broken}\n")
    with pytest.raises(DepthgaugeError, match="malformed"):
        load_catalog(own)
