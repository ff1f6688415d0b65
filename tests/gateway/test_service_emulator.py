"""The gateway against the OpenAI emulator over loopback: real wire format, real faults, real time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.gateway.harness import MASTER, local_entries
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.emulators.openai import create_app
from vidgate.errors import APIError
from vidgate.gateway.config import parse_config
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.types import Video
from vidgate.worker.poller import Poller


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two OpenAI emulators, each accepting only its own key."""
    cache = tmp_path_factory.mktemp("emu-cache")
    first = EmulatorSettings(
        api_key="sk-upstream-a", processing_seconds=0.3, poll_after_ms=50, cache_dir=cache
    )
    second = EmulatorSettings(
        api_key="sk-upstream-b", processing_seconds=0.3, poll_after_ms=50, cache_dir=cache
    )
    with live_server(create_app(first)) as a, live_server(create_app(second)) as b:
        yield a, b


def _service(emulators: tuple[str, str], local_root: Path) -> GatewayService:
    a, b = emulators
    config = parse_config(
        {
            "model_list": [
                {
                    "model_name": "sora-2",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "api_key": "sk-upstream-a",
                        "api_base": f"{a}/v1",
                    },
                },
                {
                    "model_name": "sora-b",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "api_key": "sk-upstream-b",
                        "api_base": f"{b}/v1",
                    },
                },
                *local_entries(local_root, "local-1"),
            ],
            "general_settings": {"master_key": MASTER},
            "router_settings": {"fallbacks": [{"sora-2": ["local-1"]}]},
        },
        environ={},
    )
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    return GatewayService(config, MemoryStores(), runner)


async def _until_done(service: GatewayService, principal: object, video: Video) -> Video:
    for _ in range(400):
        current = await service.get_video(principal, video.id)  # type: ignore[arg-type]
        if current.done:
            return current
        await asyncio.sleep(0.02)
    raise AssertionError(f"{video.id} did not finish")


async def test_follow_ups_use_the_pinned_deployments_credentials(
    emulators: tuple[str, str], local_root: Path
) -> None:
    service = _service(emulators, local_root)
    master = await service.authenticate(MASTER)
    secret, _ = await service.generate_key(master, key_alias="alice", max_budget=5)
    alice = await service.authenticate(secret)
    on_a = await service.create_video(alice, CreateVideo(model="sora-2", prompt="a cat", seconds="4"))
    on_b = await service.create_video(alice, CreateVideo(model="sora-b", prompt="a dog", seconds="4"))
    done_a = await _until_done(service, alice, on_a)
    done_b = await _until_done(service, alice, on_b)
    assert (done_a.status, done_b.status) == ("completed", "completed")
    for video in (done_a, done_b):
        stream = await service.open_content(alice, video.id, "video", (0, 99))
        data = b"".join([c async for c in stream.chunks])
        assert len(data) == 100
        assert data[4:8] == b"ftyp"
        assert stream.partial
    remix = await service.remix_video(alice, on_b.id, "a dog at night")
    assert (await _until_done(service, alice, remix)).status == "completed"
    assert (await service.delete_video(alice, on_b.id)).deleted
    info = await service.key_info(master, secret)
    assert info["info"]["spend"] == pytest.approx(1.2)  # three 4 s videos at $0.10/s
    await service.runner.aclose()


async def test_upstream_503_falls_back_to_another_model(emulators: tuple[str, str], local_root: Path) -> None:
    service = _service(emulators, local_root)
    master = await service.authenticate(MASTER)
    video = await service.create_video(
        master, CreateVideo(model="sora-2", prompt="a cat [fault:503x3]", seconds="4", size="1280x720")
    )
    assert video.model == "local-1"
    assert (video.size, video.seconds) == ("1280x720", "4")
    await service.runner.aclose()


async def test_upstream_refusing_the_gateways_key_is_a_502_not_a_401(
    emulators: tuple[str, str], local_root: Path
) -> None:
    a, _ = emulators
    wrong = {"model": "openai/sora-2", "api_key": "sk-wrong", "api_base": f"{a}/v1"}
    config = parse_config(
        {
            "model_list": [
                {"model_name": "bad", "litellm_params": wrong},
                *local_entries(local_root, "local-1"),
            ],
            "general_settings": {"master_key": MASTER},
            "router_settings": {"fallbacks": [{"bad": ["local-1"]}]},
        },
        environ={},
    )
    service = GatewayService(config, MemoryStores(), AsyncRunner(retry=RetryPolicy(max_retries=0)))
    master = await service.authenticate(MASTER)
    video = await service.create_video(master, CreateVideo(model="bad", prompt="a cat", seconds="4"))
    assert video.model == "local-1"  # fell back
    alone = GatewayService(
        parse_config({"model_list": [{"model_name": "bad", "litellm_params": wrong}]}, environ={}),
        MemoryStores(),
        AsyncRunner(retry=RetryPolicy(max_retries=0)),
    )
    with pytest.raises(APIError) as caught:
        await alone.create_video(master, CreateVideo(model="bad", prompt="a cat", seconds="4"))
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_authentication_failed")
    await service.runner.aclose()
    await alone.runner.aclose()


async def test_poll_faults_are_survived_by_the_poller(emulators: tuple[str, str], local_root: Path) -> None:
    service = _service(emulators, local_root)
    master = await service.authenticate(MASTER)
    video = await service.create_video(
        master, CreateVideo(model="sora-2", prompt="a cat [fault:poll-503x2]", seconds="4")
    )
    poller = Poller(service, worker_id="w", interval=0.02)
    poller.start()
    try:
        for _ in range(500):
            job = await service.stores.jobs.get(video.id)
            assert job is not None
            if job.content_stored:
                break
            await asyncio.sleep(0.02)
    finally:
        await poller.stop()
    job = await service.stores.jobs.get(video.id)
    assert job is not None
    assert (job.status, job.content_stored, job.cost_micros) == ("completed", True, 400_000)
    for variant in ("video", "thumbnail", "spritesheet"):
        assert await service.stores.content.stat(video.id, variant) is not None
    await service.runner.aclose()
