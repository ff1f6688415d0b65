"""A loopback proxy that turns the placeholders of openai-python's generated tests into real requests.

openai-python's ``tests/api_resources/test_videos.py`` is written for a mock server (Prism): every test
names the same ``video_123`` and ``char_123``, lists ``after="after"``, sends ``b"Example data"`` as
every file and authenticates as ``"My API Key"``. Against a real gateway the tests would share one
video (the delete tests remove it, later tests then 404), and the gateway rightly refuses bytes that are
no image or MP4. The proxy sits between the unmodified test file and the gateway and, per request:

- ``Authorization: Bearer My API Key`` -> the harness's virtual key;
- ``video_123`` in the path, a JSON body or a form field, and the list cursor ``after=after`` -> a
  completed video no other request was given (a remix has a finished source, each delete test deletes
  its own video);
- ``char_123`` in the path -> a character created for this request alone;
- a multipart file part holding exactly ``b"Example data"`` -> real media: a PNG of the request's
  ``size`` for ``input_reference`` (the gateway checks an image's frame against ``size``), an MP4 the
  gateway itself rendered for ``video`` (edits, extensions, characters).

Each generated test sends exactly one request with placeholders, so "per request" is "per test".
Everything else (method, path, query, headers, the other form fields, the answer) passes unchanged,
and every substitution is recorded in ``substitutions`` for the harness to check afterwards.
Requests the test file mocks with respx (``download_content``) never leave the client, so they never
reach the proxy.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.support.images import image_bytes

PLACEHOLDER_KEY = "My API Key"
PLACEHOLDER_VIDEO = "video_123"
PLACEHOLDER_CHARACTER = "char_123"
PLACEHOLDER_CURSOR = "after"
PLACEHOLDER_FILE = b"Example data"
# The local model's shortest clip, one prompt (the renderer encodes it once), in one of the four sizes
# openai's ``Video.size`` Literal allows: the file's strict clients refuse any other size (320x180 too).
SOURCE_VIDEO = {"prompt": "openai-python harness source clip", "seconds": "1", "size": "720x1280"}
# When a create names no size the served model's default applies (local-1: 1280x720).
DEFAULT_SIZE = "1280x720"
BATCH = 12  # videos made at once for the placeholders
HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive", "host"})


@dataclass(frozen=True)
class Substitution:
    method: str
    path: str  # as the test sent it
    placeholder: str
    real: str  # the id, or the media type of the file put in


@dataclass
class PlaceholderProxy:
    gateway: str  # the gateway's base URL, without /v1
    key: str  # the virtual key the tests' requests are made with
    model: str  # the served model name a per-request video is made with
    source_mp4: bytes = b""
    substitutions: list[Substitution] = field(default_factory=list)
    _ready: list[str] = field(default_factory=list)  # made, completed, not handed out yet
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
        return Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)])

    # -- real resources -------------------------------------------------------------------------

    async def new_video(self, http: httpx.AsyncClient) -> str:
        """A completed video of the harness's key, never handed out before (a remix needs a finished
        source). Made in batches: the gateway finishes a batch in about the time of one video."""
        async with self._lock:
            if not self._ready:
                made = await asyncio.gather(*(self._finished_video(http) for _ in range(BATCH)))
                self._ready.extend(made)
            return self._ready.pop(0)

    async def _finished_video(self, http: httpx.AsyncClient) -> str:
        made = await http.post("/v1/videos", json={"model": self.model, **SOURCE_VIDEO})
        made.raise_for_status()
        video_id: str = made.json()["id"]
        while True:
            seen = await http.get(f"/v1/videos/{video_id}")
            seen.raise_for_status()
            status = seen.json()["status"]
            if status == "completed":
                return video_id
            if status == "failed":
                raise RuntimeError(f"harness video {video_id} failed: {seen.text}")
            await asyncio.sleep(int(seen.headers.get("openai-poll-after-ms", "100")) / 1000)

    async def load_source_mp4(self) -> None:
        """One MP4 the gateway rendered: what the tests' ``video=b"Example data"`` parts become."""
        async with self._client() as http:
            video_id = await self._finished_video(http)
            content = await http.get(f"/v1/videos/{video_id}/content")
            content.raise_for_status()
            self.source_mp4 = content.content

    async def new_character(self, http: httpx.AsyncClient) -> str:
        made = await http.post(
            "/v1/videos/characters",
            data={"name": "openai-python harness character"},
            files={"video": ("character.mp4", self.source_mp4, "video/mp4")},
        )
        made.raise_for_status()
        character_id: str = made.json()["id"]
        return character_id

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.gateway, headers={"Authorization": f"Bearer {self.key}"}, timeout=60
        )

    # -- the proxy ------------------------------------------------------------------------------

    async def _forward(self, request: Request) -> Response:
        async with self._client() as http:
            rewrite = _Rewrite(self, http, request.method, request.url.path)
            path = "/".join([await rewrite.segment(part) for part in request.url.path.split("/")])
            query: list[tuple[str, str | int | float | bool | None]] = [
                (name, await rewrite.cursor(value) if name == "after" else value)
                for name, value in request.query_params.multi_items()
            ]
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
            if headers.get("authorization") == f"Bearer {PLACEHOLDER_KEY}":
                headers["authorization"] = f"Bearer {self.key}"
            content_type = headers.get("content-type", "")
            body: dict[str, Any]
            if content_type.startswith("multipart/form-data"):
                del headers["content-type"]  # httpx writes the new boundary
                body = await rewrite.multipart(request)
            else:
                raw = await request.body()
                if raw and content_type.startswith("application/json"):
                    raw = json.dumps(await rewrite.json(json.loads(raw))).encode()
                body = {"content": raw}
            reply = await http.request(request.method, path, params=query, headers=headers, **body)
        out_headers = {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP}
        out_headers.pop("content-encoding", None)  # httpx decoded the body
        return Response(reply.content, status_code=reply.status_code, headers=out_headers)


