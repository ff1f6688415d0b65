"""A gateway app on in-memory stores and the local provider, driven in-process (httpx ASGITransport)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.content import FileContentStore
from vidgate.store.memory import MemoryStores

MASTER = "sk-server-test-master"
PRICE_PER_SECOND = 0.1


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class Served:
    app: Starlette
    client: httpx.AsyncClient
    stores: MemoryStores

    async def new_key(self, **fields: Any) -> str:
        reply = await self.client.post("/key/generate", json=fields, headers=auth(MASTER))
        assert reply.status_code == 200, reply.text
        secret: str = reply.json()["key"]
        return secret

    async def create(self, secret: str, prompt: str = "a red fox", **fields: Any) -> dict[str, Any]:
        body = {"model": "local-1", "prompt": prompt, "seconds": "1", "size": "320x180", **fields}
        reply = await self.client.post("/v1/videos", json=body, headers=auth(secret))
        assert reply.status_code == 200, reply.text
        video: dict[str, Any] = reply.json()
        return video

    async def wait_done(self, secret: str, video_id: str) -> dict[str, Any]:
        """Poll as a client would (each GET refreshes a stale job) until the job is terminal."""
        for _ in range(200):
            reply = await self.client.get(f"/v1/videos/{video_id}", headers=auth(secret))
            assert reply.status_code == 200, reply.text
            video: dict[str, Any] = reply.json()
            if video["status"] in ("completed", "failed"):
                return video
            await asyncio.sleep(0.05)
        raise AssertionError(f"{video_id} did not finish")

    def sdk(self, secret: str) -> openai.AsyncOpenAI:
        """The official SDK, sending its exact requests into the app in-process."""
        transport = httpx.ASGITransport(app=self.app)
        return openai.AsyncOpenAI(
            base_url="http://gateway.test/v1",
            api_key=secret,
            # openai types http_client as httpx2's client; an httpx client is what this runs with.
            http_client=httpx.AsyncClient(  # type: ignore[arg-type]
                transport=transport, base_url="http://gateway.test"
            ),
            max_retries=0,
        )


@pytest.fixture
def local_root(render_cache: Path, tmp_path: Path) -> Path:
    """Local provider jobs per test; renders shared through the session cache."""
    root = tmp_path / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    return root


def gateway_config(local_root: Path, *, request_logging: bool = False, **general: Any) -> Any:
    entries = [
        {
            "model_name": "local-1",
            "litellm_params": {
                "model": "local/local-1",
                "api_base": str(local_root),
                "output_cost_per_second": PRICE_PER_SECOND,
            },
        },
        {
            "model_name": "local-free",
            "litellm_params": {"model": "local/local-1", "api_base": str(local_root)},
        },
    ]
    settings = {"master_key": MASTER, **general}
    data = {
        "model_list": entries,
        "general_settings": settings,
        "litellm_settings": {"request_logging": request_logging},
    }
    return parse_config(data, environ={})


@asynccontextmanager
async def serving(
    local_root: Path,
    *,
    run_worker: bool = False,
    request_logging: bool = False,
    content_dir: Path | None = None,
    **options: Any,
) -> AsyncIterator[Served]:
    """The gateway app over memory stores (``content_dir``: finished videos in a file store there)."""
    stores = MemoryStores()
    if content_dir is not None:
        stores.content = FileContentStore(content_dir)
    config = gateway_config(local_root, request_logging=request_logging)
    app = create_app(config, stores=stores, run_worker=run_worker, **options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Served(app=app, client=client, stores=stores)


@pytest.fixture
async def served(local_root: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.2")
    async with serving(local_root) as gateway:
        yield gateway
