"""The official ``openai`` package against the gateway over loopback: the checks of issue 3.

The gateway (real SQLite stores, poller running) serves ``sora-2`` from an OpenAI emulator and
``local-1`` from the local provider; each test uses its own virtual keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.e2e.conftest import UPSTREAM_KEY
from tests.support.images import image_bytes
from tests.support.live import live_server

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app

# The local model's shortest, smallest clip: the openai package types seconds and size as Sora's
# values only; the gateway serves other models, so they go through untyped.
SHORT_CLIP: dict[str, Any] = {"seconds": "1", "size": "320x180"}

pytestmark = [pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"), pytest.mark.slow]
MASTER = "sk-e2e-master-key"


@dataclass
class Gateway:
    url: str

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = httpx.request(
            method, self.url + path, headers={"Authorization": f"Bearer {MASTER}"}, **kwargs
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def new_key(self, **fields: Any) -> str:
        secret: str = self.admin("POST", "/key/generate", json=fields)["key"]
        return secret

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)


def gateway_config(upstream: str, root: Path, database: Path, content: Path) -> Any:
    return parse_config(
        {
            "model_list": [
                {
                    "model_name": "sora-2",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "allow_retired": True,
                        "api_key": UPSTREAM_KEY,
                        "api_base": upstream + "/v1",
                    },
                },
                {
                    "model_name": "local-1",
                    "litellm_params": {"model": "local/local-1", "api_base": str(root)},
                },
            ],
            "general_settings": {
                "master_key": MASTER,
                "database_url": f"sqlite+aiosqlite:///{database}",
                "content_dir": str(content),
            },
        },
        environ={},
    )


@pytest.fixture(scope="module")
def gateway(upstream: str, render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("e2e-gateway")
    root = base / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    config = gateway_config(upstream, root, base / "vidgate.db", base / "content")
    with live_server(create_app(config)) as url:
        yield Gateway(url)


def test_create_poll_download_video_and_thumbnail(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key(key_alias="e2e-plain"))
    video = client.videos.create(model="sora-2", prompt="a calico cat playing a piano", seconds="4")
    assert video.id.startswith("video_")
    assert video.status in ("queued", "in_progress")
    assert video.size == "720x1280"
    done = client.videos.poll(video.id)
    assert done.status == "completed"
    assert done.progress == 100
    mp4 = client.videos.download_content(video.id)
    assert mp4.content[4:8] == b"ftyp"
    thumb = client.videos.download_content(video.id, variant="thumbnail")
    assert thumb.content[:4] == b"RIFF"
    assert thumb.content[8:12] == b"WEBP"


def test_create_with_an_image(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key())
    frame = image_bytes(720, 1280, "png")
    video = client.videos.create(
        model="sora-2", prompt="continue from this frame", input_reference=("frame.png", frame, "image/png")
    )
    done = client.videos.poll(video.id)
    assert done.status == "completed"
    assert client.videos.download_content(video.id).content[4:8] == b"ftyp"


def test_list_with_pagination(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key())
    made = {client.videos.create(model="local-1", prompt=f"clip {i}", **SHORT_CLIP).id for i in range(3)}
    first = client.videos.list(limit=2)
    assert len(first.data) == 2
    assert first.has_more is True
    every = [v.id for v in client.videos.list(limit=2)]  # the SDK follows `after` across pages
    assert len(every) == 3
    assert set(every) == made


def test_remix_then_delete_then_404(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key())
    source = client.videos.poll(client.videos.create(model="sora-2", prompt="a lighthouse at dusk").id)
    assert source.status == "completed"
    remix = client.videos.remix(source.id, prompt="the same lighthouse in a storm")
    assert remix.remixed_from_video_id == source.id
    assert client.videos.poll(remix.id).status == "completed"
    deleted = client.videos.delete(remix.id)
    assert deleted.deleted is True
    assert deleted.id == remix.id
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(remix.id)


def test_errors_map_to_the_sdk_exceptions(gateway: Gateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        gateway.client("sk-not-a-key-at-all-123").videos.list()
    client = gateway.client(gateway.new_key())
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.create(model="sora-2", prompt="p", seconds="7")  # type: ignore[arg-type]
    assert bad.value.body is not None
    assert "Invalid value: '7'" in str(bad.value)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_" + "0" * 32)


def test_models_list_and_retrieve(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key(models=["local-1"]))
    assert [m.id for m in client.models.list()] == ["local-1"]
    model = client.models.retrieve("local-1")
    assert (model.id, model.object, model.owned_by) == ("local-1", "model", "local")
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("sora-2")  # served, but not to this key: as if it did not exist
    assert missing.value.code == "model_not_found"


def test_two_keys_cannot_see_or_touch_each_others_videos(gateway: Gateway) -> None:
    alice = gateway.client(gateway.new_key(key_alias="alice"))
    bob = gateway.client(gateway.new_key(key_alias="bob"))
    video = alice.videos.poll(alice.videos.create(model="local-1", prompt="alice's", **SHORT_CLIP).id)
    assert video.status == "completed"
    for attempt in (
        lambda: bob.videos.retrieve(video.id),
        lambda: bob.videos.download_content(video.id),
        lambda: bob.videos.remix(video.id, prompt="bob's now"),
        lambda: bob.videos.delete(video.id),
    ):
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert [v.id for v in bob.videos.list()] == []
    assert alice.videos.retrieve(video.id).status == "completed"


def test_a_hundred_concurrent_creates_against_a_budget_for_ten(gateway: Gateway) -> None:
    key = gateway.new_key(key_alias="ten", max_budget=4.0)  # sora-2: 4 s at $0.10/s = $0.40 per video
    statuses = asyncio.run(_burst(gateway.url, key, 100))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 90
    info = gateway.admin("GET", "/key/info", params={"key": key})["info"]
    assert info["reserved"] + info["spend"] <= 4.0 + 1e-9


async def _burst(url: str, key: str, count: int) -> list[int]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as http:
        body = {"model": "sora-2", "prompt": "budget burst", "seconds": "4"}
        replies = await asyncio.gather(*(http.post("/v1/videos", json=body) for _ in range(count)))
    return [r.status_code for r in replies]


def test_upstream_failures_reach_the_client_and_the_metrics(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key())
    with pytest.raises(openai.APIStatusError) as failed:
        client.videos.create(model="sora-2", prompt="always overloaded [fault:503x50]")
    assert failed.value.status_code == 503
    scrape = httpx.get(gateway.url + "/metrics").text
    assert 'vidgate_upstream_errors_total{provider="openai",status="503"}' in scrape
