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


class Model(BaseModel):
    """OpenAI's model object; further fields describe what the model accepts and costs."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


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
