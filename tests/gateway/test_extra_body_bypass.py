"""Issue 7 item 1: what is checked against the key, validated and priced is what is sent upstream.

Every adapter runs for real; the network is an httpx MockTransport that records each request body, so
the tests compare the bytes sent upstream with the reservation (prices written here, from the
catalogue's $/s rows)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidgate.errors import BadRequestError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import parse_config
from vidgate.gateway.passthrough import GooglePassthrough
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers.local.adapter import LocalProvider
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy

MASTER = "sk-test-master-key-0000"


def _entries(local_root: Path) -> list[dict[str, Any]]:
    return [
        {
            "model_name": "sora-2",
            "litellm_params": {"model": "openai/sora-2", "allow_retired": True, "api_key": "sk-up"},
        },
        {
            "model_name": "az-sora",
            "litellm_params": {
                "model": "azure/sora-2",
                "allow_retired": True,
                "api_key": "az-up",
                "api_base": "https://res.openai.azure.com",
            },
        },
        {
            "model_name": "veo-g",
            "litellm_params": {
                "model": "gemini/veo-3.0-fast-generate-001",
                "allow_retired": True,
                "api_key": "g-up",
            },
        },
        {
            "model_name": "veo-v",
            "litellm_params": {
                "model": "vertex_ai/veo-3.0-generate-001",
                "allow_retired": True,
                "vertex_project": "p",
                "vertex_location": "us-central1",
                "access_token": "ya29.t",
            },
        },
        {
            "model_name": "local-1",
            "litellm_params": {
                "model": "local/local-1",
                "api_base": str(local_root),
                "output_cost_per_second": 0.1,
            },
        },
    ]


class Upstream:
    """Records every request; answers a create in each wire format."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.path.endswith(":predictLongRunning"):
            return httpx.Response(200, json={"name": "models/m/operations/op1"})
        return httpx.Response(
            200,
            json={"id": "video_up1", "object": "video", "status": "queued", "model": "sora-2", "progress": 0},
        )

    def body(self) -> dict[str, Any]:
        assert len(self.sent) == 1
        parsed: dict[str, Any] = json.loads(self.sent[0].content)
        return parsed


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[tuple[GatewayService, Upstream]]:
    upstream = Upstream()
    runner = AsyncRunner(httpx.AsyncClient(transport=httpx.MockTransport(upstream)), retry=RetryPolicy(0))
    config = parse_config(
        {"model_list": _entries(tmp_path), "general_settings": {"master_key": MASTER}}, environ={}
    )
    local = LocalProvider(root=tmp_path, delay=60)
    service = GatewayService(
        config, MemoryStores(), runner, calls=ProviderCalls(runner, {"local": local}), auth_ttl=0
    )
    yield service, upstream
    await runner.aclose()


async def _key(service: GatewayService, **fields: Any) -> Principal:
    secret, _ = await service.generate_key(await service.authenticate(MASTER), **fields)
    return await service.authenticate(secret)


async def _money(service: GatewayService, p: Principal) -> int:
    assert p.key is not None
    record = await service.stores.keys.get(p.key.id)
    assert record is not None
    return record.spend_micros + record.reserved_micros


async def test_the_issues_attack_is_a_400_with_no_upstream_call(
    gw: tuple[GatewayService, Upstream],
) -> None:
    service, upstream = gw
    p = await _key(service, models=["sora-2"])
    attack = CreateVideo(
        model="sora-2",
        prompt="x",
        seconds="4",
        extra_body={"model": "sora-2-pro", "seconds": "20", "size": "1792x1024"},
    )
    with pytest.raises(BadRequestError) as info:
        await service.create_video(p, attack)
    assert info.value.param == "extra_body.model"
    assert "'model' parameter" in info.value.message
    assert upstream.sent == []
    assert await _money(service, p) == 0


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("sora-2", "seconds"),
        ("sora-2", "size"),
        ("sora-2", "input_reference"),
        ("az-sora", "n_seconds"),
        ("az-sora", "n_variants"),
        ("veo-g", "durationSeconds"),
        ("veo-g", "duration_seconds"),
        ("veo-g", "aspectRatio"),
        ("veo-g", "resolution"),
        ("veo-g", "sampleCount"),
        ("veo-g", "numberOfVideos"),
        ("veo-g", "generateAudio"),
        ("veo-g", "image"),
        ("veo-g", "lastFrame"),
        ("veo-g", "referenceImages"),
        ("veo-g", "video"),
        ("veo-g", "instances"),
        ("veo-g", "parameters"),
        ("veo-v", "durationSeconds"),
        ("veo-v", "sampleCount"),
        ("veo-v", "generateAudio"),
        ("veo-v", "image"),
        ("local-1", "seconds"),
        ("local-1", "prompt"),
        # Spellings a Go or Java JSON decoder folds onto a reserved name (U+017F, U+0131, fullwidth).
        ("sora-2", "\u017feconds"),
        ("veo-g", "\u017feed"),
        ("az-sora", "n_\u017feconds"),
        ("veo-g", "\uff53\uff49\uff5a\uff45"),
        ("sora-2", "s\u0131ze"),
    ],
)
async def test_a_reserved_name_in_extra_body_is_refused_for_every_provider(
    gw: tuple[GatewayService, Upstream], model: str, key: str
) -> None:
    service, upstream = gw
    p = await _key(service)
    with pytest.raises(BadRequestError) as info:
        await service.create_video(p, CreateVideo(model=model, prompt="x", extra_body={key: 8}))
    assert info.value.param == f"extra_body.{key}"
    assert info.value.code == "reserved_parameter"
    assert upstream.sent == []
    assert await _money(service, p) == 0


