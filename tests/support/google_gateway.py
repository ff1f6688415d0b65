"""A gateway with Gemini and Vertex AI deployments on their emulators (loopback), for the pass-through
tests: config, keys, and polling helpers shared by the domain, route and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.live import live_server
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.providers.gemini import emulator as gemini_emulator
from vidgate.providers.vertex_ai import emulator as vertex_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-google-passthrough-master"
GEMINI_KEY = "gemini-upstream-key"
VERTEX_TOKEN = "vertex-upstream-token"
VERTEX_PROJECT = "gw-project"
VERTEX_LOCATION = "us-central1"
# Catalogue prices ($/s at 720p) of the models configured below, for spend assertions.
PRICE = {"veo-3": 0.75, "veo-fast": 0.15, "veo-2": 0.35, "veo-vertex": 0.10}


@contextmanager
def google_emulators(cache: Path, processing_seconds: float = 0.4) -> Iterator[tuple[str, str]]:
    """A Gemini API emulator and a Vertex AI emulator, each accepting only the gateway's credentials."""
    gemini = EmulatorSettings(
        api_key=GEMINI_KEY, processing_seconds=processing_seconds, poll_after_ms=50, cache_dir=cache
    )
    vertex = EmulatorSettings(
        api_key=VERTEX_TOKEN, processing_seconds=processing_seconds, poll_after_ms=50, cache_dir=cache
    )
    with (
        live_server(gemini_emulator.create_app(gemini)) as gemini_url,
        live_server(vertex_emulator.create_app(vertex)) as vertex_url,
    ):
        yield gemini_url, vertex_url


def google_config(gemini_url: str, vertex_url: str, **general: Any) -> GatewayConfig:
    """``veo-3`` is seed 001's model (``veo-3.0-generate-preview``); ``veo-fast`` renders 4 s videos;
    ``veo-2`` allows two samples; ``veo-vertex`` is Vertex AI; ``sora-2`` is a non-Google model."""

    def gemini(name: str, model: str) -> dict[str, Any]:
        params = {
            "model": f"gemini/{model}",
            "allow_retired": True,
            "api_key": GEMINI_KEY,
            "api_base": gemini_url,
        }
        return {"model_name": name, "litellm_params": params}

    vertex = {
        "model_name": "veo-vertex",
        "litellm_params": {
            "model": "vertex_ai/veo-3.0-fast-generate-001",
            "allow_retired": True,
            "api_base": vertex_url,
            "vertex_project": VERTEX_PROJECT,
            "vertex_location": VERTEX_LOCATION,
            "access_token": VERTEX_TOKEN,
        },
    }
    sora = {
        "model_name": "sora-2",
        "litellm_params": {
            "model": "openai/sora-2",
            "allow_retired": True,
            "api_key": "sk-unused",
            "api_base": "http://127.0.0.1:9/v1",
        },
    }
    data = {
        "model_list": [
            gemini("veo-3", "veo-3.0-generate-preview"),
            gemini("veo-fast", "veo-3.0-fast-generate-001"),
            gemini("veo-2", "veo-2.0-generate-001"),
            vertex,
            sora,
        ],
        "general_settings": {"master_key": MASTER, **general},
    }
    return parse_config(data, environ={})


def omni_config(
    gemini_url: str, vertex_url: str, *, guardrails: list[dict[str, Any]] | None = None, **general: Any
) -> GatewayConfig:
    """Gemini Omni on both services: ``omni`` (Gemini API) and ``omni-vertex`` (Vertex AI), both
    ``gemini-omni-1.2-flash``, and a Veo model, ``veo-fast``, beside them."""
    gemini = {"model": "gemini/gemini-omni-1.2-flash", "api_key": GEMINI_KEY, "api_base": gemini_url}
    vertex = {
        "model": "vertex_ai/gemini-omni-1.2-flash",
        "api_base": vertex_url,
        "vertex_project": VERTEX_PROJECT,
        "vertex_location": VERTEX_LOCATION,
        "access_token": VERTEX_TOKEN,
    }
    veo = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_key": GEMINI_KEY,
        "api_base": gemini_url,
    }
    data = {
        "model_list": [
            {"model_name": "omni", "litellm_params": gemini},
            {"model_name": "omni-vertex", "litellm_params": vertex},
            {"model_name": "veo-fast", "litellm_params": veo},
        ],
        "general_settings": {"master_key": MASTER, **general},
        "guardrails": guardrails or [],
    }
    return parse_config(data, environ={})


def master_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {MASTER}"}


def new_key(gateway: str, **fields: Any) -> str:
    """A virtual key made through the admin API of a running gateway."""
    reply = httpx.post(f"{gateway}/key/generate", json=fields, headers=master_headers(), timeout=10)
    assert reply.status_code == 200, reply.text
    secret: str = reply.json()["key"]
    return secret


def key_spend(gateway: str, secret: str) -> dict[str, Any]:
    """``spend``/``reserved`` (USD) of a key, from ``GET /key/info``."""
    reply = httpx.get(f"{gateway}/key/info", params={"key": secret}, headers=master_headers(), timeout=10)
    assert reply.status_code == 200, reply.text
    info: dict[str, Any] = reply.json()["info"]
    return info


@asynccontextmanager
async def omni_client(emulators: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of an in-process gateway (``omni_config`` on the emulators, memory stores, no
    poller), the app's lifespan running around it."""
    app = create_app(omni_config(*emulators), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


async def anew_key(client: httpx.AsyncClient) -> str:
    """A virtual key made through ``client``'s gateway (the async ``new_key``)."""
    reply = await client.post("/key/generate", json={}, headers=master_headers())
    assert reply.status_code == 200, reply.text
    secret: str = reply.json()["key"]
    return secret
