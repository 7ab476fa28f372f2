"""What a route asks FastAPI for: the server's state, and the caller allowed to do what the route does."""

from __future__ import annotations

from fastapi import HTTPException, Request
from pydantic import BaseModel, ValidationError

from depthgauge.serve.answers import field_problems
from depthgauge.serve.auth import Caller, token_of
from depthgauge.serve.state import Serving


def serving(request: Request) -> Serving:
    return request.app.state.serving


def require(permission: str):
    """The dependency that returns the caller if its key may `permission` (401, 403 or 429 otherwise)."""

    async def check(request: Request) -> Caller:
        gate = request.app.state.serving.gate
        return gate.caller(token_of(request.headers.get("authorization"), request.headers.get("x-api-key")), permission)

    return check


async def parsed_body(request: Request, model: type[BaseModel]):
    """The request's JSON body as `model`; a 422 naming each field at fault otherwise. Routes that change state
    read their body with this after the key is checked, so a viewer is refused 403 whatever the body holds."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        found = field_problems(exc)
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            found = [{"field": "body", "reason": "not valid JSON"}]
        raise HTTPException(422, found) from None
