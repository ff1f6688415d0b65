"""A small OpenAI-compatible moderation server for tests: ``POST /v1/moderations`` flags a text
containing "violent" (``violence``) and, when ``flag_images`` is set, any image (``sexual``); it
records every request (headers and JSON body) and can be told to fail (``fail_with``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.live import live_server


@dataclass
class Moderation:
    url: str = ""
    requests: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    flag_images: bool = False
    fail_with: int | None = None


def _result(items: list[dict[str, Any]], flag_images: bool) -> dict[str, Any]:
    violent = any(i.get("type") == "text" and "violent" in i.get("text", "") for i in items)
    image = flag_images and any(i.get("type") == "image_url" for i in items)
    categories = {"violence": violent, "sexual": image, "harassment": False}
    return {"flagged": violent or image, "categories": categories, "category_scores": {}}


@contextmanager
def moderation_server() -> Iterator[Moderation]:
    state = Moderation()

    async def moderations(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append((dict(request.headers), body))
        if state.fail_with is not None:
            return JSONResponse({"error": {"message": "down"}}, status_code=state.fail_with)
        items = (
            body["input"] if isinstance(body["input"], list) else [{"type": "text", "text": body["input"]}]
        )
        return JSONResponse(
            {"id": "modr-1", "model": body.get("model"), "results": [_result(items, state.flag_images)]}
        )

    app = Starlette(routes=[Route("/v1/moderations", moderations, methods=["POST"])])
    with live_server(app) as url:
        state.url = url
        yield state
