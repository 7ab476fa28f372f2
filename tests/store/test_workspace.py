from sqlalchemy import inspect, text

from depthgauge.workspace import Workspace, resolve_home


def test_open_creates_the_schema_in_wal_mode_and_reopens(home):
    workspace = Workspace.open(home)
    assert {"datasets", "assessments", "runs", "advice", "cost_projections", "checklist_marks", "vendor_scorecards",
            "api_keys", "audit_events", "audit_head", "registered_models", "model_versions", "model_aliases", "log_profiles",
            "monitor_snapshots", "alerts", "serving_counts", "endpoint_responses", "genai_evaluations", "genai_claims",
            "alembic_version"} <= set(inspect(workspace.engine).get_table_names())
    with workspace.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
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
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
    workspace.close()
    Workspace.open(tmp_path / "ws", url).close()
    assert not (tmp_path / "ws" / "depthgauge.db").exists(), "nothing is written to SQLite when PostgreSQL is set"
