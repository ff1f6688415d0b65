"""vidgate in front of vidgate: an outer gateway whose deployment is ``openai_compatible/local-1``
points at an inner in-process gateway serving the local provider. The official ``openai`` package
runs create, retrieve, list, download and delete on the outer one; the extra form fields arrive at
the inner gateway (under ``extra_body``, the inner gateway's pass-through, which the local provider
accepts and ignores; a top-level unknown field would be a 400 there)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]
INNER_MASTER = "sk-inner-master-key-0001"
OUTER_MASTER = "sk-outer-master-key-0001"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class Recorder:
    """ASGI middleware keeping the body of every create the inner gateway receives."""

    app: Any
    creates: list[tuple[str, bytes]] = field(default_factory=list)
    url: str = ""
    key: str = ""  # the outer deployment's key at the inner gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/videos":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        headers = dict(scope["headers"])
        self.creates.append((headers.get(b"content-type", b"").decode(), body))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@pytest.fixture(scope="module")
def gateways(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Recorder]]:
    base = tmp_path_factory.mktemp("vidgate-in-vidgate")
    root = base / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    inner_config = parse_config(
        {
            "model_list": [
                {"model_name": "local-1", "litellm_params": {"model": "local/local-1", "api_base": str(root)}}
            ],
            "general_settings": {
                "master_key": INNER_MASTER,
                "database_url": f"sqlite+aiosqlite:///{base / 'inner.db'}",
                "content_dir": str(base / "inner-content"),
            },
        },
        environ={},
    )
    inner = Recorder(create_app(inner_config))
    with live_server(inner) as inner_url:
        inner.key = GatewayAdmin(inner_url, INNER_MASTER).new_key()
        inner.url = inner_url
        outer_config = parse_config(
            {
                "model_list": [
                    {
                        "model_name": "local-1",
                        "litellm_params": {
                            "model": "openai_compatible/local-1",
                            "api_base": f"{inner_url}/v1",
                            "api_key": inner.key,
                            "extra_fields": "extra_body",
                            "content_variants": "video,thumbnail,spritesheet",
                            "output_cost_per_second": 0.02,
                        },
                    }
                ],
                "general_settings": {
                    "master_key": OUTER_MASTER,
                    "database_url": f"sqlite+aiosqlite:///{base / 'outer.db'}",
                    "content_dir": str(base / "outer-content"),
                },
            },
            environ={},
        )
        with live_server(create_app(outer_config)) as outer_url:
            yield outer_url, inner


def test_the_openai_sdk_through_two_gateways(gateways: tuple[str, Recorder]) -> None:
    outer_url, inner = gateways
    secret = GatewayAdmin(outer_url, OUTER_MASTER).new_key()
    sdk = openai.OpenAI(base_url=f"{outer_url}/v1", api_key=secret, max_retries=0)
    video = sdk.videos.create(
        model="local-1",
        prompt="a paper boat on a canal",
        seconds="2",  # type: ignore[arg-type]  # the SDK types Sora's values only
        size="320x180",  # type: ignore[arg-type]
        extra_body={"extra_body": {"guidance_scale": "4.5", "lora": '{"name": "ink"}'}},
    )
    assert (video.model, video.seconds, video.size) == ("local-1", "2", "320x180")
    upstream = openai.OpenAI(base_url=f"{inner.url}/v1", api_key=inner.key, max_retries=0)
    [inner_video] = upstream.videos.list(limit=10).data
    assert inner_video.id != video.id  # each gateway names its own jobs
    assert (inner_video.model, inner_video.seconds, inner_video.size) == ("local-1", "2", "320x180")
    ctype, body = inner.creates[-1]
    assert ctype.startswith("multipart/form-data")
    assert b'name="extra_body[guidance_scale]"\r\n\r\n4.5\r\n' in body
    assert b'name="extra_body[lora]"\r\n\r\n{"name": "ink"}\r\n' in body
    assert b'name="prompt"\r\n\r\na paper boat on a canal\r\n' in body

    done = sdk.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    assert sdk.videos.retrieve(video.id).status == "completed"
    assert [v.id for v in sdk.videos.list(limit=10)] == [video.id]
    info = probe(sdk.videos.download_content(video.id).content)
    assert (info.width, info.height) == (320, 180)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert sdk.videos.download_content(video.id, variant="thumbnail").content[8:12] == b"WEBP"
    assert sdk.videos.download_content(video.id, variant="spritesheet").content[:3] == b"\xff\xd8\xff"
    spend = GatewayAdmin(outer_url, OUTER_MASTER).spent(secret)
    assert spend == pytest.approx(0.04, abs=1e-9)  # $0.02/s x 2 s, the outer deployment's price
    assert sdk.videos.delete(video.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)
    assert sdk.videos.list(limit=10).data == []
    assert upstream.videos.list(limit=10).data == []  # the delete reached the inner gateway


def test_edits_and_extensions_are_forwarded_to_the_upstream(gateways: tuple[str, Recorder]) -> None:
    outer_url, inner = gateways
    secret = GatewayAdmin(outer_url, OUTER_MASTER).new_key()
    sdk = openai.OpenAI(base_url=f"{outer_url}/v1", api_key=secret, max_retries=0)
    source = sdk.videos.create(
        model="local-1",
        prompt="a kite",
        seconds="1",  # type: ignore[arg-type]
        size="320x180",  # type: ignore[arg-type]
    )
    assert sdk.videos.poll(source.id, poll_interval_ms=50).status == "completed"
    clip = sdk.videos.download_content(source.id).content
    # By id: the outer gateway sends the inner gateway's own id of the source (JSON).
    extended = sdk.post(
        "/videos/extensions",
        body={"prompt": "it climbs", "seconds": "2", "video": {"id": source.id}},
        cast_to=openai.types.Video,
    )
    # As an upload: multipart with the model, to the inner gateway's /v1/videos/edits.
    edited = sdk.videos.edit(prompt="in the rain", video=("kite.mp4", clip, "video/mp4"))
    lengths = []
    for video in (extended, edited):
        assert sdk.videos.poll(video.id, poll_interval_ms=50).status == "completed"
        lengths.append(probe(sdk.videos.download_content(video.id).content).duration)
    assert lengths == [pytest.approx(3.0, abs=0.1), pytest.approx(1.0, abs=0.1)]
    upstream = openai.OpenAI(base_url=f"{inner.url}/v1", api_key=inner.key, max_retries=0)
    assert len(upstream.videos.list(limit=10).data) == 3  # the source, the extension and the edit
    spend = GatewayAdmin(outer_url, OUTER_MASTER).spent(secret)
    assert spend == pytest.approx(0.08, abs=1e-9)  # $0.02/s x (1 s + 2 s + 1 s)
