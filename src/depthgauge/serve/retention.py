"""Retention of logged data: purge by age, delete by request id; both audited, both remove reviews and labels too."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError, NotFound
from depthgauge.govern import audit
from depthgauge.store.tables import FeedbackRow, PredictionLogRow, ReviewRow, actor_of


def parse_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DepthgaugeError(f"'{text}' is not a date. Write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _remove(session: Session, request_ids: list[str]) -> int:
    for table in (FeedbackRow, ReviewRow):
        session.execute(delete(table).where(table.request_id.in_(request_ids)))
    return session.execute(delete(PredictionLogRow).where(PredictionLogRow.request_id.in_(request_ids))).rowcount


def purge_before(session: Session, before: datetime) -> int:
    """Delete every logged prediction older than `before`, with its reviews and labels; return how many."""
    ids = list(session.scalars(select(PredictionLogRow.request_id).where(PredictionLogRow.at < before)))
    removed = sum(_remove(session, ids[i:i + 500]) for i in range(0, len(ids), 500))
    audit.record(session, actor_of(session), "logs.purge", "prediction_log", {"before": before.isoformat(), "deleted": removed})
    return removed


def delete_requests(session: Session, request_ids: list[str]) -> int:
    missing = [r for r in request_ids if session.get(PredictionLogRow, r) is None]
    if missing:
        raise NotFound(f"No logged prediction with request id {', '.join(missing)}; nothing was deleted.")
    removed = _remove(session, request_ids)
    audit.record(session, actor_of(session), "logs.delete", "prediction_log", {"request_ids": request_ids})
    return removed
