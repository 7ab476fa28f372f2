"""The human review queue: list it, and approve or correct a prediction (the label becomes ground truth)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from depthgauge.serve import reviews
from depthgauge.serve.answers import Decided, ReviewBody, ReviewDecision, Reviews, body_doc, problems
from depthgauge.serve.auth import Caller
from depthgauge.serve.dependencies import parsed_body, require, serving
from depthgauge.serve.state import Serving

router = APIRouter()


@router.get("/v1/reviews", response_model=Reviews, dependencies=[Depends(require("view"))],
            responses=problems(401, 403, 422, 429))
async def list_reviews(status: Literal["pending", "approved", "corrected", "all"] = "pending",
                       model: str | None = None, limit: int = Query(100, ge=1, le=10_000),
                       state: Serving = Depends(serving)):
    with state.workspace.session() as session:
        return {"reviews": reviews.queue(session, status, model, limit)}


@router.post("/v1/reviews/{review_id}", response_model=Decided, openapi_extra=body_doc(ReviewDecision),
             responses=problems(401, 403, 404, 409, 422, 429))
async def decide_review(review_id: str, request: Request, caller: Caller = Depends(require("review")),
                        state: Serving = Depends(serving)):
    body = await parsed_body(request, ReviewBody)
    with state.workspace.transaction(actor=caller.actor) as session:
        review = reviews.decide(session, review_id, body.decision, body.label, caller.actor)
        return {"id": review_id, "status": review.status, "label": review.label}
