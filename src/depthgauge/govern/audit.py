"""The append-only, hash-chained audit log of every state-changing action.

Each event stores the hash of the one before it; `verify` recomputes the chain and names the
first event that was altered or removed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import AuditEventRow, AuditHeadRow, utcnow

GENESIS = "0" * 64


def _digest(seq: int, at: str, actor: str, action: str, obj: str, details: dict, prev_hash: str) -> str:
    canonical = json.dumps([seq, at, actor, action, obj, details, prev_hash], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(session: Session, actor: str, action: str, obj: str, details: dict | None = None) -> AuditEventRow:
    """Append one event in the caller's transaction, so it is stored if and only if the change is."""
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq + 1))
    head = session.get(AuditHeadRow, 1, populate_existing=True)
    details = json_ready(details or {})
    at = utcnow().isoformat()
    event = AuditEventRow(seq=head.seq, at=at, actor=actor, action=action, object=obj, details=details,
                          prev_hash=head.hash, hash=_digest(head.seq, at, actor, action, obj, details, head.hash))
    session.add(event)
    head.hash = event.hash
    return event


@dataclass
class Verification:
    ok: bool
    events: int
    problem: str | None = None
    first_bad_seq: int | None = None


def verify(session: Session) -> Verification:
    """Recompute the chain; return where it first breaks, if it does."""
    previous, expected_seq, count = GENESIS, 1, 0
    for event in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)):
        count += 1
        if event.seq != expected_seq:
            return Verification(False, count, f"event {expected_seq} is missing (removed from the log)", expected_seq)
        if event.prev_hash != previous:
            return Verification(False, count, f"event {event.seq} does not follow event {event.seq - 1}: the chain was "
                                              "broken or an event was removed", event.seq)
        recomputed = _digest(event.seq, event.at, event.actor, event.action, event.object, event.details, event.prev_hash)
        if recomputed != event.hash:
            return Verification(False, count, f"event {event.seq} ({event.action} on {event.object}) was altered",
                                event.seq)
        previous, expected_seq = event.hash, expected_seq + 1
    head = session.get(AuditHeadRow, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous):
        return Verification(False, count, f"the log ends at event {expected_seq - 1} but {head.seq} were written: "
                                          "the last events were removed", expected_seq)
    return Verification(True, count)


def events_for(session: Session, obj_prefix: str) -> list[AuditEventRow]:
    return list(session.scalars(select(AuditEventRow).where(AuditEventRow.object.startswith(obj_prefix))
                                .order_by(AuditEventRow.seq)))
