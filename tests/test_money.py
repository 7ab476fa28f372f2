"""Money formatting at every magnitude a scorecard meets."""

import math

import pytest

from depthgauge.money import usd


@pytest.mark.parametrize("amount,text", [
    (0.0, "$0.00"),
    (9.3e-10, "less than $0.01"),
    (0.0049, "less than $0.01"),
    (0.005, "$0.01"),
    (0.0123, "$0.01"),
    (1.5, "$1.50"),
    (73.584, "$73.58"),
    (999.994, "$999.99"),
    (56_666.4, "$56,666"),
    (1_234_567, "$1.23M"),
    (2.5e9, "$2.50B"),
    (-12.345, "-$12.35"),
    (-56_666.4, "-$56,666"),
    (-1e-6, "about -$0.00"),
    (None, "—"),
    (math.inf, "—"),
    (math.nan, "—"),
])
def test_amounts_are_written_for_people(amount, text):
    assert usd(amount) == text


def test_the_unit_follows_the_amount():
    assert usd(73.584, "/ month") == "$73.58 / month"
    assert usd(9.3e-10, "per 1,000 predictions") == "less than $0.01 per 1,000 predictions"
