"""A real `depthgauge serve` process on loopback, over a workspace with a deployed churn model and one key per role
(two predictor keys, so one caller can try to reach another's predictions)."""

import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import ROLES, create_key
from depthgauge.serve import deploy as deployments
from depthgauge.workspace import Workspace
from tests.helpers.servers import free_port
from tests.serve.crashing import start_server, stop_server


@pytest.fixture(scope="session")
def red_team_workspace(tmp_path_factory):
    home = tmp_path_factory.mktemp("red-team") / "ws"
    depthgauge.assess(churn_table(600, 6, seed=3), target="churned", time_budget="15s", home=home, resamples=200,
                      name="churn", candidates=("dummy", "linear"), repeats=1)
    tokens = {}
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        for role in ROLES:
            tokens[role] = create_key(session, f"{role}-key", role)[1]
        tokens["other-predictor"] = create_key(session, "other-app", "predictor")[1]
        tokens["quota-3"] = create_key(session, "small-app", "predictor", None, "3/day")[1]
        deployments.deploy(session, "churn", "2")
    return home, tokens


@pytest.fixture(scope="session")
def served(red_team_workspace):
    """(base URL, tokens by role, home) of `depthgauge serve` started as a user would start it."""
    home, tokens = red_team_workspace
    port = free_port()
    process = start_server(home, port, "--monitor-every", "0")
    yield f"http://127.0.0.1:{port}", tokens, home
    stop_server(process)
