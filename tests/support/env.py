"""Isolate SDK tests from the machine: no provider env vars, no module-level vidgate.api_key/api_base."""

from __future__ import annotations

import pytest

import vidgate
from vidgate import settings
from vidgate.providers.registry import specs
from vidgate.providers.vertex_ai.auth import VERTEX_ACCESS_TOKEN


def _provider_env() -> tuple[str, ...]:
    """Every variable an installed provider's config model declares, plus the Vertex token's."""
    names = [
        env
        for spec in specs().values()
        for field in spec.config.model_fields
        for env in spec.config.env_names(field)
    ]
    return (*names, *VERTEX_ACCESS_TOKEN, settings.OPENAI_API_KEY)


PROVIDER_ENV: tuple[str, ...] = _provider_env()


def clear_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(vidgate, "api_key", None)
    monkeypatch.setattr(vidgate, "api_base", None)
