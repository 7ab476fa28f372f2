"""Human review decisions: approve the model's answer or correct it; either way the label becomes ground truth.

A review is of a served prediction, or of a claim: a sentence of a generated answer that the groundedness
detector found unsupported (see genai/). Approving a claim's review confirms it is unsupported; correcting it
with the label "supported" says the contexts do support it. The label replaces the detector's decision.
"""

from __future__ import annotations

import math

from sqlalchemy import func, select

from depthgauge.errors import Conflict, InvalidField, NotFound
from depthgauge.govern import audit
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import FeedbackRow, GenaiClaimRow, PredictionLogRow, ReviewRow, utcnow

DECISIONS = ("approve", "correct")
CLAIM_LABELS = ("supported", "unsupported")


class ReviewConflict(Conflict):
    """The review was already decided."""


LABELLERS = ("admin", "deployer", "reviewer")  # may label any prediction; a predictor key only its own


def check_label(logged: PredictionLogRow, label):
    """Return `label` as the model's answers are written (a class it predicts, or a finite number for a regressor),
    or raise `InvalidField` naming what it may be: a wrong label would feed the quality alerts and retraining."""
    classes = (logged.output or {}).get("probabilities")
    if classes:
        text = str(label).strip() if isinstance(label, (str, int, float)) and not isinstance(label, bool) else None
        if text not in classes:
            raise InvalidField("label", f"{label!r} is not a class of model '{logged.model_name}'; its classes are "
                                        f"{', '.join(map(str, classes))}")
        return text
    if isinstance(label, bool) or not isinstance(label, (int, float)) or not math.isfinite(label):
        raise InvalidField("label", f"model '{logged.model_name}' predicts a number; {label!r} is not a finite number")
    return float(label)


def check_labeller(logged: PredictionLogRow, role: str, key_id: str | None) -> None:
    """Feedback on a prediction comes from the key that asked for it, or from a labeller (reviewer and up)."""
    if role not in LABELLERS and logged.key_id is not None and logged.key_id != key_id:
        raise NotFound(f"No prediction with request id '{logged.request_id}' made with this key.")


def decide(session, review_id: str, decision: str, label, actor: str) -> ReviewRow:
    """Record `actor`'s decision on a pending review, store its label as feedback, and audit it."""
    if decision not in DECISIONS:
        raise InvalidField("decision", "decision must be 'approve' or 'correct'")
    review = session.get(ReviewRow, review_id)
    if review is None:
        raise NotFound(f"No review '{review_id}'.")
    if review.status != "pending":
        raise ReviewConflict(f"Review '{review_id}' was already decided ({review.status} by {review.decided_by}).")
    if decision == "correct" and (label is None or str(label).strip() == ""):
        raise InvalidField("label", "a correction needs the right label")
    if review.kind == "claim":
        return _decide_claim(session, review, decision, label, actor)
    logged = session.get(PredictionLogRow, review.request_id)
    chosen = logged.output["prediction"] if decision == "approve" else check_label(logged, label)
    review.status = "approved" if decision == "approve" else "corrected"
    review.label, review.decided_by, review.decided_at = json_ready(chosen), actor, utcnow()
    logged.review_status = review.status
    session.add(FeedbackRow(request_id=review.request_id, label=json_ready(chosen), source="review", given_by=actor))
    audit.record(session, actor, "review.decide", f"review:{review_id}",
                 {"decision": decision, "label": chosen, "request_id": review.request_id})
    return review


def _decide_claim(session, review: ReviewRow, decision: str, label, actor: str) -> ReviewRow:
    chosen = "unsupported" if decision == "approve" else str(label)
    if chosen not in CLAIM_LABELS:
        raise InvalidField("label", f"a claim's label is 'supported' or 'unsupported', not {label!r}")
    claim = session.get(GenaiClaimRow, review.request_id)
    claim.label = chosen == "supported"
    review.status = "approved" if decision == "approve" else "corrected"
    review.label, review.decided_by, review.decided_at = chosen, actor, utcnow()
    audit.record(session, actor, "review.decide", f"review:{review.id}",
                 {"decision": decision, "label": chosen, "claim": claim.id, "evaluation": claim.evaluation_id})
    return review


def pending_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ReviewRow).where(ReviewRow.status == "pending"))


def queue(session, status: str = "pending", model: str | None = None, limit: int = 100) -> list[dict]:
    """Return reviews, oldest first, each with what was reviewed: a prediction's inputs and output, or a claim."""
    query = (select(ReviewRow, PredictionLogRow, GenaiClaimRow)
             .outerjoin(PredictionLogRow, PredictionLogRow.request_id == ReviewRow.request_id)
             .outerjoin(GenaiClaimRow, GenaiClaimRow.id == ReviewRow.request_id))
    if status != "all":
        query = query.where(ReviewRow.status == status)
    if model is not None:
        query = query.where(ReviewRow.model_name == model)
    out = []
    for r, p, c in session.execute(query.order_by(ReviewRow.created_at).limit(limit)).all():
        if c is not None:
            inputs = {"question": c.question, "sentence": c.sentence, "closest_context": c.evidence}
            output, confidence = {"prediction": "unsupported", "support_score": c.score}, c.score
        else:
            inputs, output, confidence = p.inputs, p.output, p.confidence
        out.append({"id": r.id, "kind": r.kind, "request_id": r.request_id, "model": r.model_name, "reason": r.reason,
                    "status": r.status, "label": r.label, "decided_by": r.decided_by, "inputs": inputs,
                    "output": output, "confidence": confidence})
    return out
