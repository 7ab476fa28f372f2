"""Log profiles: the log is folded once, incrementally, without duplicates; windows merge whole profiles."""

import threading

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from depthgauge.monitor import drift, profiles
from depthgauge.monitor.report import monitored_version
from depthgauge.server import create_app
from depthgauge.store.tables import LogProfileRow, PredictionLogRow
from depthgauge.workspace import Workspace
from tests.helpers.monitoring import post_traffic, settle_log, traffic
from tests.helpers.servers import LiveServer


def _log(home, records):
    with LiveServer(create_app(home, auth=False, monitor_every_s=0)) as url, httpx.Client(base_url=url, timeout=30) as c:
        post_traffic(c, records)
    settle_log(home)  # the monitor reads log rows once they are settled


def test_folding_is_incremental_and_windows_take_whole_recent_profiles(workspace_copy, monkeypatch):
    home, _, ref = workspace_copy
    monkeypatch.setattr(profiles, "CHUNK_ROWS", 100)
    _log(home, traffic(seed=1, rows=250)[0])
    with Workspace.open(home) as workspace:
        with workspace.session() as session:
            version = monitored_version(session, "churn")
        assert profiles.fold_new_predictions(workspace, version.id) == 250
        assert profiles.fold_new_predictions(workspace, version.id) == 0
        with workspace.session() as session:
            sizes = session.scalars(select(LogProfileRow.rows).order_by(LogProfileRow.last_at)).all()
        assert sizes == [100, 100, 50]
    _log(home, traffic(seed=2, rows=100)[0])
    with Workspace.open(home) as workspace:
        assert profiles.fold_new_predictions(workspace, version.id) == 100
        with workspace.session() as session:
            version = monitored_version(session, "churn")
            window = profiles.read_window(session, version, profiles.WindowSpec(last=120))
            everything = profiles.read_window(session, version, profiles.WindowSpec(since=profiles.parse_window("1h").since))
        assert window.predictions == 150 and everything.predictions == 350
        assert sum(window.outputs["counts"].values()) == 150
        assert sum(everything.features["monthly_charges"]["counts"]) + everything.features["monthly_charges"]["missing"] == 350


def test_two_monitors_folding_at_once_do_not_count_a_prediction_twice(workspace_copy, monkeypatch):
    home, _, _ = workspace_copy
    monkeypatch.setattr(profiles, "CHUNK_ROWS", 50)
    _log(home, traffic(seed=3, rows=300)[0])
    with Workspace.open(home) as workspace:
        with workspace.session() as session:
            version_id = monitored_version(session, "churn").id
        folded = []
        threads = [threading.Thread(target=lambda: folded.append(profiles.fold_new_predictions(workspace, version_id)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with workspace.session() as session:
            profiled = session.scalar(select(func.sum(LogProfileRow.rows)))
            logged = session.scalar(select(func.count()).select_from(PredictionLogRow))
    assert profiled == logged == 300 and sum(folded) == 300


def test_merged_summaries_measure_exactly_what_one_summary_of_all_rows_does(monitored_workspace):
    from depthgauge.data.synth import churn_table

    home, _, ref, url = monitored_workspace
    with Workspace.open(home, url) as workspace, workspace.session() as session:
        reference = monitored_version(session, ref).reference
    frame = churn_table(3000, 8, seed=9)
    whole = drift.profile_frame(reference, frame)
    parts = [drift.profile_frame(reference, frame.iloc[i:i + 700]) for i in range(0, 3000, 700)]
    for name in reference["features"]:
        merged = drift.merge([p[name] for p in parts])
        assert merged["counts"] == whole[name]["counts"]
        rng = np.random.default_rng(0)
        assert drift.compare(reference["features"][name], merged, 0.05, rng)["psi"] == pytest.approx(
            drift.compare(reference["features"][name], whole[name], 0.05, rng)["psi"])


def test_monitor_snapshots_are_kept_to_a_bounded_number_per_model(workspace_copy, monkeypatch):
    from depthgauge.monitor import service
    from depthgauge.store.tables import MonitorSnapshotRow

    home, _, _ = workspace_copy
    monkeypatch.setattr(service, "KEEP_SNAPSHOTS", 3)
    with Workspace.open(home) as workspace:
        for _ in range(5):
            service.run_monitor(workspace, ["churn"])
        with workspace.session() as session:
            kept = session.scalar(select(func.count()).select_from(MonitorSnapshotRow)
                                  .where(MonitorSnapshotRow.model_name == "churn"))
    assert kept == 3
