"""A workspace with a served churn model (value matrix set) and a real HTTP receiver for webhooks."""


import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import create_key
from depthgauge.registry import service as registry
from depthgauge.serve import deploy as deployments
from depthgauge.workspace import Workspace


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def monitored_workspace(request, tmp_path_factory):
    """(home, admin token, LightGBM ref, database URL or None): churn assessed on 1,500 rows, LightGBM approved, in
    production and deployed, on each database backend."""
    home = tmp_path_factory.mktemp(f"monitoring-{request.param}") / "ws"
    url = request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None
    assessment = depthgauge.assess(churn_table(1500, 8, seed=21), target="churned", time_budget="20s", home=home,
                                   resamples=200, name="churn", value="tp=100,fp=-20,fn=-500,tn=0",
                                   candidates=("dummy", "linear", "lightgbm"), db_url=url)
    ref = next(r for r in assessment.registered if r.endswith(":3"))
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        token = create_key(session, "admin-key", "admin")[1]
        registry.approve(session, ref, "monitoring tests")
        registry.promote(session, ref, "production")
        deployments.deploy(session, "churn", ref)
    return home, token, ref, url


@pytest.fixture
def workspace_copy(monitored_workspace, tmp_path, monkeypatch):
    """(home, admin token, ref) of a private copy (its database copied too, on PostgreSQL), set for everything to use."""
    from tests.helpers.servers import private_copy

    home = private_copy((monitored_workspace[0], None, monitored_workspace[3]), tmp_path, monkeypatch)
    return home, monitored_workspace[1], monitored_workspace[2]


