"""Ground truth for a served prediction, sent by the application that asked for it (the same key), or by a labeller
(reviewer, deployer or admin); the label must be one the model could have answered."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from depthgauge.errors import NotFound
from depthgauge.serve.answers import Feedback, FeedbackTaken, body_doc, problems
from depthgauge.serve.auth import Caller
from depthgauge.serve.dependencies import parsed_body, require, serving
from depthgauge.serve.reviews import check_label, check_labeller
from depthgauge.serve.state import Serving
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import FeedbackRow, PredictionLogRow

router = APIRouter()


@router.post("/v1/feedback", response_model=FeedbackTaken, openapi_extra=body_doc(Feedback),
             responses=problems(401, 403, 404, 422, 429))
async def feedback(request: Request, caller: Caller = Depends(require("feedback")), state: Serving = Depends(serving)):
    body = await parsed_body(request, Feedback)
    with state.workspace.transaction(actor=caller.actor) as session:
        logged = session.get(PredictionLogRow, body.request_id)
        if logged is None:
            raise NotFound(f"No prediction with request id '{body.request_id}'.")
        check_labeller(logged, caller.role, caller.key_id)
        row = FeedbackRow(request_id=body.request_id, label=json_ready(check_label(logged, body.label)),
                          source="feedback", given_by=caller.actor)
        session.add(row)
        session.flush()
        return {"id": row.id, "request_id": body.request_id}
