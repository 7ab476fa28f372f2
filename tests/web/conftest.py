"""A seeded, monitored workspace served on loopback, and headless Debian Chromium driven by Playwright."""

import json
import shutil
from pathlib import Path

import httpx
import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import create_key
from depthgauge.monitor.service import run_monitor
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.browser import CHROMIUM
from tests.helpers.monitoring import settle_log
from tests.helpers.servers import LiveServer


@pytest.fixture(scope="session")
def dashboard_workspace(tmp_path_factory):
    """(home, tokens by role): churn assessed and deployed with a review threshold, traffic, labels, one monitor run."""
    home = tmp_path_factory.mktemp("dashboard") / "ws"
    depthgauge.assess(churn_table(1500, 8, seed=31), target="churned", time_budget="20s", home=home, resamples=200,
                      name="churn", value="tp=100,fp=-20,fn=-500,tn=0", candidates=("dummy", "linear", "lightgbm", "mlp"))
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        tokens = {role: create_key(session, f"{role}-key", role)[1] for role in ("admin", "reviewer", "viewer")}
        deployments.deploy(session, "churn", "3", review={"confidence_threshold": 0.7})
    data = churn_table(400, 8, seed=32)
    records = json.loads(data.drop(columns=["churned"]).to_json(orient="records"))
    with LiveServer(create_app(home, auth=False, monitor_every_s=0)) as url, httpx.Client(base_url=url, timeout=30) as c:
        ids = []
        for start in range(0, len(records), 100):
            ids += [p["request_id"] for p in c.post("/v1/models/churn/predict",
                                                    json={"inputs": records[start:start + 100]}).json()["predictions"]]
        for request_id, label in list(zip(ids, data["churned"].astype(str)))[:150]:
            c.post("/v1/feedback", json={"request_id": request_id, "label": label})
    settle_log(home)  # the monitor reads log rows once they are settled
    with Workspace.open(home) as workspace:
        run_monitor(workspace, ["churn"])
    return home, tokens


@pytest.fixture
def dashboard(dashboard_workspace, tmp_path):
    """(base URL, tokens, home) of a server over a private copy of the seeded workspace."""
    home = tmp_path / "ws"
    shutil.copytree(dashboard_workspace[0], home)
    with LiveServer(create_app(home, monitor_every_s=0)) as url:
        yield url, dashboard_workspace[1], home


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is missing at {CHROMIUM}: run `make test` (it installs it)."
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    yield context.new_page()
    context.close()


