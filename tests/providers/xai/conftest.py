"""The gateway in front of the xAI emulator, shared by the gateway tests of this package (creates,
edits and extensions): the 1.5 models and the legacy model with edits and extensions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.xai.emulator import create_app as xai_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-xai-gateway-master"
UPSTREAM_KEY = "xai-upstream-key"


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[GatewayAdmin]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.5, cache_dir=render_cache)
    with live_server(xai_emulator(settings)) as upstream:

        def entry(name: str, model: str) -> dict[str, Any]:
            params = {"model": f"xai/{model}", "api_key": UPSTREAM_KEY, "api_base": f"{upstream}/v1"}
            return {"model_name": name, "litellm_params": params}

        config = parse_config(
            {
                "model_list": [
                    # first: an uploaded source with no model goes to the first model (default_model)
                    entry("grok", "grok-imagine-video"),
                    entry("grok-lite", "grok-imagine-video-1.5-lite"),
                    entry("grok-1.5", "grok-imagine-video-1.5"),
                ],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        with live_server(create_app(config, stores=MemoryStores())) as url:
            yield GatewayAdmin(url, MASTER)
