"""The route-description registry: mounting (one route per path, literal paths first), allowlists and
strict reading of bodies through the same models the document shows."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from vidgate.errors import BadRequestError
from vidgate.server.endpoint import Endpoint, Reply, fields_of, mount, openapi_path, validated


async def _get(request: Request) -> Response:
    return PlainTextResponse("get " + request.path_params.get("item_id", ""))


async def _delete(request: Request) -> Response:
    return PlainTextResponse("delete")


async def _status(request: Request) -> Response:
    return PlainTextResponse("status")


def _endpoint(method: str, path: str, handler: object) -> Endpoint:
    return Endpoint(method, path, handler, "s", "t", {200: Reply("ok", media_type="text/plain")})  # type: ignore[arg-type]


async def test_one_route_per_path_dispatching_on_the_method_literal_paths_first() -> None:
    app = Starlette(
        routes=mount(
            [
                _endpoint("GET", "/items/{item_id}", _get),
                _endpoint("DELETE", "/items/{item_id}", _delete),
                _endpoint("POST", "/items/status", _status),
            ]
        )
    )
    assert [route.path for route in app.routes] == ["/items/status", "/items/{item_id}"]  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/items/a")).text == "get a"
        assert (await client.head("/items/a")).status_code == 200
        assert (await client.delete("/items/a")).text == "delete"
        assert (await client.post("/items/status")).text == "status"
        assert (await client.get("/items/status")).text == "get status"  # the template still takes GET
        wrong = await client.put("/items/status")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
        wrong = await client.put("/items/a")
        assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}


def test_two_endpoints_for_one_method_and_path_are_refused() -> None:
    with pytest.raises(ValueError, match="two endpoints for GET /items"):
        mount([_endpoint("GET", "/items", _get), _endpoint("GET", "/items", _status)])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int = Field(ge=1, le=5)
    header: str | None = Field(None, alias="X-Header")


def test_validated_names_every_wrong_field_at_once() -> None:
    with pytest.raises(BadRequestError) as info:
        validated(_Body, {"count": 9, "colour": "red"})
    err = info.value
    assert err.status_code == 400
    assert err.param == "name"
    for fragment in (
        "'name': Field required",
        "'count': Input should be less than or equal to 5",
        "'colour'",
    ):
        assert fragment in err.message
    assert validated(_Body, {"name": "a", "count": 2}).count == 2


def test_allowlists_use_wire_names_and_paths_drop_convertors() -> None:
    assert fields_of(_Body) == {"name", "count", "X-Header"}
    assert openapi_path("/gemini/{rest:path}") == "/gemini/{rest}"
    assert openapi_path("/v1/videos/{video_id}/content") == "/v1/videos/{video_id}/content"
