"""Per-key limits: a request rate and a daily prediction quota, answered with 429 and Retry-After, counted in
/metrics, set with `keys create --rate --quota` and shown by `keys list`."""

import datetime
import json

import pytest

from depthgauge.errors import DepthgaugeError
from depthgauge.govern.keys import create_key, parse_quota, parse_rate
from depthgauge.serve.limits import KeyLimits
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.cli import run_cli
from tests.helpers.servers import ROW, LiveServer, client, private_copy


def test_the_rate_refills_with_time_and_the_quota_with_the_day():
    now, day = [100.0], [datetime.date(2026, 12, 3)]
    limits = KeyLimits(clock=lambda: now[0], today=lambda: day[0])
    assert [limits.take_request("k", 2.0) for _ in range(2)] == [None, None]  # one second of burst
    assert limits.take_request("k", 2.0) == pytest.approx(0.5)
    now[0] += 0.5
    assert limits.take_request("k", 2.0) is None and limits.take_request("k", 2.0) is not None
    assert limits.take_request("other", None) is None  # no rate: no limit
    assert limits.take_predictions("k", 5, 3) is None
    assert limits.take_predictions("k", 5, 3) > 0  # 6 of 5
    assert limits.take_predictions("k", 5, 2) is None  # exactly 5
    day[0] += datetime.timedelta(days=1)
    assert limits.take_predictions("k", 5, 5) is None  # a new day


@pytest.mark.parametrize("text,per_second", [("50/s", 50.0), ("600/min", 10.0), ("7200/h", 2.0), ("0.5/s", 0.5)])
def test_rates_are_read_per_second(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text,per_day", [("1M/day", 1_000_000), ("50k/day", 50_000), ("20000", 20_000)])
def test_quotas_are_read_per_day(text, per_day):
    assert parse_quota(text) == per_day


@pytest.mark.parametrize("bad", ["fast", "0/s", "50/fortnight", "-5/s"])
def test_a_rate_that_cannot_be_read_is_refused(bad):
    with pytest.raises(DepthgaugeError, match="Cannot read the rate"):
        parse_rate(bad)


def test_over_a_limit_the_caller_gets_429_with_retry_after_and_metrics_count_it(served_workspace, tmp_path,
                                                                                monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        rated = create_key(session, "rated", "predictor", rate="2/s")[1]
        quota = create_key(session, "quota", "predictor", quota="5/day")[1]
    with LiveServer(create_app(home, monitor_every_s=0)) as url:
        with client(url, rated) as c:
            statuses = [c.post("/v1/models/churn/predict", json={"inputs": ROW}) for _ in range(3)]
        with client(url, quota) as c:
            first = c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 3})
            over = c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 3})
            rest = c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 2})
        with client(url, served_workspace[1]["viewer"]) as c:
            metrics = c.get("/metrics").text
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["retry-after"] == "1" and "over its rate of 2 requests a second" in statuses[2].text
    assert (first.status_code, over.status_code, rest.status_code) == (200, 429, 200)
    assert 0 < int(over.headers["retry-after"]) <= 86_400 and "quota of 5 predictions" in over.text
    assert 'depthgauge_limited_total{key="rated",limit="rate"} 1.0' in metrics
    assert 'depthgauge_limited_total{key="quota",limit="quota"} 1.0' in metrics


def test_keys_are_created_with_limits_and_listed_with_them(tmp_path):
    home = tmp_path / "ws"
    assert run_cli("--home", str(home), "init").returncode == 0
    made = run_cli("--home", str(home), "keys", "create", "--name", "billing", "--role", "predictor", "--rate", "50/s",
                   "--quota", "1M/day", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["rate_per_s"] == 50.0 and json.loads(made.stdout)["quota_per_day"] == 1_000_000
    listed = {k["name"]: k for k in json.loads(run_cli("--home", str(home), "keys", "list", "--json").stdout)}
    assert (listed["billing"]["rate_per_s"], listed["billing"]["quota_per_day"]) == (50.0, 1_000_000)
    shown = run_cli("--home", str(home), "keys", "list").stdout
    assert "50/s" in shown and "1,000,000" in shown
    bad = run_cli("--home", str(home), "keys", "create", "--name", "x", "--role", "predictor", "--rate", "fast")
    assert bad.returncode == 2 and "Cannot read the rate 'fast'" in bad.stderr
    assert "x" not in {k["name"] for k in json.loads(run_cli("--home", str(home), "keys", "list", "--json").stdout)}


def test_a_daily_quota_is_shared_by_every_server_and_kept_across_a_restart(served_workspace, tmp_path, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "shared-quota", "predictor", quota="10/day")[1]
    body = {"inputs": [ROW] * 6}
    one, other = create_app(home, monitor_every_s=0), create_app(home, monitor_every_s=0)
    with LiveServer(one) as first, LiveServer(other) as second:
        with client(first, token) as c:
            assert c.post("/v1/models/churn/predict", json=body).status_code == 200
        one.state.serving.limits.sync()  # what the background tick does every FOLLOW_SECONDS
        with client(second, token) as c:
            refused = c.post("/v1/models/churn/predict", json=body)  # 6 + 6 > 10, though this server served none
            fits = c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 4})
    assert refused.status_code == 429 and "quota of 10 predictions" in refused.text
    assert fits.status_code == 200
    with LiveServer(create_app(home, monitor_every_s=0)) as restarted, client(restarted, token) as c:
        assert c.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code == 429  # 10 of 10 used today
    listed = {k["name"]: k for k in json.loads(run_cli("--home", str(home), "keys", "list", "--json").stdout)}
    assert listed["shared-quota"]["predictions_today"] == 10
