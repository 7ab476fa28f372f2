"""Dashboard sign-in: an API key is exchanged for a signed session cookie carrying a CSRF token.

The cookie holds the key's id, name and role, an expiry and a CSRF token, signed with HMAC-SHA256
under a secret kept in the workspace (so every server over the workspace accepts it). Every
request re-checks that the key is still live, so revoking a key signs its sessions out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "depthgauge_session"
LIFETIME_S = 8 * 3600


@dataclass(frozen=True)
class Session:
    key_id: str
    name: str
    role: str
    csrf: str
    expires: float


def secret_for(home: Path) -> bytes:
    """Return the workspace's session secret, creating it (readable by the owner only) on first use."""
    path = Path(home) / "session.key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _sign(secret: bytes, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, payload, hashlib.sha256).digest()).decode().rstrip("=")


def issue(secret: bytes, key_id: str, name: str, role: str) -> tuple[str, Session]:
    session = Session(key_id, name, role, secrets.token_urlsafe(24), time.time() + LIFETIME_S)
    payload = base64.urlsafe_b64encode(json.dumps(session.__dict__).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload.encode())}", session


def read(secret: bytes, cookie: str | None) -> Session | None:
    """Return the session in `cookie` if its signature holds and it has not expired, else None."""
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret, payload.encode()), signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(**data)
    except (ValueError, TypeError):
        return None
    return session if session.expires > time.time() else None
