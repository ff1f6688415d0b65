"""``videos.edit/extend/create_character/get_character`` in the SDK: direct mode on the local provider
(real renders), gateway mode against the in-process gateway (async) and on the wire (sync), and the
400s raised before any call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, auth, serving

from vidgate import AsyncClient, Client
from vidgate.catalog.mp4 import probe
from vidgate.errors import BadRequestError, UnsupportedOperationError
from vidgate.render import RenderSpec, render

GATEWAY_VIDEO = {
    "id": "video_gw1",
    "object": "video",
    "model": "local-1",
    "status": "queued",
    "progress": 0,
    "created_at": 1700000000,
    "size": "320x180",
    "seconds": "1",
}


@pytest.fixture
def clip(render_cache: Path) -> bytes:
    spec = RenderSpec(prompt="a source clip", seconds=1, width=320, height=180)
    return render(spec, cache_dir=render_cache).video.read_bytes()


@pytest.fixture
def local_dir(tmp_path: Path, render_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    monkeypatch.setenv("VIDGATE_LOCAL_DIR", str(root))
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0")
    return root


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request {request.method} {request.url}")


def test_direct_mode_extends_and_edits_local_videos(local_dir: Path, clip: bytes) -> None:
    with Client() as client:
        source = client.videos.create(model="local/local-1", prompt="a fox", seconds=1, size="320x180")
        assert client.videos.wait(source.id).status == "completed"
        extended = client.videos.extend(prompt="it runs", video={"id": source.id}, seconds=2)
        assert extended.seconds == "2"
        assert extended.usage is not None
        assert extended.usage.cost == 0.0  # the local row is free
        client.videos.wait(extended.id)
        info = probe(client.videos.content(extended.id))
        assert info is not None
        assert info.seconds == 3.0
        edited = client.videos.edit(prompt="in blue", video=("clip.mp4", clip), model="local/local-1")
        assert (edited.seconds, edited.size) == ("1", "320x180")
        client.videos.wait(edited.id)
        info = probe(client.videos.content(edited.id))
        assert info is not None
        assert (info.seconds, info.size) == (1.0, "320x180")


def test_direct_mode_refuses_a_model_without_the_capability_before_any_call(clip: bytes) -> None:
    http = httpx.Client(transport=httpx.MockTransport(no_network))
    with Client(api_key="key_test", http_client=http) as client:
        with pytest.raises(BadRequestError) as caught:
            client.videos.edit(prompt="x", video=clip, model="runway/gen4.5")
        assert caught.value.param == "model"
        assert "runway/gen4.5" in caught.value.message
        with pytest.raises(BadRequestError) as bad:
            client.videos.extend(prompt="x", video=b"not a video", model="local/local-1")
        assert bad.value.param == "video"
        with pytest.raises(UnsupportedOperationError):
            client.videos.create_character(name="n", video=clip)


def test_gateway_mode_sends_openai_requests_with_an_idempotency_key(clip: bytes) -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "/characters" in request.url.path:
            return httpx.Response(200, json={"id": "character_1", "created_at": 1, "name": "Foxy"})
        return httpx.Response(200, json=GATEWAY_VIDEO)

    http = httpx.Client(transport=httpx.MockTransport(gateway))
    with Client(api_key="k", api_base="http://gw:4000", http_client=http, gateway=True) as client:
        client.videos.edit(prompt="blue", video={"id": "video_abc"})
        client.videos.extend(prompt="more", video=clip, seconds="4", model="local-1")
        made = client.videos.create_character(name="Foxy", video=clip)
        got = client.videos.get_character("character_1")
    assert (made.id, got.name) == ("character_1", "Foxy")
    edit, extend, create_character, get_character = seen
    assert str(edit.url) == "http://gw:4000/v1/videos/edits"
    assert json.loads(edit.content) == {"prompt": "blue", "video": {"id": "video_abc"}}
    assert edit.headers["Idempotency-Key"].startswith("vidgate-")
    assert str(extend.url) == "http://gw:4000/v1/videos/extensions"
    assert extend.headers["content-type"].startswith("multipart/form-data")
    body = extend.content
    for part in (b'name="prompt"', b"more", b'name="seconds"', b'name="model"', b'name="video"', clip[:64]):
        assert part in body
    assert extend.headers["Idempotency-Key"] != edit.headers["Idempotency-Key"]
    assert create_character.url.path == "/v1/videos/characters"
    assert b'name="name"' in create_character.content
    assert get_character.method == "GET"
    assert get_character.url.path == "/v1/videos/characters/character_1"


async def test_async_client_against_the_gateway(
    tmp_path: Path, render_cache: Path, clip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    root = tmp_path / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    async with serving(root) as served:
        secret = await served.new_key(key_alias="sdk")
        transport = httpx.ASGITransport(app=served.app)
        http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        async with AsyncClient(
            api_key=secret, api_base="http://gateway.test", http_client=http, gateway=True
        ) as client:
            source = await client.videos.create(model="local-1", prompt="a fox", seconds="1", size="320x180")
            await client.videos.wait(source.id, poll_interval=0.05)
            edited = await client.videos.edit(prompt="at night", video={"id": source.id})
            extended = await client.videos.extend(prompt="runs", video=clip, seconds="1", model="local-1")
            made = await client.videos.create_character(name="Foxy", video=clip)
            got = await client.videos.get_character(str(made.id))
            for video in (edited, extended):
                assert (await client.videos.wait(video.id, poll_interval=0.05)).status == "completed"
            lengths: list[Any] = []
            for video in (edited, extended):
                info = probe(await client.videos.content(video.id))
                assert info is not None
                lengths.append(info.seconds)
        assert lengths == [1.0, 2.0]
        assert got.name == "Foxy"
        keys = [k for k in await served.stores.keys.list() if k.alias == "sdk"]
        # Three paid 1 s videos at local-1's $0.10/s (create, edit, extension); a character is free.
        assert keys[0].spend_micros == 300_000
        info_reply = await served.client.get("/key/info", params={"key": secret}, headers=auth(MASTER))
        assert info_reply.status_code == 200


def test_an_edits_size_goes_to_the_gateway_as_json_and_as_a_form_field(clip: bytes) -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=GATEWAY_VIDEO)

    http = httpx.Client(transport=httpx.MockTransport(gateway))
    with Client(api_key="k", api_base="http://gw:4000", http_client=http, gateway=True) as client:
        client.videos.edit(prompt="upright", video={"id": "video_abc"}, size="720x1280")
        client.videos.edit(prompt="upright", video=clip, model="ray", size="720x1280")
        with pytest.raises(BadRequestError) as bad:
            client.videos.edit(prompt="x", video={"id": "video_abc"}, size=720)  # type: ignore[arg-type]
        assert bad.value.param == "size"
    by_id, upload = seen
    sent = {"prompt": "upright", "video": {"id": "video_abc"}, "size": "720x1280"}
    assert json.loads(by_id.content) == sent
    assert b'name="size"\r\n\r\n720x1280\r\n' in upload.content


async def test_the_async_client_sends_an_edits_size_too() -> None:
    seen: list[httpx.Request] = []

    async def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=GATEWAY_VIDEO)

    http = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    async with AsyncClient(api_key="k", api_base="http://gw:4000", http_client=http, gateway=True) as client:
        await client.videos.edit(prompt="upright", video={"id": "video_abc"}, size="720x1280")
    assert json.loads(seen[0].content)["size"] == "720x1280"


def test_direct_mode_refuses_a_size_the_row_cannot_make_before_any_call(clip: bytes) -> None:
    http = httpx.Client(transport=httpx.MockTransport(no_network))
    with Client(api_key="key_test", http_client=http) as client, pytest.raises(BadRequestError) as caught:
        client.videos.edit(prompt="x", video=clip, model="local/local-1", size="180x320")
    assert caught.value.param == "size"
    assert "'320x180'" in caught.value.message
