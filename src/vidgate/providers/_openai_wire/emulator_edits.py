"""The Videos API's edits, extensions and characters, emulated (openai-python 3.63.0's wire):

- ``POST /videos/edits`` (prompt, video) and ``POST /videos/extensions`` (prompt, seconds, video), where
  ``video`` is a multipart file part or ``{"id": ...}`` (JSON, or the form field ``video[id]``); the id
  must name a completed video of this store. The new job's content is rendered from the source: an edit
  mixes the new prompt's scene into the source's frames under its card, an extension appends
  ``seconds`` of new frames.
- ``POST /videos/characters`` (name, video file) -> ``{id, created_at, name}``;
  ``GET /videos/characters/{character_id}``.

Uploads must be MP4 (read from the header by ``catalog.mp4``, as the real service refuses other files).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vidgate.catalog.mp4 import probe
from vidgate.emulators.common import EmuJob, new_id
from vidgate.providers._openai_wire.emulator_store import render_prompt
from vidgate.providers._openai_wire.emulator_wire import (
    MAX_IMAGE_BYTES,
    WireError,
    bad_request,
    check_prompt,
    invalid_enum,
    missing,
    openai_error,
)
from vidgate.render import RenderSpec, render

if TYPE_CHECKING:
    from vidgate.providers._openai_wire.emulator_app import VideosAPI

MAX_VIDEO_BYTES = 5 * MAX_IMAGE_BYTES
SOURCE_KEY = "source_video"  # EmuJob.extra: the source MP4 of an edit or extension
TASK_KEY = "task"


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    created_at: int
    data: bytes


async def read_task_body(request: Request) -> dict[str, Any]:
    """JSON as sent; multipart text fields as strings, ``video`` as bytes, ``video[id]`` as ``{"id"}``."""
    mime = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body
    if mime != "multipart/form-data":
        raise bad_request(f"Unsupported content type: '{mime}'.")
    out: dict[str, Any] = {}
    async with request.form(max_part_size=MAX_VIDEO_BYTES) as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "video":
                    raise bad_request(f"Unexpected file in field '{key}'.", param=key)
                out["video"] = await value.read(MAX_VIDEO_BYTES + 1)
            elif key == "video[id]":
                out["video"] = {"id": value}
            else:
                out[key] = value
    return out


def _upload(data: bytes) -> tuple[bytes, int, int, int]:
    """MP4 bytes with their whole seconds, width and height; a 400 naming ``video`` otherwise."""
    if len(data) > MAX_VIDEO_BYTES:
        raise bad_request(f"Invalid 'video': larger than {MAX_VIDEO_BYTES} bytes.", param="video")
    info = probe(data)
    if info is None or info.width is None or info.height is None:
        raise bad_request("Invalid 'video': expected an MP4 video file.", param="video", code="invalid_video")
    return data, info.whole_seconds, info.width, info.height


class EditsAPI:
    """Edits, extensions and characters over the Videos emulator's job store (``VideosAPI``)."""

    def __init__(self, videos: VideosAPI) -> None:
        self.videos = videos  # its store, settings, dialect and fault hooks
        self.characters: dict[str, Character] = {}

    async def _source(self, raw: object) -> tuple[bytes, int, int, int, str | None, str | None]:
        """(MP4, seconds, width, height, source id, its model) of ``video``."""
        if isinstance(raw, bytes):
            return (*_upload(raw), None, None)
        if isinstance(raw, dict) and set(raw) == {"id"} and isinstance(raw["id"], str):
            job: EmuJob | None = self.videos.store.get(raw["id"])
            if job is None:
                raise self.videos.dialect.video_not_found(raw["id"])
            status, _ = job.state()
            if status != "completed":
                raise bad_request(f"Video {job.id} is {status}; it must be completed.", param="video")
            rendered = await anyio.to_thread.run_sync(
                render, source_spec(job), self.videos.settings.cache_dir
            )
            return rendered.video.read_bytes(), job.seconds, job.width, job.height, job.id, job.model
        if raw is None:
            raise missing("video")
        raise bad_request("Invalid 'video': expected a file or an object {\"id\": ...}.", param="video")

    async def start(self, request: Request, task: str) -> Response:
        body = await read_task_body(request)
        prompt = check_prompt(body)
        allowed = {"prompt", "video", "model"} | ({"seconds"} if task == "extend" else set())
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise bad_request(
                f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter"
            )
        data, source_seconds, width, height, source_id, source_model = await self._source(body.get("video"))
        model, spec = self.videos.dialect.resolve_model(body.get("model") or source_model)
        self.videos._create_faults(prompt, model)
        seconds = source_seconds
        if task == "extend":
            raw = body.get("seconds", str(spec.default_seconds))
            options = [str(s) for s in spec.seconds]
            if raw not in options:
                raise invalid_enum("seconds", raw, options)
            seconds = int(raw)
        job = self.videos.store.add(prompt=prompt, model=model, seconds=seconds, width=width, height=height)
        job.extra[SOURCE_KEY] = data
        job.extra[TASK_KEY] = task
        job.extra["fields"] = {"source_video_id": source_id}
        return self.videos._video_response(job, created=True)

    async def edit(self, request: Request) -> Response:
        return await self.start(request, "edit")

    async def extend(self, request: Request) -> Response:
        return await self.start(request, "extend")

    async def create_character(self, request: Request) -> Response:
        body = await read_task_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise missing("name")
        raw = body.get("video")
        if not isinstance(raw, bytes):
            raise missing("video") if raw is None else bad_request("'video' must be a file.", param="video")
        data = _upload(raw)[0]
        character = Character(new_id("char_", 16), name, int(time.time()), data)
        self.characters[character.id] = character
        return JSONResponse(_character_json(character))

    async def get_character(self, request: Request) -> Response:
        character_id = request.path_params["character_id"]
        character = self.characters.get(character_id)
        if character is None:
            raise openai_error(404, f"No character found with id '{character_id}'.", param="character_id")
        return JSONResponse(_character_json(character))


def _character_json(character: Character) -> dict[str, Any]:
    return {"id": character.id, "created_at": character.created_at, "name": character.name}


def source_spec(job: EmuJob) -> RenderSpec:
    """What a job's content renders: an edit's or extension's is derived from its source video."""
    source = job.extra.get(SOURCE_KEY)
    mode = job.extra.get(TASK_KEY)
    return RenderSpec(
        render_prompt(job),
        job.seconds,
        job.width,
        job.height,
        seed=job.seed,
        image=job.image,
        source_video=source if isinstance(source, bytes) else None,
        source_mode=str(mode) if isinstance(source, bytes) else None,
    )


__all__ = ["EditsAPI", "WireError", "source_spec"]
