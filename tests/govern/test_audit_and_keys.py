"""Keys are stored only as hashes; every state change is in the audit chain; tampering is named."""

import sqlite3

import pytest

import depthgauge
from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit, keys
from depthgauge.workspace import Workspace
from tests.helpers.cli import run_cli


def test_a_key_is_256_random_bits_stored_only_as_its_hash(home):
    with Workspace.open(home) as workspace:
        with workspace.transaction() as session:
            row, token = keys.create_key(session, "billing", "predictor")
        assert token.startswith("dg_") and len(token) >= 3 + 43  # 32 bytes in URL-safe base64
        with workspace.session() as session:
            assert keys.authenticate(session, token).id == row.id
            assert keys.authenticate(session, token + "x") is None and keys.authenticate(session, None) is None
        with workspace.transaction() as session:
            keys.revoke(session, row.id)
        with workspace.session() as session:
            assert keys.authenticate(session, token) is None
    for path in home.glob("depthgauge.db*"):
        assert token.encode() not in path.read_bytes(), "the token itself must never be stored"


@pytest.mark.parametrize("name,role,message", [("x", "superuser", "Unknown role 'superuser'"), (" ", "viewer", "needs a name")])
def test_bad_keys_are_refused(home, name, role, message):
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        with pytest.raises(DepthgaugeError, match=message):
            keys.create_key(session, name, role)


def test_role_permissions():
    assert keys.allowed("viewer", "view") and not keys.allowed("viewer", "predict")
    assert keys.allowed("reviewer", "review") and not keys.allowed("predictor", "review")
    assert keys.allowed("deployer", "deploy") and not keys.allowed("reviewer", "deploy")
    assert all(keys.allowed("admin", p) for p in keys.PERMISSIONS)


def _chain(home, n=4):
    with Workspace.open(home) as workspace:
        for i in range(n):
            depthgauge.mark_checklist("governance", f"step {i}", home=home)
        with workspace.session() as session:
            assert audit.verify(session).ok and audit.verify(session).events == n


def _execute(home, sql):
    connection = sqlite3.connect(home / "depthgauge.db")
    connection.execute(sql)
    connection.commit()
    connection.close()


@pytest.mark.parametrize("sql,first_bad,words", [
    ("UPDATE audit_events SET details = '{\"status\": \"done\", \"evidence\": \"forged\"}' WHERE seq = 2", 2, "altered"),
    ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3, "altered"),
    ("DELETE FROM audit_events WHERE seq = 2", 2, "missing"),
    ("DELETE FROM audit_events WHERE seq = 4", 4, "last events were removed"),
])
def test_tampering_is_detected_and_the_first_bad_event_named(home, sql, first_bad, words):
    _chain(home)
    _execute(home, sql)
    with Workspace.open(home) as workspace, workspace.session() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == first_bad and words in result.problem


def test_state_changes_are_audited_with_the_actor(home, monkeypatch, tmp_path):
    monkeypatch.setenv("DEPTHGAUGE_USER", "olga")
    depthgauge.mark_checklist("business_task", "KPI agreed", home=home)
    costs = tmp_path / "c.yaml"
    costs.write_text("options:\n  - {name: api, price_per_1k_calls_usd: 1}\n")
    depthgauge.project_cost(costs, home=home)
    with Workspace.open(home) as workspace, workspace.session() as session:
        from sqlalchemy import select

        from depthgauge.store.tables import AuditEventRow

        events = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)).all()
    assert [(e.action, e.actor) for e in events] == [("checklist.mark", "olga"), ("cost_projection.create", "olga")]


def test_cli_init_prints_the_first_admin_key_once_and_audit_verify_fails_on_tampering(tmp_path):
    home = tmp_path / "ws"
    first = run_cli("--home", str(home), "init")
    assert first.returncode == 0 and "dg_" in first.stdout
    second = run_cli("--home", str(home), "init")
    assert "dg_" not in second.stdout and "Keys already exist" in second.stdout
    assert "chain verified" in run_cli("--home", str(home), "audit", "verify").stdout
    _execute(home, "UPDATE audit_events SET action = 'key.delete' WHERE seq = 1")
    failed = run_cli("--home", str(home), "audit", "verify")
    assert failed.returncode == 2 and "event 1" in failed.stderr and "altered" in failed.stderr
