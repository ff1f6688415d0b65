"""Isolate SDK tests from the machine: no provider env vars, no module-level vidgate.api_key/api_base."""

from __future__ import annotations

import pytest

import vidgate
from vidgate import settings

PROVIDER_ENV: tuple[str, ...] = tuple(
    name
    for entry in (
        settings.OPENAI_API_KEY,
        settings.OPENAI_BASE_URL,
        settings.AZURE_API_KEY,
        settings.AZURE_API_BASE,
        settings.AZURE_API_VERSION,
        settings.GEMINI_API_KEY,
        settings.GEMINI_API_BASE,
        settings.VERTEX_PROJECT,
        settings.VERTEX_LOCATION,
        settings.VERTEX_API_BASE,
        settings.VERTEX_ACCESS_TOKEN,
    )
    for name in ((entry,) if isinstance(entry, str) else entry)
)


def clear_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(vidgate, "api_key", None)
    monkeypatch.setattr(vidgate, "api_base", None)
