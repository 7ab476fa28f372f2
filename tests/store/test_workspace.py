import pytest
from sqlalchemy import inspect, text

from depthgauge.errors import DepthgaugeError
from depthgauge.store.db import head_revision
from depthgauge.workspace import Workspace, resolve_home
from tests.helpers.cli import run_cli


def test_open_creates_the_schema_in_wal_mode_and_reopens(home):
    workspace = Workspace.open(home)
    assert {"datasets", "assessments", "runs", "advice", "cost_projections", "checklist_marks", "vendor_scorecards",
            "api_keys", "audit_events", "audit_head", "registered_models", "model_versions", "model_aliases", "log_profiles",
            "monitor_snapshots", "alerts", "serving_counts", "endpoint_responses", "genai_evaluations", "genai_claims",
            "alembic_version"} <= set(inspect(workspace.engine).get_table_names())
    with workspace.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
    workspace.close()
    Workspace.open(home).close()  # migrating an up-to-date database is a no-op


def test_home_comes_from_argument_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEPTHGAUGE_HOME", raising=False)
    assert resolve_home() == tmp_path / ".depthgauge"
    monkeypatch.setenv("DEPTHGAUGE_HOME", str(tmp_path / "env"))
    assert resolve_home() == tmp_path / "env"
    assert resolve_home(tmp_path / "arg") == tmp_path / "arg"


def test_database_url_is_configurable(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("DEPTHGAUGE_DB_URL", url)
    workspace = Workspace.open(tmp_path / "ws")
    assert (tmp_path / "elsewhere.db").exists()
    assert not (tmp_path / "ws" / "depthgauge.db").exists()
    workspace.close()


def test_the_migrations_run_on_postgresql_and_reopening_is_a_no_op(tmp_path, postgres):
    url = postgres.create_database()
    workspace = Workspace.open(tmp_path / "ws", url)
    assert workspace.engine.dialect.name == "postgresql"
    assert {"datasets", "assessments", "runs", "model_versions", "audit_events", "prediction_log", "log_profiles",
            "monitor_snapshots", "alerts", "serving_counts"} <= set(inspect(workspace.engine).get_table_names())
    with workspace.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
    workspace.close()
    Workspace.open(tmp_path / "ws", url).close()
    assert not (tmp_path / "ws" / "depthgauge.db").exists(), "nothing is written to SQLite when PostgreSQL is set"


def _workspace_at(home, revision: str, *statements: tuple[str, dict]):
    """Create a workspace database at an older schema `revision` and run `statements` in it, as a release had left it."""
    from alembic import command

    from depthgauge.store.db import alembic_config, make_engine

    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'depthgauge.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement, parameters in statements:
            connection.execute(text(statement), parameters)
    engine.dispose()


def test_a_workspace_from_before_generative_features_keeps_its_reviews_as_prediction_reviews(tmp_path):
    from depthgauge.serve.reviews import queue

    home = tmp_path / "old"
    _workspace_at(home, "0006",
                  ("INSERT INTO prediction_log (request_id, model_name, ref, at, inputs, output, confidence, "
                   "latency_ms, review_status) VALUES ('r1', 'churn', 'churn:1', '2026-01-01', '{}', "
                   "'{\"prediction\": \"yes\"}', 0.5, 1.0, 'pending')", {}),
                  ("INSERT INTO reviews (id, request_id, model_name, reason, status, created_at) "
                   "VALUES ('v1', 'r1', 'churn', 'confidence 0.50 < 0.60', 'pending', '2026-01-01')", {}))
    with Workspace.open(home, upgrade=True) as workspace, workspace.session() as session:
        [review] = queue(session)
        assert review["kind"] == "prediction" and review["output"] == {"prediction": "yes"}


def test_a_workspace_from_before_key_limits_upgrades_and_its_keys_keep_working(tmp_path):
    from depthgauge.govern.keys import authenticate, hash_token

    home = tmp_path / "ws"
    _workspace_at(home, "0007",  # the schema of the previous release
                  ("INSERT INTO api_keys (id, name, role, key_hash, prefix, created_by, created_at) "
                   "VALUES ('k1', 'old', 'viewer', :hash, 'dg_old', 'me', '2026-01-01 00:00:00')",
                   {"hash": hash_token("dg_old-token")}))
    with Workspace.open(home, upgrade=True) as workspace, workspace.session() as session:  # to the newest schema
        key = authenticate(session, "dg_old-token")
        assert key is not None and key.name == "old" and key.rate_per_s is None and key.quota_per_day is None


def _revision(home) -> str:
    from depthgauge.store.db import current_revision, make_engine

    engine = make_engine(f"sqlite:///{home / 'depthgauge.db'}")
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_a_workspace_an_earlier_release_left_is_upgraded_only_by_init_and_serve(tmp_path):
    home = tmp_path / "ws"
    _workspace_at(home, "0007", ("INSERT INTO datasets (id, fingerprint, source, n_rows, n_columns, columns, "
                                 "created_at) VALUES ('d1', 'f', 'churn.csv', 10, 3, '[]', '2026-01-01')", {}))
    with pytest.raises(DepthgaugeError, match=r"schema 0007, from an earlier release.*depthgauge init"):
        Workspace.open(home)
    listed = run_cli("models", "list", env={"DEPTHGAUGE_HOME": str(home)})
    assert listed.returncode == 2 and "depthgauge init" in listed.stderr and "Traceback" not in listed.stderr
    assert _revision(home) == "0007", "a command other than init or serve changes nothing"

    upgraded = run_cli("init", "--json", env={"DEPTHGAUGE_HOME": str(home)})
    assert upgraded.returncode == 0, upgraded.stderr
    assert _revision(home) == head_revision()
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert session.execute(text("SELECT source FROM datasets")).scalars().all() == ["churn.csv"]


def test_a_workspace_a_newer_release_wrote_is_refused_with_the_fix(tmp_path):
    home = tmp_path / "ws"
    _workspace_at(home, head_revision(), ("UPDATE alembic_version SET version_num = '9999'", {}))
    for upgrade in (False, True):
        with pytest.raises(DepthgaugeError, match=r"schema 9999, which a newer release.*pip install -U depthgauge"):
            Workspace.open(home, upgrade=upgrade)
    assert _revision(home) == "9999"


def test_serving_starts_by_upgrading_the_workspace(tmp_path):
    from depthgauge.serve.app import create_api

    home = tmp_path / "ws"
    _workspace_at(home, "0008")
    app = create_api(home)
    app.state.serving.workspace.close()
    assert _revision(home) == head_revision()
