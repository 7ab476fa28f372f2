"""The red team's three audit forgeries, replayed as someone who can write the database (but not the workspace's
secret files) would make them: each recomputes the chain as it is documented, with SHA-256. Each must be caught."""

import hashlib
import json
import os
import sqlite3
import stat

import pytest

import depthgauge
from depthgauge.govern import audit
from depthgauge.store.seal import HEAD_FILE, KEY_FILE
from depthgauge.workspace import Workspace
from tests.helpers.cli import run_cli


def _events(db):
    return db.execute("SELECT seq, at, actor, action, object, details, prev_hash, hash FROM audit_events "
                      "ORDER BY seq").fetchall()


def _rechain(db, start_hash=audit.GENESIS):
    """Recompute every link from the first event, as an attacker who read audit.py's old chain would."""
    previous = start_hash
    for seq, at, actor, action, obj, details, _, _ in _events(db):
        canonical = json.dumps([seq, at, actor, action, obj, json.loads(details), previous], sort_keys=True,
                               separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        db.execute("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?", (previous, digest, seq))
        previous = digest
    count = db.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (count, previous))
    db.commit()


def _forge(home, how):
    db = sqlite3.connect(home / "depthgauge.db")
    if how == "edit and re-chain":
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
        _rechain(db)
    elif how == "delete, renumber and re-chain":
        db.execute("DELETE FROM audit_events WHERE seq = 2")
        db.execute("UPDATE audit_events SET seq = seq - 1 WHERE seq > 2")
        _rechain(db)
    else:  # drop the last event and move the head back: no hash to compute at all
        last, before = db.execute("SELECT seq, prev_hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM audit_events WHERE seq = ?", (last,))
        db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (last - 1, before))
        db.commit()
    db.close()


@pytest.mark.parametrize("how", ["edit and re-chain", "delete, renumber and re-chain", "drop the last, head back"])
def test_a_database_writer_cannot_rewrite_the_audit_log_unseen(tmp_path, how):
    home = tmp_path / "ws"
    for i in range(4):
        depthgauge.mark_checklist("governance", f"step {i}", home=home)
    assert "chain verified" in run_cli("--home", str(home), "audit", "verify").stdout
    _forge(home, how)
    failed = run_cli("--home", str(home), "audit", "verify")
    assert failed.returncode == 2 and "Audit log tampered" in failed.stderr, failed.stdout


def test_a_rewrite_with_the_secret_is_still_caught_by_the_anchored_head(tmp_path):
    home = tmp_path / "ws"
    for i in range(3):
        depthgauge.mark_checklist("governance", f"step {i}", home=home)
    db = sqlite3.connect(home / "depthgauge.db")
    last, before = db.execute("SELECT seq, prev_hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    db.execute("DELETE FROM audit_events WHERE seq = ?", (last,))
    db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (last - 1, before))
    db.commit()
    db.close()
    with Workspace.open(home) as workspace, workspace.session() as session:
        result = audit.verify(session)
    assert not result.ok and "anchored" in result.problem and result.first_bad_seq == last


def test_the_secret_is_owner_only_and_rotation_keeps_every_event_verifiable(tmp_path):
    home = tmp_path / "ws"
    depthgauge.mark_checklist("governance", "before", home=home)
    assert stat.S_IMODE(os.stat(home / KEY_FILE).st_mode) == 0o600
    rotated = run_cli("--home", str(home), "audit", "rotate-key")
    assert rotated.returncode == 0 and "seals events from 2 on" in rotated.stdout, rotated.stderr
    depthgauge.mark_checklist("governance", "after", home=home)
    assert len(json.loads((home / KEY_FILE).read_text())) == 2
    verified = run_cli("--home", str(home), "audit", "verify", "--json")
    assert json.loads(verified.stdout)["ok"] and json.loads(verified.stdout)["events"] == 3
    log = run_cli("--home", str(home), "audit", "log", "--json")
    assert [e["action"] for e in json.loads(log.stdout)] == ["checklist.mark", "audit.rotate_key", "checklist.mark"]


def test_a_workspace_from_before_the_secret_is_sealed_from_its_next_event(tmp_path):
    home = tmp_path / "ws"
    depthgauge.mark_checklist("governance", "old", home=home)
    (home / KEY_FILE).unlink()  # as a workspace an earlier release left has no secret
    (home / HEAD_FILE).unlink()
    db = sqlite3.connect(home / "depthgauge.db")
    _rechain(db)  # and its one event carries a plain SHA-256 link
    db.close()
    depthgauge.mark_checklist("governance", "new", home=home)
    assert json.loads((home / KEY_FILE).read_text())[0]["from_seq"] == 2
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert audit.verify(session).ok
