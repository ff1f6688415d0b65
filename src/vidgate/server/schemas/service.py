"""Replies of the service routes: the root, models, health."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class About(BaseModel):
    """``GET /``: what this server is and where its API and documentation are."""

    object: Literal["vidgate.gateway"] = "vidgate.gateway"
    version: str
    description: str
    docs: str
    openapi: str
    api_base: str
    auth: str
    health: str


class SizeOption(BaseModel):
    size: str
    resolution: str
    aspect_ratio: str | None
    durations: list[int]


class Pricing(BaseModel):
    """USD amounts as decimal strings (never floats)."""

    currency: str
    per_second: dict[str, str]
    per_second_no_audio: dict[str, str]
    per_second_with_video: dict[str, str]
    per_video: str
    per_input: dict[str, str]
    per_output_token: str | None
    per_output_token_by_resolution: dict[str, str]
    per_output_token_with_video: dict[str, str]  # by tier: a request carrying an input video (Seedance)
    output_tokens_per_second: dict[str, int]


class ModelLifecycle(BaseModel):
    status: str
    deprecated_on: str | None
    retires_on: str | None
    successor: str | None
    served_after_retirement: bool


class PassthroughParameters(BaseModel):
    extra_body: bool
    refused: list[str]


class Model(BaseModel):
    """OpenAI's model object (``id/object/created/owned_by``) and what the model accepts and costs
    (``gateway.capabilities``: OpenRouter's names beside vidgate's exact ones)."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    provider: str
    catalogue_ids: list[str]
    supported_resolutions: list[str]
    supported_aspect_ratios: list[str]
    supported_sizes: list[str]
    supported_durations: list[int]
    sizes: list[SizeOption]
    default_size: str
    default_duration: int
    open_sizes: bool
    open_durations: bool
    features: list[str]
    parameters: list[str]
    max_reference_images: int
    max_reference_videos: int
    max_videos_per_request: int
    pricing: Pricing
    pricing_skus: dict[str, str]
    lifecycle: ModelLifecycle
    allowed_passthrough_parameters: PassthroughParameters


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    """Each component (``db``, ``redis``, ``content``, ``poller``) is ``ok`` or ``failing``."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Literal["ok", "failing"]]

    status: Literal["healthy", "unhealthy"]
    failing: list[str] | None = None
