"""/openapi.json describes every route the app mounts, from the models the handlers use; /docs renders
it with no script and no external request."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import schemathesis
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from tests.server.conftest import MASTER, Served, auth

from vidgate.catalog import openrouter
from vidgate.gateway import keys as keylib
from vidgate.server import forms
from vidgate.server.endpoint import fields_of, openapi_path
from vidgate.server.schemas.keys import KeyFields
from vidgate.server.schemas.videos import CreateVideoBody, CreateVideoForm


def undocumented(app: Starlette, doc: dict[str, Any]) -> list[str]:
    """``METHOD path`` of every mounted route the document does not describe (HEAD: Starlette's, with GET)."""
    missing = []
    for route in app.routes:
        assert isinstance(route, Route), route
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method.lower() not in doc["paths"].get(openapi_path(route.path), {}):
                missing.append(f"{method} {route.path}")
    return missing


async def document(served: Served) -> dict[str, Any]:
    reply = await served.client.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    doc: dict[str, Any] = reply.json()
    return doc


async def test_every_mounted_route_is_documented_and_nothing_else(served: Served) -> None:
    doc = await document(served)
    assert doc["openapi"] == "3.1.0"
    assert undocumented(served.app, doc) == []
    mounted = {
        (openapi_path(route.path), method.lower())
        for route in served.app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == mounted
    for path in ("/v1/videos", "/videos", "/key/generate", "/health/readiness", "/metrics", "/", "/docs"):
        assert path in doc["paths"]
    assert "/gemini/{version}/models/{model}:predictLongRunning" in doc["paths"]
    assert "/vertex_ai/{version}/publishers/google/models/{model}:fetchPredictOperation" in doc["paths"]


async def test_a_route_mounted_without_a_description_is_caught(served: Served) -> None:
    async def extra(request: Any) -> Response:
        return Response()

    doc = await document(served)
    served.app.router.routes.append(Route("/v1/undescribed", extra, methods=["GET", "POST"]))
    assert undocumented(served.app, doc) == ["GET /v1/undescribed", "POST /v1/undescribed"]


async def test_the_document_is_valid_openapi_3_1_and_every_operation_loads(served: Served) -> None:
    schema = schemathesis.openapi.from_dict(await document(served))
    schema.validate()
    operations = list(schema.get_all_operations())
    assert operations
    assert all(type(op).__name__ == "Ok" for op in operations)


async def test_schemas_come_from_the_models(served: Served) -> None:
    doc = await document(served)
    schemas = doc["components"]["schemas"]
    create = doc["paths"]["/v1/videos"]["post"]
    content = create["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/CreateVideoBody"}
    assert content["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/CreateVideoForm"}
    assert set(schemas["CreateVideoBody"]["properties"]) == fields_of(CreateVideoBody)
    assert schemas["CreateVideoBody"]["additionalProperties"] is False
    assert schemas["CreateVideoForm"]["properties"]["input_reference"]["anyOf"][0]["format"] == "binary"
    assert create["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Video")
    assert set(schemas["Video"]["properties"]) >= {"id", "object", "model", "status", "size", "seconds"}
    assert create["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OpenAIError"
    )
    gemini = doc["paths"]["/gemini/{version}/models/{model}:predictLongRunning"]["post"]
    assert gemini["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/GoogleError"
    )
    listing = {p["name"]: p for p in doc["paths"]["/v1/videos"]["get"]["parameters"]}
    assert listing["limit"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 100, "default": 20}
    assert listing["order"]["schema"]["enum"] == ["asc", "desc"]


async def test_security_schemes_per_surface(served: Served) -> None:
    doc = await document(served)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert (schemes["googleApiKey"]["in"], schemes["googleApiKey"]["name"]) == ("header", "x-goog-api-key")
    assert (schemes["googleApiKeyQuery"]["in"], schemes["googleApiKeyQuery"]["name"]) == ("query", "key")
    assert doc["paths"]["/v1/videos"]["post"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/gemini/{version}/models/{model}/operations/{operation}"]["get"]["security"] == [
        {"googleApiKey": []},
        {"googleApiKeyQuery": []},
        {"bearer": []},
    ]
    assert doc["paths"]["/health/readiness"]["get"]["security"] == []


def test_the_create_model_is_the_parsers_field_list() -> None:
    """The model the document shows is the allowlist, and it names exactly what the catalogue validates."""
    assert fields_of(CreateVideoBody) == forms.CORE_FIELDS | forms.EXTRA_FIELDS | set(openrouter.FIELDS)
    assert fields_of(CreateVideoForm) <= fields_of(CreateVideoBody)
    assert fields_of(KeyFields) == set(keylib.KEY_FIELDS)


async def test_docs_page_renders_the_document_with_a_strict_csp(served: Served) -> None:
    reply = await served.client.get("/docs")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    page = reply.text
    assert "POST" in page
    assert "/v1/videos" in page
    assert 'id="schema-CreateVideoBody"' in page
    csp = reply.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    # The one inline style block is allowed by its hash and nothing else is: no script, no external URL.
    [style] = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert "<script" not in page.lower()
    assert not re.search(r"\bsrc\s*=", page)
    assert all(href.startswith(("#", "/")) for href in re.findall(r'href="([^"]*)"', page))
    assert reply.headers["x-content-type-options"] == "nosniff"


async def test_root_links_the_docs_and_answers_its_documented_shape(served: Served) -> None:
    reply = await served.client.get("/")
    assert reply.json()["docs"] == "/docs"
    assert reply.json()["openapi"] == "/openapi.json"


# ---- regressions found by schemathesis -------------------------------------------------------------


async def test_null_for_an_optional_image_field_is_absent(served: Served) -> None:
    """The document says ``last_frame`` may be null; it used to be a 400 'got a string'."""
    secret = await served.new_key()
    video = await served.create(secret, last_frame=None, reference_images=None, seed=None)
    assert video["status"] == "queued"


async def test_405_lists_every_method_the_path_serves(served: Served) -> None:
    """One route per path: Allow named only the first handler's methods (GET for /v1/videos/{id})."""
    reply = await served.client.patch("/v1/videos/video_x", headers=auth(MASTER))
    assert reply.status_code == 405
    assert set(reply.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}
    # A literal path's 405 names its own methods, not those of a template that also matches it.
    reply = await served.client.request("OPTIONS", "/v1/videos/status", headers=auth(MASTER))
    assert (reply.status_code, reply.headers["allow"]) == (405, "POST")
    reply = await served.client.get("/v1/videos/status", headers=auth(MASTER))  # the template: an id
    assert (reply.status_code, reply.json()["error"]["param"]) == (404, "video_id")
    reply = await served.client.request("OPTIONS", "/gemini/anything", headers={"x-goog-api-key": MASTER})
    assert reply.status_code == 405
    assert set(reply.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
    assert reply.json()["error"]["status"]


async def test_key_generate_without_a_body_is_documented_as_optional(served: Served) -> None:
    reply = await served.client.post("/key/generate", headers=auth(MASTER))
    assert reply.status_code == 200
    doc = await document(served)
    assert doc["paths"]["/key/generate"]["post"]["requestBody"]["required"] is False
