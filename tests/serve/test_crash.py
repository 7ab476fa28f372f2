"""Crash safety: the kill campaign of bench/crash_campaign.py, 5 rounds, on each database and durability.

SIGKILL the server under load at random moments: no answered prediction or deploy is ever missing afterwards, the
audit chain verifies and the SQLite file passes its integrity check, every round.
"""

import pytest

from tests.helpers.servers import private_copy
from tests.serve.crashing import run_campaign

ROUNDS = 5


@pytest.mark.parametrize("durability", ["power", "crash"])
def test_kill_campaign_loses_nothing_answered(served_workspace, tmp_path, durability, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    sqlite_file = home / "depthgauge.db" if served_workspace[2] is None else None
    campaign = run_campaign(home, served_workspace[1], ROUNDS, seed=20261203, durability=durability,
                            sqlite_file=sqlite_file)
    summary = campaign.summary()
    assert summary["answered_predictions"] > ROUNDS * 10 and summary["answered_deploys"] > 0, summary
    assert summary["answered_but_lost"] == 0, campaign.rounds
    assert summary["rounds_integrity_ok"] == ROUNDS and summary["rounds_chain_ok"] == ROUNDS, campaign.rounds
