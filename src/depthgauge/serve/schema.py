"""Request models generated from a model version's input schema: the OpenAPI contract per deployed model.

They document the contract; requests are checked by `depthgauge.contract.InputContract`, the
same check `load_model(...).predict` applies in Python.
"""

from __future__ import annotations

from typing import Annotated, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

# A category may be sent as a string or a number; it is read (and logged) as a string, as in training.
_TYPES = {"number": float, "boolean": bool, "datetime": str, "category": Annotated[Union[str, int, float], AfterValidator(str)],
          "text": str, "image": str}  # an image is sent as base64-encoded PNG or JPEG bytes


def record_model(model_name: str, input_schema: dict) -> type[BaseModel]:
    """Return a pydantic model for one input record: known fields only, each typed; required where training had
    no missing values, else optional (None = missing)."""
    fields = {}
    for column in input_schema["columns"]:
        python_type = _TYPES[column["type"]]
        description = column["type"]
        if column["type"] == "number":
            description += f"; seen in training from {column['min']:.6g} to {column['max']:.6g}"
        if column["type"] == "image":
            description += (f"; base64-encoded PNG or JPEG bytes of a {column['width']}×{column['height']} image "
                            f"with {column['channels']} channel(s)")
        if column.get("description"):
            description += f"; {column['description']}"
        if column["type"] == "category":
            description += (f"; categories seen: {', '.join(map(str, column['categories'][:20]))} (others are answered "
                            "with a warning)")
        if column.get("nullable", True):
            fields[column["name"]] = (Optional[python_type], Field(default=None, description=description))
        else:
            fields[column["name"]] = (python_type, Field(description=description + "; required"))
    safe = "".join(ch if ch.isalnum() else "_" for ch in model_name)
    return create_model(f"{safe}_record", __config__=ConfigDict(extra="forbid", strict=False), **fields)


def request_model(model_name: str, record: type[BaseModel], max_rows: int) -> type[BaseModel]:
    safe = "".join(ch if ch.isalnum() else "_" for ch in model_name)
    return create_model(f"{safe}_predict_request", __config__=ConfigDict(extra="forbid"),
                        inputs=(Union[record, Annotated[list[record], Field(min_length=1, max_length=max_rows)]], ...))
