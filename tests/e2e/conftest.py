"""An OpenAI emulator on loopback for the end-to-end tests (the gateway's upstream)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.openai.emulator import create_app as openai_emulator

UPSTREAM_KEY = "sk-upstream-emulator-key"


def emulator(render_cache: Path, processing_seconds: float) -> Iterator[str]:
    settings = EmulatorSettings(
        api_key=UPSTREAM_KEY, processing_seconds=processing_seconds, poll_after_ms=100, cache_dir=render_cache
    )
    with live_server(openai_emulator(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def upstream(render_cache: Path) -> Iterator[str]:
    """A fast upstream: jobs finish 1.5 s after create."""
    yield from emulator(render_cache, 1.5)
