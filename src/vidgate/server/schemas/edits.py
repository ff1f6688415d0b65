"""Edits, extensions and characters (``server/routes/video_edits.py``; values read by
``server/video_sources.py``, whose allowlists are these models' fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VideoReference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="One of your completed videos.")


class SourceVideoBody(BaseModel):
    """What an edit and an extension share, as JSON: the source by id."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: VideoReference
    model: str | None = None
    user: str | None = None


class SourceVideoForm(BaseModel):
    """As multipart (what the ``openai`` SDK sends): the source as an MP4 file part, or ``video[id]``."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: bytes = Field(description="An MP4 file.")
    model: str | None = None
    user: str | None = None


_EDIT_SIZE = Field(
    None,
    description="A vidgate extension: the output size, 'WIDTHxHEIGHT' (default: the source's). A model "
    "that can reframe takes its sizes at the source's resolution; any other only the source's size.",
)


class EditVideoBody(SourceVideoBody):
    """``POST /v1/videos/edits`` as JSON: the source by id."""

    size: str | None = _EDIT_SIZE


class EditVideoForm(SourceVideoForm):
    """``POST /v1/videos/edits`` as multipart: the source as an MP4 file part, or ``video[id]``."""

    size: str | None = _EDIT_SIZE


class ExtendVideoBody(SourceVideoBody):
    seconds: str | int | None = None


class ExtendVideoForm(SourceVideoForm):
    seconds: str | None = None


class CreateCharacterForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    video: bytes = Field(description="An MP4 clip of the character.")


class Character(BaseModel):
    id: str
    created_at: int
    name: str
