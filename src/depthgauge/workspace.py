"""Where the metadata database and the artifact store live: opened once per process, passed down."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from depthgauge.errors import DepthgaugeError
from depthgauge.store.artifacts import ArtifactStore
from depthgauge.store.db import make_engine, prepare
from depthgauge.store.seal import attach_seal

DEFAULT_HOME = ".depthgauge"


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    """Return the workspace folder: the argument, else $DEPTHGAUGE_HOME, else ./.depthgauge."""
    chosen = home or os.environ.get("DEPTHGAUGE_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


@dataclass
class Workspace:
    home: Path
    engine: Engine
    artifacts: ArtifactStore

    @classmethod
    def open(cls, home: str | os.PathLike | None = None, db_url: str | None = None,
             upgrade: bool = False) -> "Workspace":
        """Return the workspace at `home`, creating it when new. A database an earlier release left is migrated
        to this release's schema only when `upgrade` (`init` and `serve` ask for it); otherwise opening it
        raises a `DepthgaugeError` that says how to upgrade, and nothing is changed."""
        root = resolve_home(home)
        root.mkdir(parents=True, exist_ok=True)
        url = db_url or os.environ.get("DEPTHGAUGE_DB_URL") or f"sqlite:///{root / 'depthgauge.db'}"
        engine = make_engine(url)
        try:
            prepare(engine, upgrade)
        except DepthgaugeError:
            engine.dispose()
            raise
        if url.startswith("sqlite:///"):  # the database and its journal hold logged inputs: the owner's alone
            for suffix in ("", "-wal", "-shm"):
                found = Path(url[len("sqlite:///"):] + suffix)
                if found.exists() and found.stat().st_mode & 0o077:
                    found.chmod(0o600)
        artifacts = ArtifactStore(os.environ.get("DEPTHGAUGE_ARTIFACTS") or root / "artifacts")
        attach_seal(engine, root)
        return cls(home=root, engine=engine, artifacts=artifacts)

    @property
    def reports_dir(self) -> Path:
        path = self.home / "reports"
        path.mkdir(exist_ok=True)
        return path

    @contextmanager
    def transaction(self, actor: str | None = None):
        """Yield a session whose work is committed together, or not at all, done by `actor` (an API key as
        "key:NAME"; default: the person at this terminal). The audit log and the *_by columns record it."""
        factory = sessionmaker(self.engine, expire_on_commit=False)
        with factory.begin() as session:
            if actor is not None:
                session.info["actor"] = actor
            yield session

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
