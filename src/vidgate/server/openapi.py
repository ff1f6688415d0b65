"""The OpenAPI 3.1 document of the gateway, generated from the endpoints it mounts.

Schemas come from the endpoints' pydantic models (``models_json_schema``: request models in validation
mode, replies in serialization mode) into ``components.schemas``; path parameters from the path
templates; query and header parameters from the endpoints' query/header models. Every operation's
``default`` answer is its error envelope (OpenAI's, or Google's on the pass-through), since every error
status the gateway answers with carries it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue, models_json_schema

from vidgate.server.endpoint import Endpoint, openapi_path
from vidgate.server.schemas.errors import GoogleError, OpenAIError

REF_TEMPLATE = "#/components/schemas/{model}"
_ENVELOPES: dict[str, tuple[type[BaseModel], str]] = {
    "openai": (OpenAIError, "An error, in OpenAI's envelope (the status says which)."),
    "google": (GoogleError, "An error, in Google's envelope (the status says which)."),
}
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "bearer": [{"bearer": []}],
    "google": [{"googleApiKey": []}, {"googleApiKeyQuery": []}, {"bearer": []}],
    "none": [],
}
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A virtual key (`sk-...` from /key/generate) or the master key.",
    },
    "googleApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-goog-api-key",
        "description": "The same key, as google-genai sends it (pass-through routes).",
    },
    "googleApiKeyQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "key",
        "description": "The same key, as Google's REST samples send it (pass-through routes).",
    },
}
_PATH_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def document(endpoints: Sequence[Endpoint], *, title: str, version: str, description: str) -> dict[str, Any]:
    """The document for ``endpoints`` (the list the app mounts)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operations = paths.setdefault(openapi_path(endpoint.path), {})
        operations[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": schemas.components(), "securitySchemes": SECURITY_SCHEMES},
    }


class _Schemas:
    """Collects the models an operation names; their schemas are generated together at the end so
    shared sub-models (``Video`` in ``VideoList``) are one component."""

    def __init__(self) -> None:
        self._models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
        self._refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]] = {}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        """A placeholder filled with the model's ``$ref`` once every model is known."""
        self._models[(model, mode)] = None
        placeholder: dict[str, Any] = {}
        self._refs.setdefault((model, mode), placeholder)
        return self._refs[(model, mode)]

    def components(self) -> dict[str, JsonSchemaValue]:
        if not self._models:
            return {}
        keys = list(self._models)
        refs, top = models_json_schema(keys, ref_template=REF_TEMPLATE)
        for key in keys:
            self._refs[key].update(refs[key])
        defs: dict[str, JsonSchemaValue] = top.get("$defs", {})
        return defs


def _operation(endpoint: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "security": _SECURITY[endpoint.auth],
    }
    if endpoint.description:
        op["description"] = endpoint.description
    parameters = _path_parameters(endpoint.path)
    if endpoint.query is not None:
        parameters += _model_parameters(endpoint.query, "query")
    if endpoint.headers is not None:
        parameters += _model_parameters(endpoint.headers, "header")
    if parameters:
        op["parameters"] = parameters
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": endpoint.body.required,
            "content": {
                media: {"schema": schemas.ref(model, "validation")}
                for media, model in endpoint.body.content.items()
            },
        }
    responses: dict[str, Any] = {}
    for status, reply in endpoint.replies.items():
        answer: dict[str, Any] = {"description": reply.description}
        content = {
            media: {"schema": schemas.ref(model, "serialization") if model else _bytes(media)}
            for media, model in ((reply.media_type, reply.model), *reply.alternatives)
            if media
        }
        if content:
            answer["content"] = content
        if reply.headers:
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in reply.headers.items()
            }
        responses[str(status)] = answer
    envelope, description = _ENVELOPES[endpoint.envelope]
    responses["default"] = {
        "description": description,
        "content": {"application/json": {"schema": schemas.ref(envelope, "serialization")}},
    }
    op["responses"] = responses
    return op


def _bytes(media: str) -> dict[str, Any]:
    """The schema of a reply described by its media type only."""
    if media == "application/json":
        return {"type": "object"}
    if media.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "contentMediaType": media}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for name, convertor in _PATH_PARAM.findall(path):
        schema: dict[str, Any] = {"type": "string"}
        if convertor != "path":  # one segment: no "/" (a ``path`` convertor takes the rest of the URL)
            schema["pattern"] = "^[^/]+$"
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _model_parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", by_alias=True)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _on_the_wire(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": where, "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _on_the_wire(schema: dict[str, Any]) -> dict[str, Any]:
    """A query or header value is text and is absent rather than null: ``X | None`` is ``X``."""
    out = dict(schema)
    options = [option for option in out.pop("anyOf", ()) if option != {"type": "null"}]
    if len(options) == 1:
        out.update(options[0])
    elif options:
        out["anyOf"] = options
    if out.get("default", 0) is None:
        del out["default"]
    return out
