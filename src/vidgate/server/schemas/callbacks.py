"""Provider callbacks (``server/routes/provider_callbacks.py``): what a provider posts is its own
format, read and verified by ``gateway.provider_callbacks``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel


class ProviderPayload(RootModel[Any]):
    """The provider's own callback body (any JSON; verified with its signature)."""


class CallbackQuery(BaseModel):
    token: str = Field(description="The per-job secret the gateway put in the callback URL.")


class CallbackAnswer(BaseModel):
    """``{"received": true}``, or what the provider's challenge asks to be echoed."""

    model_config = ConfigDict(extra="allow")

    received: bool | None = None