async def test_openai_sends_what_it_prices(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    video = await service.create_video(
        p, CreateVideo(model="sora-2", prompt="x", seconds="8", extra_body={"metadata": {"t": "1"}})
    )
    assert upstream.body() == {
        "model": "sora-2",
        "prompt": "x",
        "seconds": "8",
        "size": "720x1280",
        "metadata": {"t": "1"},
    }
    assert await _money(service, p) == 800_000  # 8 s x $0.10
    assert video.seconds == "8"


async def test_azure_sends_what_it_prices(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    await service.create_video(p, CreateVideo(model="az-sora", prompt="x", seconds="12"))
    assert upstream.body() == {"model": "sora-2", "prompt": "x", "seconds": "12", "size": "720x1280"}
    assert await _money(service, p) == 1_200_000  # 12 s x $0.10


async def test_gemini_sends_what_it_prices(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    await service.create_video(
        p, CreateVideo(model="veo-g", prompt="x", seconds="4", extra_body={"enhancePrompt": False})
    )
    body = upstream.body()
    assert body["parameters"]["durationSeconds"] == 4
    assert body["parameters"]["sampleCount"] == 1
    assert body["parameters"]["enhancePrompt"] is False
    assert await _money(service, p) == 600_000  # 4 s x $0.15


async def test_vertex_sends_what_it_prices(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    await service.create_video(
        p, CreateVideo(model="veo-v", prompt="x", seconds="6", extra_body={"labels": {"team": "a"}})
    )
    body = upstream.body()
    assert body["parameters"]["durationSeconds"] == 6
    assert body["parameters"]["sampleCount"] == 1
    assert body["labels"] == {"team": "a"}
    assert await _money(service, p) == 2_400_000  # 6 s x $0.40


async def test_local_renders_what_it_prices(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    video = await service.create_video(
        p, CreateVideo(model="local-1", prompt="x", seconds="2", size="320x180", extra_body={"note": "n"})
    )
    job = await service.stores.jobs.get(video.id)
    assert job is not None
    dep = service.router.get(job.deployment_id)
    assert dep is not None
    native = await service.calls.retrieve(dep, job.native_id)  # the job as the local provider keeps it
    assert (native.seconds, native.size) == ("2", "320x180")
    assert upstream.sent == []
    assert await _money(service, p) == 200_000  # 2 s x $0.10


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("parameters", "duration_seconds"),
        ("parameters", "numberOfVideos"),
        ("parameters", "sample_count"),
        ("parameters", "image"),
        ("instances[0]", "last_frame"),
        ("instances[0]", "durationSeconds"),
        ("", "model"),
        ("", "prompt"),
        ("parameters", "\u017feed"),
        ("instances[0]", "durat\u0131onSeconds"),
    ],
)
@pytest.mark.parametrize("surface", ["gemini", "vertex_ai"])
async def test_passthrough_bodies_cannot_smuggle_a_priced_field(
    gw: tuple[GatewayService, Upstream], surface: Any, where: str, key: str
) -> None:
    service, upstream = gw
    p = await _key(service)
    body: dict[str, Any] = {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": 4}}
    part = body if where == "" else body["parameters"] if where == "parameters" else body["instances"][0]
    part[key] = 8
    model = "veo-g" if surface == "gemini" else "veo-v"
    with pytest.raises(BadRequestError) as info:
        await GooglePassthrough(service).start(p, surface, model, body, resource=f"models/{model}")
    assert info.value.param == (f"{where}.{key}" if where else key)
    assert upstream.sent == []
    assert await _money(service, p) == 0


async def test_passthrough_forwards_exactly_the_priced_body(gw: tuple[GatewayService, Upstream]) -> None:
    service, upstream = gw
    p = await _key(service)
    body = {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": 6, "enhancePrompt": True}}
    await GooglePassthrough(service).start(p, "gemini", "veo-g", body, resource="models/veo-g")
    assert upstream.body() == body
    assert await _money(service, p) == 900_000  # 6 s x $0.15