@dataclass
class _Rewrite:
    """One request's substitutions, each recorded in the proxy's ``substitutions``."""

    proxy: PlaceholderProxy
    http: httpx.AsyncClient
    method: str
    path: str  # as the test sent it

    def _record(self, placeholder: str, real: str) -> str:
        self.proxy.substitutions.append(Substitution(self.method, self.path, placeholder, real))
        return real

    async def _video(self, placeholder: str) -> str:
        return self._record(placeholder, await self.proxy.new_video(self.http))

    async def segment(self, part: str) -> str:
        if part == PLACEHOLDER_VIDEO:
            return await self._video(PLACEHOLDER_VIDEO)
        if part == PLACEHOLDER_CHARACTER:
            return self._record(PLACEHOLDER_CHARACTER, await self.proxy.new_character(self.http))
        return part

    async def cursor(self, value: str) -> str:
        return await self._video(PLACEHOLDER_CURSOR) if value == PLACEHOLDER_CURSOR else value

    async def json(self, value: Any) -> Any:
        if value == PLACEHOLDER_VIDEO:
            return await self._video(PLACEHOLDER_VIDEO)
        if isinstance(value, dict):
            return {k: await self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [await self.json(v) for v in value]
        return value

    async def multipart(self, request: Request) -> dict[str, Any]:
        """The form re-encoded (text fields, then file parts, each in their order) with placeholder
        ids (``video[id]``) made real and ``b"Example data"`` files made real media."""
        fields = list((await request.form()).multi_items())
        size = next((v for k, v in fields if k == "size" and isinstance(v, str)), DEFAULT_SIZE)
        data: dict[str, list[str]] = {}
        files: list[tuple[str, tuple[str | None, bytes, str | None]]] = []
        for name, value in fields:
            if not isinstance(value, UploadFile):
                data.setdefault(name, []).append(await self.json(value))
                continue
            content, media_type = await value.read(), value.content_type
            if content == PLACEHOLDER_FILE:
                if name == "input_reference":
                    width, height = (int(n) for n in size.split("x"))
                    content, media_type = image_bytes(width, height, "png"), "image/png"
                else:
                    content, media_type = self.proxy.source_mp4, "video/mp4"
                self._record(f"{name}=Example data", media_type)
            files.append((name, (value.filename, content, media_type)))
        return {"data": data, "files": files}
