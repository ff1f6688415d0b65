"""Reading edit, extension and character bodies, once and strictly (JSON or multipart, same fields).

The official ``openai`` package sends all three as multipart: ``video`` as a file part, or the object
``{"id": ...}`` flattened to the text field ``video[id]`` (``forms.unflatten`` nests it back). A JSON
body gives ``"video": {"id": ...}``. An uploaded video is read up to ``MAX_SOURCE_BYTES`` and must be an
MP4 (its header gives the duration and frame size an edit is priced at): anything else, or an edit's
or extension's source whose frame size cannot be read, is a 400 naming ``video``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.datastructures import UploadFile

from vidgate.catalog.mp4 import require_video
from vidgate.catalog.validate import empty_value
from vidgate.errors import BadRequestError, missing_parameters
from vidgate.gateway.edits import MAX_SOURCE_BYTES, UploadedVideo, VideoTaskRequest, too_large
from vidgate.server import forms
from vidgate.server.endpoint import fields_of
from vidgate.server.schemas.edits import CreateCharacterForm, EditVideoBody, ExtendVideoBody
from vidgate.types import VideoTask

EDIT_FIELDS = fields_of(EditVideoBody)  # the documented models are the allowlists
EXTEND_FIELDS = fields_of(ExtendVideoBody)
CHARACTER_FIELDS = fields_of(CreateCharacterForm)


def _known(body: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    for name in body:
        if name not in allowed:
            raise BadRequestError(
                f"Unknown parameter: '{name}'. {what} takes {', '.join(sorted(allowed))}.",
                param=name,
                code="unknown_parameter",
            )


def _missing(body: dict[str, Any], names: tuple[str, ...]) -> None:
    """Every missing required field in one answer."""
    absent = [
        name
        for name in names
        if body.get(name) is None or (isinstance(body.get(name), str) and not body[name].strip())
    ]
    if absent:
        raise missing_parameters(absent)


async def uploaded_video(value: UploadFile, param: str = "video", *, sized: bool = False) -> UploadedVideo:
    """An uploaded MP4, bounded in size, with its duration and frame size from its header; ``sized``
    (an edit's or extension's source, priced at its size's tier): a 400 when the size is unreadable."""
    data = await value.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise too_large(param)
    if not data:
        raise BadRequestError(f"Invalid '{param}': the uploaded file is empty.", param=param)
    # off the event loop: the probe walks every sample (tens of milliseconds for a long clip, catalog.mp4)
    info = await asyncio.to_thread(require_video, data, param, sized=sized)
    return UploadedVideo(
        data=data,
        seconds=info.whole_seconds,
        size=info.size,
        media_type="video/mp4",
        filename=value.filename,
    )


def _video_id(value: Any) -> str:
    unknown = sorted(set(value) - {"id"})
    if unknown:
        raise BadRequestError(
            f'Unknown parameter: \'video[{unknown[0]}]\'. A video reference is {{"id": "video_..."}}.',
            param=f"video[{unknown[0]}]",
            code="unknown_parameter",
        )
    video_id = value.get("id")
    if not isinstance(video_id, str) or not video_id.strip():
        raise BadRequestError(
            "Invalid 'video[id]': expected the id of one of your completed videos.",
            param="video[id]",
            code="invalid_value",
        )
    return video_id


async def parse_task(body: dict[str, Any], task: VideoTask) -> VideoTaskRequest:
    """An edit (``task="edit"``) or extension body."""
    allowed = EDIT_FIELDS if task == "edit" else EXTEND_FIELDS
    _known(body, allowed, "An edit" if task == "edit" else "An extension")
    for name in ("model", "seconds", "size"):
        raw = body.get(name)
        if isinstance(raw, str) and not raw.strip():
            raise empty_value(name)
    _missing(body, ("prompt", "video"))
    video = body["video"]
    upload = video_id = None
    if isinstance(video, UploadFile):
        upload = await uploaded_video(video, sized=True)
    elif isinstance(video, dict):
        video_id = _video_id(video)
    else:
        raise BadRequestError(
            'Invalid \'video\': expected an uploaded MP4 file or an object {"id": "video_..."}.',
            param="video",
            code="invalid_type",
        )
    return VideoTaskRequest(
        task=task,
        prompt=forms.text(body, "prompt", required=True),
        video_id=video_id,
        upload=upload,
        seconds=forms.seconds_value(body) if task == "extend" else None,
        model=forms.text(body, "model"),
        user=forms.text(body, "user"),
        size=forms.text(body, "size") if task == "edit" else None,
    )


async def parse_character(body: dict[str, Any]) -> tuple[str, UploadedVideo]:
    """A character body: ``name`` and the clip as an uploaded MP4."""
    _known(body, CHARACTER_FIELDS, "A character")
    _missing(body, ("name", "video"))
    video = body["video"]
    if not isinstance(video, UploadFile):
        raise BadRequestError(
            "Invalid 'video': expected an uploaded MP4 file (multipart/form-data).",
            param="video",
            code="invalid_type",
        )
    name = forms.text(body, "name", required=True)
    assert name is not None
    return name, await uploaded_video(video)
