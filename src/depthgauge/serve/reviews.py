"""Human review decisions: approve the model's answer or correct it; either way the label becomes ground truth."""

from __future__ import annotations

from sqlalchemy import func, select

from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import FeedbackRow, PredictionLogRow, ReviewRow, utcnow

DECISIONS = ("approve", "correct")


class ReviewConflict(DepthgaugeError):
    """The review was already decided."""


def decide(session, review_id: str, decision: str, label, actor: str) -> ReviewRow:
    """Record `actor`'s decision on a pending review, store its label as feedback, and audit it."""
    if decision not in DECISIONS:
        raise DepthgaugeError("decision must be 'approve' or 'correct'")
    review = session.get(ReviewRow, review_id)
    if review is None:
        raise DepthgaugeError(f"No review '{review_id}'.")
    if review.status != "pending":
        raise ReviewConflict(f"Review '{review_id}' was already decided ({review.status} by {review.decided_by}).")
    if decision == "correct" and (label is None or str(label).strip() == ""):
        raise DepthgaugeError("a correction needs the right label")
    logged = session.get(PredictionLogRow, review.request_id)
    chosen = logged.output["prediction"] if decision == "approve" else label
    review.status = "approved" if decision == "approve" else "corrected"
    review.label, review.decided_by, review.decided_at = json_ready(chosen), actor, utcnow()
    logged.review_status = review.status
    session.add(FeedbackRow(request_id=review.request_id, label=json_ready(chosen), source="review", given_by=actor))
    audit.record(session, actor, "review.decide", f"review:{review_id}",
                 {"decision": decision, "label": chosen, "request_id": review.request_id})
    return review


def pending_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ReviewRow).where(ReviewRow.status == "pending"))


def queue(session, status: str = "pending", model: str | None = None, limit: int = 100) -> list[dict]:
    query = select(ReviewRow, PredictionLogRow).join(PredictionLogRow, PredictionLogRow.request_id == ReviewRow.request_id)
    if status != "all":
        query = query.where(ReviewRow.status == status)
    if model is not None:
        query = query.where(ReviewRow.model_name == model)
    rows = session.execute(query.order_by(ReviewRow.created_at).limit(limit)).all()
    return [{"id": r.id, "request_id": r.request_id, "model": r.model_name, "reason": r.reason, "status": r.status,
             "label": r.label, "decided_by": r.decided_by, "inputs": p.inputs, "output": p.output,
             "confidence": p.confidence} for r, p in rows]
