"""API keys: random 256-bit tokens, stored only as SHA-256 hashes, each with one role."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit
from depthgauge.store.tables import ApiKeyRow, current_user, utcnow

ROLES = ("admin", "deployer", "reviewer", "predictor", "viewer")
PERMISSIONS = {
    "view": set(ROLES),
    "predict": {"admin", "deployer", "predictor"},
    "feedback": {"admin", "deployer", "predictor", "reviewer"},
    "review": {"admin", "reviewer"},
    "deploy": {"admin", "deployer"},
    "admin": {"admin"},
}
TOKEN_PREFIX = "dg_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def create_key(session: Session, name: str, role: str) -> tuple[ApiKeyRow, str]:
    """Create a key and return it with its token; the token is shown once and never stored."""
    if role not in ROLES:
        raise DepthgaugeError(f"Unknown role '{role}'. Roles: {', '.join(ROLES)}.")
    if not name or not name.strip():
        raise DepthgaugeError("A key needs a name that says who or what uses it, e.g. --name billing-service.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes: 256 bits
    row = ApiKeyRow(name=name.strip(), role=role, key_hash=hash_token(token), prefix=token[:10])
    session.add(row)
    session.flush()
    audit.record(session, current_user(), "key.create", f"key:{row.id}", {"name": row.name, "role": role})
    return row, token


def authenticate(session: Session, token: str | None) -> ApiKeyRow | None:
    """Return the live key for `token`, or None. The stored hash is compared in constant time."""
    if not token:
        return None
    presented = hash_token(token)
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == presented)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, presented):
        return None
    return row


def revoke(session: Session, key_id: str) -> ApiKeyRow:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise DepthgaugeError(f"No key '{key_id}'. List keys with: depthgauge keys list")
    if row.revoked_at is not None:
        raise DepthgaugeError(f"Key '{key_id}' ({row.name}) is already revoked.")
    row.revoked_at = utcnow()
    audit.record(session, current_user(), "key.revoke", f"key:{row.id}", {"name": row.name, "role": row.role})
    return row


def list_keys(session: Session) -> list[dict]:
    return [{"id": k.id, "name": k.name, "role": k.role, "prefix": k.prefix, "created_by": k.created_by,
             "created_at": k.created_at.isoformat(), "revoked": k.revoked_at is not None}
            for k in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def has_keys(session: Session) -> bool:
    return session.scalars(select(ApiKeyRow.id).limit(1)).first() is not None
