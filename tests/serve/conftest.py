"""A real uvicorn server on loopback over a workspace with a registered model and one key per role."""


import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.govern.keys import ROLES, create_key
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.servers import LiveServer, private_copy


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def served_workspace(request, tmp_path_factory):
    """(home, tokens by role, database URL or None): churn assessed and deployed, on each database backend."""
    home = tmp_path_factory.mktemp(f"serving-{request.param}") / "ws"
    url = request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None
    depthgauge.assess(churn_table(900, 8, seed=5), target="churned", time_budget="20s", home=home, resamples=200,
                      name="churn", db_url=url)
    tokens = {}
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        for role in ROLES:
            tokens[role] = create_key(session, f"{role}-key", role)[1]
        deployments.deploy(session, "churn", "2")
    return home, tokens, url


@pytest.fixture
def server(served_workspace, tmp_path, monkeypatch):
    """(base URL, tokens by role, workspace home) of a fresh server over a private copy of the workspace."""
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    with LiveServer(create_app(home, max_body_bytes=50_000)) as url:
        yield url, served_workspace[1], home


