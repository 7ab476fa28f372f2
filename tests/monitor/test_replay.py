"""The replay gate on a real served log: a candidate scored on the inputs production answered, then passed or failed."""

import json

import httpx
import pytest
from sqlalchemy import select

from depthgauge.errors import DepthgaugeError
from depthgauge.monitor.replay import BUILTIN, load_policy
from depthgauge.registry import service as registry
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.store.tables import AuditEventRow
from depthgauge.workspace import Workspace
from tests.helpers.cli import cli_json, run_cli
from tests.helpers.monitoring import post_traffic, traffic
from tests.helpers.servers import LiveServer

POLICY = """
required_for_production: {required}
window: 7d
min_rows: 100
review_above_disagreement: 0.6
"""


def _serve_labelled_traffic(home, token, seed: int = 11) -> None:
    """400 predictions through a real server, 300 of them labelled with the truth by feedback."""
    records, labels = traffic(seed=seed)
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        ids = post_traffic(client, records)
        for request_id, truth in list(zip(ids, labels))[:300]:
            assert client.post("/v1/feedback", json={"request_id": request_id, "label": truth}).status_code == 200


def _make_production(home, ref: str) -> None:
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        version = registry.resolve(session, ref)
        if version.approved_at is None:
            registry.approve(session, ref, "replay tests")
        registry.promote(session, ref, "production")
        deployments.deploy(session, "churn", ref)


def _replay(home, candidate: str, policy) -> tuple[int, dict]:
    result = run_cli("--home", str(home), "replay", candidate, "--against", "churn@production", "--policy", str(policy),
                     "--json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_the_gate_fails_a_worse_candidate_and_passes_a_better_one_on_the_served_log(workspace_copy, tmp_path):
    home, token, lightgbm = workspace_copy  # churn:3, LightGBM, is in production and deployed
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(required="false"))
    _serve_labelled_traffic(home, token)

    code, worse = _replay(home, "churn:1", policy)  # the majority-class baseline
    assert code == 1 and worse["gate"]["outcome"] == "fail"
    assert worse["production"] == lightgbm and worse["rows"] == 400
    assert worse["estimated"]["metric"] == "roc_auc" and worse["estimated"]["difference"] < -0.1
    assert worse["labelled"]["labels"] == 300 and worse["labelled"]["delta"]["high"] < 0
    assert any("estimated roc_auc falls" in reason for reason in worse["gate"]["reasons"])
    assert 0 < worse["agreement"]["share"] < 1
    assert worse["latency"]["candidate"]["rows"] == 200 and worse["cost"]["monthly_usd"]["production"] is not None

    _make_production(home, "churn:1")  # now the baseline serves, and logs its own traffic
    _serve_labelled_traffic(home, token, seed=12)
    code, better = _replay(home, "churn:3", policy)
    assert code == 0 and better["gate"] == {"outcome": "pass", "reasons": [], "policy": str(policy)}
    assert better["production"] == "churn:1" and better["rows"] == 400  # only the traffic churn:1 answered
    assert better["estimated"]["difference"] > 0.1 and better["labelled"]["delta"]["low"] > 0

    text = run_cli("--home", str(home), "replay", "churn:3", "--against", "churn@production", "--policy", str(policy))
    assert text.returncode == 0 and "gate: PASS" in text.stdout and "agreement with production" in text.stdout
    with Workspace.open(home) as workspace, workspace.session() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "model.replay")
                                 .order_by(AuditEventRow.seq)).all()
    assert [e.details["outcome"] for e in events] == ["fail", "pass", "pass"]
    assert events[0].object == "model:churn:1"


def test_promotion_is_refused_with_the_reason_when_the_gate_fails(workspace_copy):
    home, token, lightgbm = workspace_copy
    (home / "replay.yaml").write_text(POLICY.format(required="true"))
    _serve_labelled_traffic(home, token)
    env = {"DEPTHGAUGE_USER": "ops-lead"}
    assert run_cli("--home", str(home), "models", "approve", "churn:1", "--note", "baseline", env=env).returncode == 0

    refused = run_cli("--home", str(home), "models", "promote", "churn:1", "--to", "production", env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "Promotion of churn:1 to production refused: the replay gate" in refused.stderr
    assert "estimated roc_auc falls" in refused.stderr
    assert cli_json("--home", str(home), "models", "show", "churn@production")["ref"] == lightgbm
    with Workspace.open(home) as workspace, workspace.session() as session:
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "model.replay")).one()
    assert event.actor == "ops-lead" and event.details["outcome"] == "fail" and event.details["against"] == lightgbm

    # Other aliases need no gate; nor does a version already in production.
    assert run_cli("--home", str(home), "models", "promote", "churn:1", "--to", "staging").returncode == 0


def test_a_passed_gate_lets_promotion_through_and_says_so(workspace_copy):
    home, token, _ = workspace_copy
    _make_production(home, "churn:1")
    (home / "replay.yaml").write_text(POLICY.format(required="true"))
    _serve_labelled_traffic(home, token)
    promoted = cli_json("--home", str(home), "models", "promote", "churn:3", "--to", "production")
    assert promoted["ref"] == "churn:3" and promoted["replay"]["outcome"] == "pass"
    assert promoted["replay"]["against"] == "churn:1" and promoted["replay"]["rows"] == 400


@pytest.mark.parametrize("edit, problem", [
    ("max_p99_latency: 10\n", "unknown setting 'max_p99_latency'"),
    ("min_rows: -5\n", "min_rows must be a number of at least 0"),
    ("required_for_production: yes please\n", "required_for_production must be true or false"),
    ("window: fortnight\n", "Unknown window 'fortnight'"),
    ("review_above_disagreement: 3\n", "share between 0 and 1"),
])
def test_a_malformed_policy_is_refused_naming_the_line(tmp_path, edit, problem):
    path = tmp_path / "replay.yaml"
    path.write_text("# my policy\n" + edit)
    with pytest.raises(DepthgaugeError, match=rf"replay.yaml:2.*{problem}"):
        load_policy(path)


def test_the_built_in_policy_loads_and_requires_no_gate():
    policy = load_policy(BUILTIN)
    assert policy.required_for_production is False and policy.window == "7d" and policy.min_rows == 200


def test_replay_refuses_bad_input_with_the_fix(workspace_copy):
    home, _, lightgbm = workspace_copy
    same = run_cli("--home", str(home), "replay", lightgbm, "--against", "churn@production")
    assert same.returncode == 2 and "replay a different version" in same.stderr
    unknown = run_cli("--home", str(home), "replay", "churn:9", "--against", "churn@production")
    assert unknown.returncode == 2 and "has no version 9" in unknown.stderr
    window = run_cli("--home", str(home), "replay", "churn:1", "--against", "churn@production", "--window", "soon")
    assert window.returncode == 2 and "Unknown window 'soon'" in window.stderr
    empty = run_cli("--home", str(home), "replay", "churn:1", "--against", "churn@production", "--json")
    assert empty.returncode == 1 and json.loads(empty.stdout)["gate"]["outcome"] == "fail"
    assert "only 0 logged predictions" in json.loads(empty.stdout)["gate"]["reasons"][0]
