"""Requests of the OpenAI Videos routes (and the seed documents' legacy ones).

``CreateVideoBody`` is the create's allowlist: ``parse_create`` refuses any other name with
``unknown_parameter``, and a test holds its fields to ``catalog.validate``'s parameters. Values are read
by ``server/forms.py`` (OpenAI's wording, one path for JSON and forms); the types and bounds here are
the ones it enforces.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from vidgate.catalog.openrouter import (
    MAX_DURATION,
    MAX_INPUT_REFERENCES,
    FrameImage,
    InputReference,
    ProviderPreferences,
    VideoReference,
)
from vidgate.gateway.idempotency import MAX_KEY_LENGTH
from vidgate.gateway.service import MAX_LIST_LIMIT
from vidgate.types import ContentVariant

DEFAULT_LIST_LIMIT = 20
# A create the default gateway (`vidgate serve` without a config: the local renderer's models) accepts.
CREATE_EXAMPLE: JsonDict = {
    "model": "local-1",
    "prompt": "a red fox running through snow",
    "seconds": "1",
    "size": "320x180",
}


class ImageReference(BaseModel):
    """An image by URL (https or ``data:``) or by a file id: exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    image_url: str | None = None
    file_id: str | None = None


ImageValue = ImageReference | str


class CreateVideoBody(BaseModel):
    """``POST /v1/videos`` as JSON. Beyond OpenAI's fields: the catalogue's provider parameters and
    ``extra_body`` (passed to the provider beside them; names the gateway prices are refused there)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREATE_EXAMPLE]})

    model: str | None = Field(None, description="A served model; absent: the default model.")
    prompt: str = Field(description="What to render.")
    seconds: str | int | None = Field(None, description="Clip length; the model's allowed values.")
    size: str | None = Field(None, description="WIDTHxHEIGHT; the model's allowed sizes.")
    input_reference: ImageValue | None = None
    user: str | None = None
    extra_body: dict[str, Any] | None = None
    last_frame: ImageValue | None = None
    reference_images: list[ImageValue] | ImageValue | None = None
    negative_prompt: str | None = None
    person_generation: str | None = None
    seed: int | None = None
    n: int | None = None
    generate_audio: bool | None = None
    # OpenRouter's request shape (read by ``catalog.openrouter``; a conflict with OpenAI's fields is a 400)
    duration: int | None = Field(None, ge=1, le=MAX_DURATION, description="Seconds (OpenRouter).")
    resolution: str | None = Field(None, min_length=1, max_length=32, description="e.g. `720p` (OpenRouter).")
    aspect_ratio: str | None = Field(
        None, min_length=1, max_length=16, description="e.g. `16:9` (OpenRouter)."
    )
    frame_images: list[FrameImage] | None = Field(None, min_length=1, max_length=2)
    input_references: list[InputReference | VideoReference] | None = Field(
        None,
        min_length=1,
        max_length=MAX_INPUT_REFERENCES,
        description="Reference images (`image_url`, OpenRouter) and reference videos (`video_url`: an "
        "https URL on a public host, fetched by the provider) where the model takes them.",
    )
    callback_url: str | None = Field(
        None, min_length=1, description="A per-job webhook, signed as the global one."
    )
    provider: ProviderPreferences | None = Field(
        None,
        description="`options.<provider>`: native fields for the serving provider, added to `extra_body` "
        "(OpenRouter); other providers' options and routing preferences are ignored.",
    )


class CreateVideoForm(BaseModel):
    """``POST /v1/videos`` as multipart (what the ``openai`` SDK sends): text fields, the image as a
    file part; a reference object flattened with brackets (``input_reference[image_url]``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREATE_EXAMPLE]})

    model: str | None = None
    prompt: str
    seconds: str | None = None
    size: str | None = None
    input_reference: bytes | None = Field(None, description="The first frame, as an image file.")
    user: str | None = None
    last_frame: bytes | None = None
    negative_prompt: str | None = None
    person_generation: str | None = None
    seed: str | None = Field(None, description="An integer, as text.")
    n: str | None = Field(None, description="An integer, as text.")
    generate_audio: Literal["true", "false", "1", "0"] | None = None
    duration: str | None = Field(None, description="Seconds, as text (OpenRouter).")
    resolution: str | None = None
    aspect_ratio: str | None = None
    callback_url: str | None = None


class RemixBody(BaseModel):
    """A remix keeps the source's model, size and seconds: only the prompt is new."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"prompt": "the same, at night"}]}
    )

    prompt: str


class ListVideosQuery(BaseModel):
    limit: int = Field(DEFAULT_LIST_LIMIT, ge=0, le=MAX_LIST_LIMIT)
    order: Literal["asc", "desc"] = "desc"
    after: str | None = Field(None, description="A video id: the page after it.")


class ContentQuery(BaseModel):
    variant: ContentVariant = "video"


class LegacyStatusBody(BaseModel):
    """``POST /videos/status``: ``model`` is accepted and not needed (a job is pinned)."""

    model_config = ConfigDict(extra="forbid")

    video_id: str
    model: str | None = None


class LegacyRetrievalBody(LegacyStatusBody):
    variant: ContentVariant | None = None


class LegacyRemixBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video_id: str
    prompt: str
    model: str | None = None


class CreateHeaders(BaseModel):
    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern="^[ -~]+$",  # printable ASCII
        description="The same key and request within 24 h answer the first request's video.",
    )


class RangeHeaders(BaseModel):
    range: str | None = Field(None, alias="Range", description="One byte range, e.g. `bytes=0-1023`.")
