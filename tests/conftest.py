"""Shared fixtures. Real-service URLs come from the environment (``.ci/run`` sets them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_local_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the local provider's job files and render cache out of the user's home."""
    base = tmp_path_factory.getbasetemp() / "vidgate-local"
    base.mkdir(exist_ok=True)
    monkeypatch.setenv("VIDGATE_LOCAL_DIR", str(base))


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One render cache for the whole run, so each distinct video is encoded once."""
    return tmp_path_factory.mktemp("render-cache")


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("VIDGATE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("VIDGATE_TEST_POSTGRES_URL is not set (no PostgreSQL for this run)")
    return url


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("VIDGATE_TEST_REDIS_URL")
    if not url:
        pytest.skip("VIDGATE_TEST_REDIS_URL is not set (no Redis for this run)")
    return url
