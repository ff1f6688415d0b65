"""The OpenAI-shaped ``/videos`` routes, shared by the OpenAI and Azure emulators (edits, extensions and
characters: ``emulator_edits``).

A ``Dialect`` supplies what differs between the two hosts (path prefix, auth and its failure shape,
how ``model`` is resolved, query checks, error bodies); the routes, job store, faults and content
serving are common. Content comes from real renders (``vidgate.render``), streamed with Range support.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import DropResponse, EmuJob, EmulatorSettings
from vidgate.providers._openai_wire.emulator_edits import EditsAPI, source_spec
from vidgate.providers._openai_wire.emulator_store import VideoStore, video_json
from vidgate.providers._openai_wire.emulator_wire import (
    WireError,
    bad_request,
    check_create,
    check_prompt,
    invalid_enum,
    openai_error,
    read_body,
)
from vidgate.render import render
from vidgate.types import CONTENT_VARIANTS

MEDIA_TYPES = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100
RETRY_AFTER_SECONDS = "1"

Handler = Callable[[Request], Awaitable[Response]]


class Dialect(ABC):
    """What one host of the Videos API does its own way: auth and model names are abstract; the error
    shapes default to OpenAI's and may be overridden."""

    prefix: str = "/v1"
    poll_after_header: bool = True
    extra_files: bool = False  # file parts beyond input_reference are accepted (kept as ``Upload``)
    serves_edits: bool = True  # /videos/edits, /extensions, /characters (OpenAI's surface only)

    @abstractmethod
    def authenticate(self, request: Request, settings: EmulatorSettings) -> WireError | None:
        """None when the caller may proceed, else the error to answer."""

    def check_query(self, request: Request) -> WireError | None:
        return None

    @abstractmethod
    def resolve_model(self, model: object) -> tuple[str, ModelSpec]:
        """(the name to echo, its catalogue spec), or raise WireError."""

    def rate_limited(self, model: str) -> WireError:
        return openai_error(
            429,
            f"Rate limit reached for {model} on requests per min (RPM). "
            f"Please try again in {RETRY_AFTER_SECONDS}s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after": RETRY_AFTER_SECONDS},
        )

    def server_error(self) -> WireError:
        return openai_error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        )

    def overloaded(self) -> WireError:
        return openai_error(
            503,
            "The engine is currently overloaded, please try again later.",
            type="server_error",
            headers={"retry-after": RETRY_AFTER_SECONDS},
        )

    def route_not_found(self, request: Request, status: int) -> WireError:
        verb = "Invalid method for URL" if status == 405 else "Invalid URL"
        return openai_error(status, f"{verb} ({request.method} {request.url.path})")

    def video_not_found(self, video_id: str) -> WireError:
        return openai_error(404, f"Video with id '{video_id}' not found.", param="video_id")

    def coerce_create(self, body: dict[str, Any], *, form: bool) -> dict[str, Any]:
        """A create body as the shared checks read it (a host that types ``seconds`` differently
        converts it here); ``form``: it came as multipart, where every field is text."""
        return body

    def video_body(self, body: dict[str, Any], job: EmuJob, *, created: bool) -> dict[str, Any]:
        """The Video object as this host answers it (``created``: the reply to the create itself)."""
        return body


