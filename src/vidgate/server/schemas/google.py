"""The pass-through's shapes: Google's long-running-operation requests and replies.

The request bodies are Veo's ``predictLongRunning`` shape; the fields vidgate validates, permits and
prices are read by ``providers/_google_wire/native.py``, which answers every wrong value with a 400 in
Google's envelope naming the field. These models describe the envelope around them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PredictInstance(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    image: dict[str, Any] | None = None
    lastFrame: dict[str, Any] | None = None
    referenceImages: list[dict[str, Any]] | None = None
    video: dict[str, Any] | None = None


class PredictLongRunningRequest(BaseModel):
    """``{"instances": [{prompt, image, lastFrame, referenceImages}], "parameters": {...}}``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"instances": [{"prompt": "a red fox in the snow"}], "parameters": {"durationSeconds": 4}}
            ]
        },
    )

    instances: list[PredictInstance] = Field(min_length=1, max_length=1, description="Exactly one.")
    parameters: dict[str, Any] | None = None


class FetchPredictOperationRequest(BaseModel):
    """Vertex's poll: the operation's full name, as ``predictLongRunning`` answered it."""

    model_config = ConfigDict(extra="allow")

    operationName: str = Field(min_length=1)


class OperationStatus(BaseModel):
    code: int
    message: str
    details: list[dict[str, Any]] | None = None


class Operation(BaseModel):
    """A google.longrunning Operation: no ``done`` (or false) while running; then ``response`` or
    ``error``."""

    name: str
    done: bool | None = None
    metadata: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: OperationStatus | None = None


class DownloadQuery(BaseModel):
    alt: Literal["media"] = Field(description="`media`: the file's bytes (the only form served).")


class CreateInteractionRequest(BaseModel):
    """An Interactions API create (Gemini Omni): ``model``, ``input``, ``background: true``; the fields
    vidgate validates, permits and prices are read by the provider's native codec."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    input: Any = Field(
        None,
        description="A text prompt, or content blocks: `text`, `image`, `video` (reference videos of "
        "`reference_to_video`: an https `uri` on a public host, a `gs://` one on Vertex, or `data`).",
    )
    background: bool | None = None
    previous_interaction_id: str | None = None


class Interaction(BaseModel):
    """An Interaction as the API answers it, with the gateway's ids (``id`` is the video id)."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: str | None = None
    model: str | None = None


class Empty(BaseModel):
    """``{}``."""

    model_config = ConfigDict(extra="forbid")
