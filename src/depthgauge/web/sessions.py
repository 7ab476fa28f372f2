"""Dashboard sign-in, kept server-side: an API key is exchanged for a random session token in a cookie.

The database holds only the token's SHA-256 hash, with the key's id, name and role, a CSRF token and an expiry,
so every server of the workspace reads the same sessions. Signing out ends the session everywhere at once, and
every request re-checks that the key is still live, so revoking a key signs its sessions out too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete

from depthgauge.store.tables import DashboardSessionRow

COOKIE = "depthgauge_session"
LIFETIME_S = 8 * 3600


@dataclass(frozen=True)
class Session:
    key_id: str
    name: str
    role: str
    csrf: str
    expires: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(workspace, key_id: str, name: str, role: str) -> tuple[str, Session]:
    """Start a session for the key; return the cookie's token and the session. Expired sessions are cleared."""
    token, now = secrets.token_urlsafe(32), time.time()
    session = Session(key_id, name, role, secrets.token_urlsafe(24), now + LIFETIME_S)
    with workspace.transaction() as db:
        db.execute(delete(DashboardSessionRow).where(DashboardSessionRow.expires < now))
        db.add(DashboardSessionRow(token_hash=_hash(token), key_id=key_id, name=name, role=role, csrf=session.csrf,
                                   expires=session.expires, ended=False))
    return token, session


def read(workspace, token: str | None) -> Session | None:
    """Return the live session the cookie's token names, else None (unknown, signed out or expired)."""
    if not token or len(token) > 128:
        return None
    with workspace.session() as db:
        row = db.get(DashboardSessionRow, _hash(token))
    if row is None or row.ended or row.expires <= time.time():
        return None
    return Session(row.key_id, row.name, row.role, row.csrf, row.expires)


def end(workspace, token: str) -> None:
    """Sign the session out: its cookie is refused from now on, by every server."""
    with workspace.transaction() as db:
        row = db.get(DashboardSessionRow, _hash(token))
        if row is not None:
            row.ended = True
