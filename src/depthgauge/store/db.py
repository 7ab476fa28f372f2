"""The metadata database: engine creation (SQLite in WAL mode by default) and Alembic migrations."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from depthgauge.errors import DepthgaugeError

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


def prepare(engine: Engine, upgrade: bool) -> None:
    """Make sure the database has this release's schema: create it in an empty database; migrate one an older
    release left only when `upgrade` (`depthgauge init` and `depthgauge serve`), else refuse with the fix.
    A database already at the newest schema costs one query."""
    current = current_revision(engine)
    if current == head_revision():
        return
    if current is not None:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        try:
            ScriptDirectory.from_config(alembic_config()).get_revision(current)
        except CommandError:
            raise DepthgaugeError(
                f"The workspace database ({engine.url.render_as_string(hide_password=True)}) is at schema "
                f"{current}, which a newer release of depthgauge wrote; this release knows schemas up to "
                f"{head_revision()}. Upgrade depthgauge: pip install -U depthgauge") from None
        if not upgrade:
            raise DepthgaugeError(
                f"The workspace database ({engine.url.render_as_string(hide_password=True)}) is at schema "
                f"{current}, from an earlier release; this release needs {head_revision()}. Upgrade it in place, "
                "keeping its data, with: depthgauge init (depthgauge serve upgrades it too)")
    config = alembic_config()
    with _MIGRATING, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
