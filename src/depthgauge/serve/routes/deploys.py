"""Which version serves each model: list, deploy, roll back. A change is loaded here at once and picked up by the
workspace's other servers within a couple of seconds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from depthgauge.serve import deploy as deployments
from depthgauge.serve.answers import DeployBody, Deployed, DeployedModels, body_doc, problems
from depthgauge.serve.auth import Caller
from depthgauge.serve.dependencies import parsed_body, require, serving
from depthgauge.serve.state import Serving

router = APIRouter()


@router.get("/v1/models", response_model=DeployedModels, dependencies=[Depends(require("discover"))],
            responses=problems(401, 403, 429))
async def list_deployed(state: Serving = Depends(serving)):
    with state.workspace.session() as session:
        return {"models": [{"name": name, "ref": d.ref, "review": d.review, "input_columns": d.columns,
                            "history": deployments.history(session, name)} for name, d in sorted(state.models.items())]}


@router.post("/v1/models/{name}/deploy", response_model=Deployed, openapi_extra=body_doc(DeployBody),
             responses=problems(401, 403, 404, 409, 422, 429))
async def deploy(name: str, request: Request, caller: Caller = Depends(require("deploy")),
                 state: Serving = Depends(serving)):
    body = await parsed_body(request, DeployBody)
    ref, review = await _change(request, state, caller, name,
                                lambda session: deployments.deploy(session, name, body.ref, body.review))
    return {"name": name, "ref": ref, "review": review}


@router.post("/v1/models/{name}/rollback", response_model=Deployed, responses=problems(401, 403, 404, 409, 429))
async def rollback(name: str, request: Request, caller: Caller = Depends(require("deploy")),
                   state: Serving = Depends(serving)):
    ref, _ = await _change(request, state, caller, name, lambda session: deployments.rollback(session, name))
    return {"name": name, "ref": ref}


async def _change(request: Request, state: Serving, caller: Caller, name: str, change) -> tuple[str, dict]:
    """Record the caller's deployment change (`change(session)` returns the new deployment) and serve it here at
    once; return its version and review policy."""
    with state.workspace.transaction(actor=caller.actor) as session:
        ref = change(session).ref
        review = deployments.review_policy(session, name)
    await run_in_threadpool(state.load, name, ref, review)
    request.app.openapi_schema = None
    return ref, review
