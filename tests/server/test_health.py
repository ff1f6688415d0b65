"""Readiness through the app, with each component broken for real: it answers 503 naming the failing
component (never the driver's message), and creates and key writes fail with a clean 503 in the API's
error envelope instead of a 500 or a row in a deleted file."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.server.conftest import MASTER, auth, gateway_config, serving
from tests.support.redis_server import redis_server
from tests.support.unwritable import unwritable

from vidgate.server.app import create_app
from vidgate.server.state import ServerState
from vidgate.store.factory import open_stores

CREATE = {"model": "local-1", "prompt": "a red fox", "seconds": "1", "size": "320x180"}


@asynccontextmanager
async def sqlite_gateway(
    tmp_path: Path, local_root: Path, *, redis_url: str | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, ServerState]]:
    """The app on a SQLite file (and Redis when given) with its poller running."""
    stores = await open_stores(f"sqlite:///{tmp_path / 'db' / 'v.db'}", redis_url, tmp_path / "content")
    app = create_app(gateway_config(local_root), stores=stores, run_worker=True)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield client, app.state.vidgate
    finally:
        await stores.close()


async def _ready(client: httpx.AsyncClient) -> dict[str, Any]:
    reply = await client.get("/health/readiness")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def _not_ready(client: httpx.AsyncClient, failing: list[str]) -> dict[str, Any]:
    reply = await client.get("/health/readiness")
    assert reply.status_code == 503, reply.text
    body: dict[str, Any] = reply.json()
    assert body["status"] == "unhealthy"
    assert body["failing"] == failing
    for name in failing:
        assert body[name] == "failing"
    return body


def _is_503_envelope(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"]["type"] == "service_unavailable"
    assert "v.db" not in reply.text  # the file's path is the operator's, in the log


async def test_healthy_names_every_component(tmp_path: Path, local_root: Path) -> None:
    async with sqlite_gateway(tmp_path, local_root) as (client, _):
        assert await _ready(client) == {"status": "healthy", "db": "ok", "content": "ok", "poller": "ok"}


async def test_a_read_only_database_file_is_not_ready_and_writes_are_503(
    tmp_path: Path, local_root: Path
) -> None:
    async with sqlite_gateway(tmp_path, local_root) as (client, _):
        key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
        with unwritable(tmp_path / "db" / "v.db"):
            body = await _not_ready(client, ["db"])
            assert body["content"] == "ok"
            assert "v.db" not in str(body)
            _is_503_envelope(await client.post("/key/generate", json={}, headers=auth(MASTER)))
            _is_503_envelope(await client.post("/v1/videos", json=CREATE, headers=auth(key)))
        await _ready(client)


async def test_a_removed_database_directory_is_not_ready_and_creates_are_503(
    tmp_path: Path, local_root: Path
) -> None:
    async with sqlite_gateway(tmp_path, local_root) as (client, _):
        key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
        shutil.rmtree(tmp_path / "db")
        await _not_ready(client, ["db"])
        _is_503_envelope(await client.post("/v1/videos", json=CREATE, headers=auth(key)))
        assert not (tmp_path / "db").exists()


async def test_an_unwritable_content_directory_is_not_ready(tmp_path: Path, local_root: Path) -> None:
    async with sqlite_gateway(tmp_path, local_root) as (client, _):
        await _ready(client)  # the first probe makes the content directory
        with unwritable(tmp_path / "content"):
            body = await _not_ready(client, ["content"])
            assert body["db"] == "ok"
        await _ready(client)


async def test_a_stopped_poller_is_not_ready(tmp_path: Path, local_root: Path) -> None:
    async with sqlite_gateway(tmp_path, local_root) as (client, state):
        await _ready(client)
        assert state.poller is not None
        await state.poller.stop()
        body = await _not_ready(client, ["poller"])
        assert body["db"] == "ok"


async def test_a_stopped_redis_is_named_and_its_address_is_not_shown(
    tmp_path: Path, local_root: Path
) -> None:
    """The database answered; an operator paged at night must not be sent to look at it."""
    with redis_server() as server:
        async with sqlite_gateway(tmp_path, local_root, redis_url=server.url) as (client, _):
            assert (await _ready(client))["redis"] == "ok"
            server.stop()
            body = await _not_ready(client, ["redis"])
            assert body["db"] == "ok"
            assert str(server.port) not in str(body)  # driver details stay in the log (unauthenticated)


async def test_closed_memory_stores_are_not_ready(local_root: Path) -> None:
    async with serving(local_root) as served:
        assert (await served.client.get("/health/readiness")).json()["db"] == "ok"
        await served.stores.close()
        await _not_ready(served.client, ["db"])
