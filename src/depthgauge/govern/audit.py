"""The append-only, hash-chained audit log of every state-changing action.

Each event stores the hash of the one before it; `verify` recomputes the chain and names the
first event that was altered or removed. Two things outside the database keep someone who can
write it from rewriting the log unseen:
- the chain is keyed: each hash is an HMAC-SHA256 under a secret in the workspace folder
  (`audit.key`, mode 0600, made when the workspace is first opened), so an edited event cannot be
  re-chained without the secret. `depthgauge audit rotate-key` starts a new secret from the next
  event; the old ones stay in the file to verify the events they sealed. Events written before a
  workspace had a key keep their plain SHA-256 links, sealed by the first keyed event after them.
- the head is anchored: after each commit the event's number and hash are appended to
  `audit.head`, so removing the last events, or rewriting everything with the secret, still
  disagrees with the anchor.
Every server of a workspace needs the same `audit.key`: copy it with the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import event as sql_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from depthgauge.store.jsonable import json_ready
from depthgauge.store.seal import HEAD_FILE, seal_of
from depthgauge.store.tables import AuditEventRow, AuditHeadRow, utcnow

GENESIS = "0" * 64


def rotate_key(session: Session, actor: str) -> AuditEventRow:
    """Start a new audit secret from the next event, and record that it was started (sealed by the new one)."""
    seal = seal_of(session)
    head = session.get(AuditHeadRow, 1, populate_existing=True)
    seal.rotate(head.seq + 1)
    return record(session, actor, "audit.rotate_key", "audit", {"from_event": head.seq + 1})


def _digest(seq: int, at: str, actor: str, action: str, obj: str, details: dict, prev_hash: str,
            key: bytes | None) -> str:
    canonical = json.dumps([seq, at, actor, action, obj, details, prev_hash], sort_keys=True,
                           separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest() if key else hashlib.sha256(canonical).hexdigest()


def record(session: Session, actor: str, action: str, obj: str, details: dict | None = None) -> AuditEventRow:
    """Append one event in the caller's transaction, so it is stored if and only if the change is; once it is
    committed, its number and hash are anchored outside the database."""
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq + 1))
    head = session.get(AuditHeadRow, 1, populate_existing=True)
    details = json_ready(details or {})
    at = utcnow().isoformat()
    seal = seal_of(session)
    key = seal.key_for(head.seq) if seal is not None else None
    event = AuditEventRow(seq=head.seq, at=at, actor=actor, action=action, object=obj, details=details,
                          prev_hash=head.hash, hash=_digest(head.seq, at, actor, action, obj, details, head.hash, key))
    session.add(event)
    head.hash = event.hash
    if seal is not None:
        if "audit_heads" not in session.info:
            session.info["audit_heads"] = []
            sql_event.listen(session, "after_commit", _anchor_committed)
            sql_event.listen(session, "after_rollback", lambda s: s.info.get("audit_heads", []).clear())
        session.info["audit_heads"].append((event.seq, event.hash))
    return event


def _anchor_committed(session: Session) -> None:
    heads, session.info["audit_heads"] = session.info.get("audit_heads", []), []
    if heads:
        seal_of(session).anchor(heads)


@dataclass
class Verification:
    ok: bool
    events: int
    problem: str | None = None
    first_bad_seq: int | None = None


def verify(session: Session) -> Verification:
    """Recompute the chain under the workspace's secrets and hold it against the anchored heads; return where it
    first breaks, if it does."""
    seal = seal_of(session)
    anchored = seal.anchored() if seal is not None else {}
    previous, expected_seq, count = GENESIS, 1, 0
    for event in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)):
        count += 1
        if event.seq != expected_seq:
            return Verification(False, count, f"event {expected_seq} is missing (removed from the log)", expected_seq)
        if event.prev_hash != previous:
            return Verification(False, count, f"event {event.seq} does not follow event {event.seq - 1}: the chain was "
                                              "broken or an event was removed", event.seq)
        key = seal.key_for(event.seq) if seal is not None else None
        recomputed = _digest(event.seq, event.at, event.actor, event.action, event.object, event.details,
                             event.prev_hash, key)
        if not hmac.compare_digest(recomputed, event.hash) or anchored.get(event.seq, event.hash) != event.hash:
            return Verification(False, count, f"event {event.seq} ({event.action} on {event.object}) was altered",
                                event.seq)
        previous, expected_seq = event.hash, expected_seq + 1
    head = session.get(AuditHeadRow, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous):
        return Verification(False, count, f"the log ends at event {expected_seq - 1} but {head.seq} were written: "
                                          "the last events were removed", expected_seq)
    last = max(anchored, default=0)
    if last > expected_seq - 1:
        return Verification(False, count, f"the log ends at event {expected_seq - 1} but event {last} was anchored "
                                          f"in {HEAD_FILE}: the last events were removed", expected_seq)
    return Verification(True, count)


def events_for(session: Session, obj_prefix: str) -> list[AuditEventRow]:
    return list(session.scalars(select(AuditEventRow).where(AuditEventRow.object.startswith(obj_prefix))
                                .order_by(AuditEventRow.seq)))
