"""Edits, extensions and characters (``server/routes/video_edits.py``; values read by
``server/video_sources.py``, whose allowlists are these models' fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VideoReference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="One of your completed videos.")


class EditVideoBody(BaseModel):
    """``POST /v1/videos/edits`` as JSON: the source by id."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: VideoReference
    model: str | None = None
    user: str | None = None


class EditVideoForm(BaseModel):
    """As multipart (what the ``openai`` SDK sends): the source as an MP4 file part, or ``video[id]``."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: bytes = Field(description="An MP4 file.")
    model: str | None = None
    user: str | None = None


class ExtendVideoBody(EditVideoBody):
    seconds: str | int | None = None


class ExtendVideoForm(EditVideoForm):
    seconds: str | None = None


class CreateCharacterForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    video: bytes = Field(description="An MP4 clip of the character.")


class Character(BaseModel):
    id: str
    created_at: int
    name: str
