"""The API's documented answers: what each endpoint returns, and the one shape every problem is reported in.

The prediction service answers with plain JSON built in the handlers (no per-request validation of
what it sends); these models only document it, in the OpenAPI document the API fuzz test checks
every answer against (`tests/serve/test_fuzz.py`).
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

Label = Union[Annotated[str, Field(pattern=r"\S")], float, int, bool]  # a label is never blank


class FieldProblem(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """A refused request: one sentence, or one entry per field at fault (422)."""
    detail: Union[str, list[FieldProblem]]


_WHY = {400: "The request cannot be read.",
        401: "Missing or invalid API key.",
        403: "The key's role may not do this.",
        404: "No such model, version, review or prediction.",
        409: "The request conflicts with the workspace's state (e.g. a review already decided).",
        413: "The body or the batch is over its limit.",
        422: "A field is missing, unknown or of the wrong type; each is named with the reason.",
        429: "The key is over its rate or its daily quota; Retry-After says when to come back."}


def problems(*codes: int) -> dict:
    """The `responses=` of a route that may refuse with `codes` (401 and 429 come with every authenticated route)."""
    return {code: {"model": Problem, "description": _WHY[code]} for code in codes}


_PLACES = {"body", "query", "path", "header", "cookie"}
_MEMBERS = {"str", "int", "float", "bool", "none", "list", "dict"}  # how pydantic names the members of a union


def field_problems(error: ValidationError | list[dict]) -> list[dict]:
    """Pydantic's errors as [{"field", "reason"}], one per field: named without where it was sent ("body",
    "query") or which member of a union was tried ("float", "constrained-str")."""
    errors = error.errors() if isinstance(error, ValidationError) else error
    found: dict[str, str] = {}
    for e in errors:
        location = [str(part) for part in e.get("loc", ())
                    if not (str(part) in _PLACES | _MEMBERS or "-" in str(part) or "[" in str(part))]
        found.setdefault(".".join(location) or "body", e.get("msg", "invalid"))
    return [{"field": field, "reason": reason} for field, reason in found.items()]


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    reason: Optional[str] = None


class Prediction(BaseModel):
    request_id: str
    prediction: Union[str, float, int, bool, None]
    probabilities: Optional[dict[str, float]]
    confidence: Optional[float]
    review: Literal["pending", "none"]
    review_id: Optional[str]
    warnings: list[str]


class PredictAnswer(BaseModel):
    model: str
    version: str
    predictions: list[Prediction]


class DeployBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str
    review: Optional[dict] = None


class Deployed(BaseModel):
    name: str
    ref: str
    review: Optional[dict] = None


class DeployedModel(BaseModel):
    name: str
    ref: str
    review: dict
    input_columns: list[str]
    history: list[dict]


class DeployedModels(BaseModel):
    models: list[DeployedModel]


class Approve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve"]


class Correct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["correct"]
    label: Label = Field(description="The right label (for a claim: 'supported' or 'unsupported').")


class ReviewDecision(RootModel[Annotated[Union[Approve, Correct], Field(discriminator="decision")]]):
    """Approve the model's answer, or correct it with the right label (the documented contract)."""


class ReviewBody(BaseModel):
    """What a review decision is read as; the service says which label a correction lacks."""
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "correct"]
    label: Optional[Label] = None


class Decided(BaseModel):
    id: str
    status: str
    label: Optional[Label] = None


class Reviews(BaseModel):
    reviews: list[dict]


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str
    label: Label


class FeedbackTaken(BaseModel):
    id: str
    request_id: str


BODIES = (DeployBody, ReviewDecision, Feedback)


def body_doc(model: type[BaseModel]) -> dict:
    """The OpenAPI request body of a route that reads its body itself (after the key is checked, so a viewer's
    state-changing request is refused with 403 whatever its body holds)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}
