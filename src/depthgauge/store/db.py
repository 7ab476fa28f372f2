"""The metadata database: engine creation (SQLite in WAL mode by default) and Alembic migrations."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"
_HEAD: list[str] = []
_MIGRATING = threading.Lock()  # Alembic's command API keeps module-global state: one migration at a time per process


def make_engine(url: str) -> Engine:
    """Return an engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")  # a commit survives power loss, not just a crash
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration's revision (read from the migration scripts once per process)."""
    if not _HEAD:
        from alembic.script import ScriptDirectory

        _HEAD.append(ScriptDirectory.from_config(alembic_config()).get_current_head())
    return _HEAD[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a new database."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration; a database already there costs one query."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with _MIGRATING, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
