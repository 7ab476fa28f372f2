"""API keys: random 256-bit tokens, stored only as SHA-256 hashes, each with one role."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError, NotFound
from depthgauge.govern import audit
from depthgauge.store.tables import ApiKeyRow, KeyUsageRow, actor_of, utcnow

ROLES = ("admin", "deployer", "reviewer", "predictor", "viewer")
# Least privilege: a predictor key predicts, lists the deployed models' inputs, and gives feedback on its own
# predictions; it reads nothing else (not the audit log, other callers' logged inputs, monitoring or the dashboard).
PERMISSIONS = {
    "discover": set(ROLES),
    "view": {"admin", "deployer", "reviewer", "viewer"},
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


_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
_SIZE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_rate(text: str | None) -> float | None:
    """Return requests per second for `50/s`, `600/min` or `10000/h`; None for no limit."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*", str(text).lower())
    if not match or match.group(2) not in _PER or float(match.group(1)) <= 0:
        raise DepthgaugeError(f"Cannot read the rate '{text}'. Write a positive number per second, minute or hour, "
                              "e.g. --rate 50/s or --rate 600/min.")
    return float(match.group(1)) / _PER[match.group(2)]


def parse_quota(text: str | None) -> int | None:
    """Return predictions per UTC day for `1M/day`, `50k/day` or `20000`; None for no quota."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmb]?)\s*(?:/\s*(day|d))?\s*", str(text).lower())
    if not match or float(match.group(1)) * _SIZE[match.group(2)] < 1:
        raise DepthgaugeError(f"Cannot read the quota '{text}'. Write predictions per day of 1 or more, e.g. "
                              "--quota 1M/day or --quota 50k/day.")
    return int(round(float(match.group(1)) * _SIZE[match.group(2)]))


def create_key(session: Session, name: str, role: str, rate: str | None = None,
               quota: str | None = None) -> tuple[ApiKeyRow, str]:
    """Create a key and return it with its token; the token is shown once and never stored.

    `rate` ("50/s") limits its requests, `quota` ("1M/day") the rows it may predict each UTC day.
    """
    rate_per_s, quota_per_day = parse_rate(rate), parse_quota(quota)
    if role not in ROLES:
        raise DepthgaugeError(f"Unknown role '{role}'. Roles: {', '.join(ROLES)}.")
    if not name or not name.strip():
        raise DepthgaugeError("A key needs a name that says who or what uses it, e.g. --name billing-service.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes: 256 bits
    row = ApiKeyRow(name=name.strip(), role=role, key_hash=hash_token(token), prefix=token[:10],
                    rate_per_s=rate_per_s, quota_per_day=quota_per_day)
    session.add(row)
    session.flush()
    audit.record(session, actor_of(session), "key.create", f"key:{row.id}",
                 {"name": row.name, "role": role, "rate_per_s": rate_per_s, "quota_per_day": quota_per_day})
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
        raise NotFound(f"No key '{key_id}'. List keys with: depthgauge keys list")
    if row.revoked_at is not None:
        raise DepthgaugeError(f"Key '{key_id}' ({row.name}) is already revoked.")
    row.revoked_at = utcnow()
    audit.record(session, actor_of(session), "key.revoke", f"key:{row.id}", {"name": row.name, "role": row.role})
    return row


def list_keys(session: Session) -> list[dict]:
    """Every key, with its limits and the predictions it made today (UTC; counted by the servers every ~2 s)."""
    today = utcnow().date().isoformat()
    used = dict(session.execute(select(KeyUsageRow.key_id, KeyUsageRow.predictions).where(KeyUsageRow.day == today)).all())
    return [{"id": k.id, "name": k.name, "role": k.role, "prefix": k.prefix, "created_by": k.created_by,
             "created_at": k.created_at.isoformat(), "revoked": k.revoked_at is not None,
             "rate_per_s": k.rate_per_s, "quota_per_day": k.quota_per_day, "predictions_today": used.get(k.id, 0)}
            for k in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def has_keys(session: Session) -> bool:
    return session.scalars(select(ApiKeyRow.id).limit(1)).first() is not None
