"""The two error envelopes: OpenAI's on the gateway's own routes, Google's on the pass-through."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """``{"error": {message, type, param, code}}`` (``errors.APIError.to_openai``)."""

    model_config = ConfigDict(title="OpenAIError")

    error: OpenAIErrorDetail


class GoogleErrorDetail(BaseModel):
    code: int
    message: str
    status: str
    details: list[dict[str, Any]] | None = None  # ErrorInfo, BadRequest, RetryInfo (absent when none)


class GoogleError(BaseModel):
    """``{"error": {code, message, status, details}}`` (``server/google_errors.py``)."""

    model_config = ConfigDict(title="GoogleError")

    error: GoogleErrorDetail
