"""Who is calling: an API key, checked against its stored hash, its role's permissions and its request rate.

One gate per server, shared by the API and the dashboard. Every authenticated route of the API asks
`KeyGate.caller`, and a refusal is an HTTPException (401, 403 or 429) that names the reason; the dashboard signs
in with `KeyGate.key` and checks its sessions' keys with `KeyGate.is_live`. A checked key is cached for
KEY_CACHE_SECONDS, so a revoked key is refused within that time on every server of the workspace (and signs its
dashboard sessions out), while a busy key costs no database read per request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fastapi import HTTPException

from depthgauge.govern.keys import allowed, authenticate
from depthgauge.serve.limits import KeyLimits
from depthgauge.store.tables import ApiKeyRow

KEY_CACHE_SECONDS = 0.5


@dataclass
class Caller:
    name: str
    role: str
    key_id: str | None = None
    quota_per_day: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller: "key:NAME", or "anonymous" with authentication off."""
        return "anonymous" if self.key_id is None else f"key:{self.name}"


ANONYMOUS = Caller("anonymous", "admin")


def token_of(authorization: str | None, api_key: str | None) -> str | None:
    """The key a request presents: 'Authorization: Bearer KEY', else the X-API-Key header."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:]
    return api_key


class KeyGate:
    def __init__(self, workspace, limits: KeyLimits, enabled: bool = True, on_limited=None, clock=time.monotonic):
        self.workspace, self.limits, self.enabled, self.clock = workspace, limits, enabled, clock
        self.on_limited = on_limited  # called with (key name, "rate") when a request is over its key's rate
        self.seen: dict[str, tuple[float, ApiKeyRow]] = {}  # token -> (valid until, the key's row)
        self.live: dict[str, float] = {}  # key id -> until when it is known not to be revoked (dashboard sessions)

    def caller(self, token: str | None, permission: str) -> Caller:
        """The caller presenting `token`, if it may `permission` now; else raise the HTTPException that says why."""
        if not self.enabled:
            return ANONYMOUS
        key = self.key(token)
        if key is None:
            raise HTTPException(401, "Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.",
                                headers={"WWW-Authenticate": "Bearer"})
        if not allowed(key.role, permission):
            raise HTTPException(403, f"The {key.role} role may not {permission}.")
        wait = self.limits.take_request(key.id, key.rate_per_s)
        if wait is not None:
            if self.on_limited is not None:
                self.on_limited(key.name, "rate")
            raise HTTPException(429, f"Key '{key.name}' is over its rate of {key.rate_per_s:g} requests a second. "
                                     "Retry after the time in Retry-After.",
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return Caller(key.name, key.role, key.id, key.quota_per_day)

    def is_live(self, key_id: str) -> bool:
        """Whether the key `key_id` still exists unrevoked (a dashboard session signed by it is then still good)."""
        if self.live.get(key_id, float("-inf")) >= self.clock():
            return True
        with self.workspace.session() as session:
            row = session.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            self.live.pop(key_id, None)
            return False
        self.live[key_id] = self.clock() + KEY_CACHE_SECONDS
        return True

    def key(self, token: str | None) -> ApiKeyRow | None:
        """The live key presenting `token`, or None (checked against its stored hash, cached briefly)."""
        if not token:
            return None
        cached = self.seen.get(token)
        if cached is not None and cached[0] >= self.clock():
            return cached[1]
        with self.workspace.session() as session:
            row = authenticate(session, token)
            if row is not None:
                session.expunge(row)
        if row is None:
            self.seen.pop(token, None)
            return None
        self.seen[token] = (self.clock() + KEY_CACHE_SECONDS, row)
        return row
