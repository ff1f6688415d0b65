"""Fast JSON responses: orjson bytes straight into a Starlette ``Response`` (no re-validation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default)


class JSONBytes(Response):
    """A JSON response serialized with orjson. Pydantic models are dumped in JSON mode."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.__pydantic_serializer__.to_json(content)
        return dumps(content)


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> JSONBytes:
    return JSONBytes(content, status_code=status_code, headers=headers)