class VideosAPI:
    """The route handlers over one store."""

    def __init__(self, settings: EmulatorSettings, dialect: Dialect) -> None:
        self.settings = settings
        self.dialect = dialect
        self.store = VideoStore(settings)

    # ---- helpers -------------------------------------------------------------------------------

    def guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            failure = self.dialect.authenticate(request, self.settings) or self.dialect.check_query(request)
            if failure is not None:
                raise failure
            return await handler(request)

        return endpoint

    def _job(self, request: Request) -> EmuJob:
        video_id = request.path_params["video_id"]
        job = self.store.get(video_id)
        if job is None:
            raise self.dialect.video_not_found(video_id)
        return job

    def _video_response(self, job: EmuJob, *, created: bool = False) -> JSONResponse:
        body = video_json(job)
        headers = {}
        if self.dialect.poll_after_header and body["status"] in ("queued", "in_progress"):
            headers["openai-poll-after-ms"] = str(self.settings.poll_after_ms)
        return JSONResponse(self.dialect.video_body(body, job, created=created), headers=headers)

    async def _slow(self, plan: Mapping[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    def _create_faults(self, prompt: str, model: str) -> None:
        plan = self.store.faults.plan(prompt)
        book = self.store.faults
        if book.fire(prompt, "429", plan):
            raise self.dialect.rate_limited(model)
        if book.fire(prompt, "500", plan):
            raise self.dialect.server_error()
        if book.fire(prompt, "503", plan):
            raise self.dialect.overloaded()

    # ---- routes --------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        form = request.headers.get("content-type", "").lower().startswith("multipart/")
        body = self.dialect.coerce_create(
            await read_body(request, extra_files=self.dialect.extra_files), form=form
        )
        prompt = check_prompt(body)
        model, spec = self.dialect.resolve_model(body.get("model"))
        await self._slow(self.store.faults.plan(prompt))
        self._create_faults(prompt, model)
        args = check_create(body, prompt, model, spec)
        job = self.store.add(
            prompt=args.prompt,
            model=args.model,
            seconds=args.seconds,
            width=args.width,
            height=args.height,
            image=args.image,
            extra=args.extra,
        )
        return self._video_response(job, created=True)

    async def retrieve(self, request: Request) -> Response:
        job = self._job(request)
        await self._slow(job.plan)
        book = self.store.faults
        if book.fire(job.id, "drop", job.plan):
            return DropResponse()  # type: ignore[return-value]
        if book.fire(job.id, "poll-429", job.plan):
            raise self.dialect.rate_limited(job.model)
        if book.fire(job.id, "poll-500", job.plan):
            raise self.dialect.server_error()
        if book.fire(job.id, "poll-503", job.plan):
            raise self.dialect.overloaded()
        return self._video_response(job)

    async def content(self, request: Request) -> Response:
        job = self._job(request)
        variant = request.query_params.get("variant", "video")
        if variant not in MEDIA_TYPES:
            raise invalid_enum("variant", variant, CONTENT_VARIANTS)
        await self._slow(job.plan)
        if self.store.faults.fire(job.id, "download-503", job.plan):
            raise self.dialect.overloaded()
        status, _ = job.state()
        if status == "failed":
            raise openai_error(404, f"Video {job.id} failed and has no content.", param="video_id")
        if status != "completed":
            raise openai_error(
                404, "Video is not ready yet, use the GET endpoint to check its status.", param="video_id"
            )
        rendered = await anyio.to_thread.run_sync(render, source_spec(job), self.settings.cache_dir)
        path = {
            "video": rendered.video,
            "thumbnail": rendered.thumbnail,
            "spritesheet": rendered.spritesheet,
        }[variant]
        return FileResponse(path, media_type=MEDIA_TYPES[variant])

    async def remix(self, request: Request) -> Response:
        source = self._job(request)
        body = await read_body(request)
        prompt = check_prompt(body)
        await self._slow(self.store.faults.plan(prompt))
        self._create_faults(prompt, source.model)
        status, _ = source.state()
        if status != "completed":
            raise bad_request(
                f"Video {source.id} is {status}; only completed videos can be remixed.", param="video_id"
            )
        job = self.store.add(
            prompt=prompt,
            model=source.model,
            seconds=source.seconds,
            width=source.width,
            height=source.height,
            remixed_from=source.id,
            extra={k: v for k, v in body.items() if k != "prompt"},
        )
        return self._video_response(job)

    async def list(self, request: Request) -> Response:
        query = request.query_params
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid_enum("order", order, ["asc", "desc"])
        limit = _limit(query.get("limit"))
        after = query.get("after") or None
        if after is not None and self.store.get(after) is None:
            raise bad_request(f"Invalid 'after': no video with id '{after}'.", param="after")
        jobs, has_more = self.store.page(after=after, limit=limit, order=order)
        data = [self.dialect.video_body(video_json(job), job, created=False) for job in jobs]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": has_more,
            }
        )

    async def delete(self, request: Request) -> Response:
        """Deletes completed or failed videos; a job still running answers 400 (it cannot be recalled)."""
        job = self._job(request)
        await self._slow(job.plan)
        status, _ = job.state()
        if status not in ("completed", "failed"):
            raise bad_request(
                f"Video {job.id} is {status}; only completed or failed videos can be deleted.",
                param="video_id",
            )
        self.store.remove(job.id)
        return JSONResponse({"id": job.id, "object": "video.deleted", "deleted": True})


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIST_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid type for 'limit': expected an integer, but got a string instead ('{raw}').",
            param="limit",
            code="invalid_type",
        ) from None
    if limit < 0:
        raise bad_request(
            f"Invalid 'limit': integer below minimum value. Expected a value >= 0, but got {limit} instead.",
            param="limit",
            code="integer_below_min_value",
        )
    if limit > MAX_LIST_LIMIT:
        raise bad_request(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {MAX_LIST_LIMIT}, "
            f"but got {limit} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return limit


def videos_app(settings: EmulatorSettings, dialect: Dialect) -> Starlette:
    """The Starlette app; ``app.state.store`` is the job store (tests inspect what was received)."""
    api = VideosAPI(settings, dialect)
    edits = EditsAPI(api)
    base = f"{dialect.prefix}/videos"
    routes = (
        []
        if not dialect.serves_edits
        else [
            Route(base + "/edits", api.guarded(edits.edit), methods=["POST"]),
            Route(base + "/extensions", api.guarded(edits.extend), methods=["POST"]),
            Route(base + "/characters", api.guarded(edits.create_character), methods=["POST"]),
            Route(base + "/characters/{character_id}", api.guarded(edits.get_character), methods=["GET"]),
        ]
    )
    routes += [
        Route(base, api.guarded(api.create), methods=["POST"]),
        Route(base, api.guarded(api.list), methods=["GET"]),
        Route(base + "/{video_id}", api.guarded(api.retrieve), methods=["GET"]),
        Route(base + "/{video_id}", api.guarded(api.delete), methods=["DELETE"]),
        Route(base + "/{video_id}/content", api.guarded(api.content), methods=["GET"]),
        Route(base + "/{video_id}/remix", api.guarded(api.remix), methods=["POST"]),
    ]

    async def wire_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WireError)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        error = dialect.route_not_found(request, status) if status in (404, 405) else dialect.server_error()
        return JSONResponse(error.body, status_code=error.status, headers=error.headers)

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        WireError: wire_error,
        HTTPException: http_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.store = api.store
    app.state.settings = settings
    return app
