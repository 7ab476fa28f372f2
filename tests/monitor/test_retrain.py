"""Retrain promotes a challenger only on evidence; rollback returns production and serving to the previous version."""

import time

import httpx
import numpy as np
import pandas as pd
import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.errors import DepthgaugeError
from depthgauge.govern.audit import verify
from depthgauge.registry import service as registry
from depthgauge.serve import deploy as deployments
from depthgauge.server import create_app
from depthgauge.workspace import Workspace
from tests.helpers.cli import cli_json, run_cli
from tests.helpers.servers import ROW, LiveServer


def dated(frame: pd.DataFrame, start: str = "2025-01-01") -> pd.DataFrame:
    frame = frame.copy()
    frame["signup"] = pd.date_range(start, periods=len(frame), freq="h").strftime("%Y-%m-%d %H:%M:%S")
    return frame


@pytest.fixture
def champion(tmp_path):
    """(home, ref): LightGBM on a time-ordered split, approved, in production and deployed."""
    home = tmp_path / "ws"
    assessment = depthgauge.assess(dated(churn_table(1500, 8, seed=41)), target="churned", time_column="signup",
                                   time_budget="20s", home=home, resamples=200, name="churn",
                                   candidates=("dummy", "lightgbm"))
    ref = assessment.registered[1]
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        registry.approve(session, ref, "retrain tests")
        registry.promote(session, ref, "production")
        deployments.deploy(session, "churn", ref)
    return home, ref


def changed_concept(rows: int, seed: int) -> pd.DataFrame:
    """Customers whose churn now depends on their region: what the champion learned no longer holds."""
    frame = churn_table(rows, 8, seed=seed)
    noise = np.random.default_rng(seed).random(rows) < 0.1
    frame["churned"] = np.where(frame["region"].isin(["north", "south"]) ^ noise, "yes", "no")
    return dated(frame, "2026-01-01")


def corrupted_history(rows: int, seed: int) -> pd.DataFrame:
    """The same customers as before, but a labeling outage scrambled the churn labels of the earlier 85%."""
    frame = dated(churn_table(rows, 8, seed=seed), "2026-01-01")
    early = int(rows * 0.85)
    frame.loc[: early - 1, "churned"] = np.random.default_rng(seed).permutation(frame["churned"].to_numpy()[:early])
    return frame


def test_a_better_challenger_is_promoted_and_served_and_rollback_restores_the_champion(champion, tmp_path):
    home, first = champion
    data = tmp_path / "new.csv"
    changed_concept(3000, seed=42).to_csv(data, index=False)
    with LiveServer(create_app(home, auth=False, monitor_every_s=0)) as url, httpx.Client(base_url=url) as client:
        assert client.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["version"] == first
        for _ in range(40):  # labeled production traffic joins the new data with --include-feedback
            request_id = client.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["predictions"][0]["request_id"]
            assert client.post("/v1/feedback", json={"request_id": request_id, "label": "yes"}).status_code == 200
        result = cli_json("--home", str(home), "retrain", "churn", "--data", str(data), "--time-budget", "30s",
                          "--include-feedback")
        assert result["rows"] == {"new_data": 3000, "labeled_traffic": 40}
        assert result["decision"] == "promote" and result["comparison"]["delta"]["low"] > 0
        assert result["champion"] == first and result["deployed"]
        second = result["challenger"]

        def served() -> str:
            return client.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["version"]

        deadline = time.time() + 10
        while served() != second and time.time() < deadline:
            time.sleep(0.2)
        assert served() == second, "the running server should follow the promotion"

        back = run_cli("--home", str(home), "rollback", "churn")
        assert back.returncode == 0 and f"from {second} to {first}" in back.stdout
        deadline = time.time() + 10
        while served() != first and time.time() < deadline:
            time.sleep(0.2)
        assert served() == first, "the running server should follow the rollback"
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert registry.resolve(session, "churn@production").ref == first
        new = registry.resolve(session, second)
        assert new.lineage["retrained_from"] == first and new.reference["features"]
        assert new.approved_by is not None and "measurably better" in new.approval_note
        assert verify(session).ok


def test_a_worse_challenger_is_registered_but_the_champion_is_kept(champion):
    home, first = champion
    with Workspace.open(home) as workspace:
        from depthgauge.monitor.retrain import retrain

        result = retrain(workspace, "churn", corrupted_history(3000, seed=43), time_budget="30s")
        assert result["decision"] == "keep" and "measurably worse" in result["why"]
        assert result["comparison"]["delta"]["high"] < 0
        with workspace.session() as session:
            assert registry.resolve(session, "churn@production").ref == first
            assert registry.resolve(session, "churn@candidate").ref == result["challenger"]
            assert deployments.active_deployments(session)[0].ref == first


def test_retrain_and_rollback_refuse_what_they_cannot_do(champion, tmp_path):
    home, first = champion
    no_time = tmp_path / "no_time.csv"
    churn_table(300, 8, seed=1).to_csv(no_time, index=False)
    result = run_cli("--home", str(home), "retrain", "churn", "--data", str(no_time))
    assert result.returncode == 2 and "time-ordered split on 'signup'" in result.stderr
    lacking = tmp_path / "lacking.csv"
    dated(churn_table(300, 8, seed=1)).drop(columns=["region"]).to_csv(lacking, index=False)
    result = run_cli("--home", str(home), "retrain", "churn", "--data", str(lacking))
    assert result.returncode == 2 and "lacks column(s) region" in result.stderr
    result = run_cli("--home", str(home), "rollback", "churn")
    assert result.returncode == 2 and "nothing to roll back to" in result.stderr
    with Workspace.open(home) as workspace, pytest.raises(DepthgaugeError, match="no production version"):
        from depthgauge.monitor.retrain import retrain

        retrain(workspace, "other", churn_table(100, 8))


def test_retrain_runs_the_replay_gate_when_the_policy_requires_it(champion, tmp_path):
    """A challenger measurably better on its holdout is still kept out of production when the gate fails: here the
    champion has served only 40 predictions, and the policy wants 200 to replay."""
    home, first = champion
    (home / "replay.yaml").write_text("required_for_production: true\nmin_rows: 200\n")
    with LiveServer(create_app(home, auth=False, monitor_every_s=0)) as url, httpx.Client(base_url=url) as client:
        for _ in range(40):
            assert client.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code == 200
    data = tmp_path / "new.csv"
    changed_concept(3000, seed=42).to_csv(data, index=False)
    result = cli_json("--home", str(home), "retrain", "churn", "--data", str(data), "--time-budget", "30s")
    assert result["comparison"]["delta"]["low"] > 0, "measurably better on its own holdout"
    assert result["decision"] == "keep" and "replay gate says fail" in result["why"]
    assert result["replay"]["rows"] == 40 and result["replay"]["production"] == first
    assert "only 40 logged predictions" in result["replay"]["gate"]["reasons"][0]
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert registry.resolve(session, "churn@production").ref == first
        assert registry.resolve(session, "churn@candidate").ref == result["challenger"]
