"""The gateway against the OpenAI emulator over loopback: real wire format, real faults, real time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.gateway.harness import MASTER, local_entries
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import APIError
from vidgate.gateway import submitting
from vidgate.gateway.config import parse_config
from vidgate.gateway.records import JobRecord
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers.openai.emulator import create_app
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.transport.aiohttp_sender import AiohttpSender
from vidgate.transport.async_runner import Sender
from vidgate.transport.http import DEFAULT_TIMEOUT
from vidgate.transport.http1_sender import Http1Sender
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
                        "allow_retired": True,
                        "api_key": "sk-upstream-a",
                        "api_base": f"{a}/v1",
                    },
                },
                {
                    "model_name": "sora-b",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "allow_retired": True,
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
    wrong = {"model": "openai/sora-2", "allow_retired": True, "api_key": "sk-wrong", "api_base": f"{a}/v1"}
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


# ---- which create failures fall back (a create is a paid call) -------------------------------------


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An OpenAI emulator whose ``[fault:slow]`` creates answer after 0.6 s (and still create the job)."""
    settings = EmulatorSettings(
        api_key="sk-upstream-slow",
        processing_seconds=0.3,
        slow_seconds=0.6,
        cache_dir=tmp_path_factory.mktemp("slow-cache"),
    )
    with live_server(create_app(settings)) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


# The clients a create can go out on: httpx (the runner's own), and the two senders ``vidgate serve``
# uses (``Http1Sender``, and ``AiohttpSender`` it hands proxies and odd URLs to). Each must tell a
# request that never left (refused, no connection) from one that may have reached the provider.
CLIENTS: dict[str, Callable[[httpx.Timeout], Sender | None]] = {
    "httpx": lambda timeout: None,
    "aiohttp": AiohttpSender,
    "http1": Http1Sender,
}


@pytest.fixture(params=sorted(CLIENTS))
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class OffsetClock:
    """Wall time (the emulator's jobs carry it) moved on by ``offset`` seconds."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _with_fallback(
    api_base: str,
    api_key: str,
    local_root: Path,
    client: str = "httpx",
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
    deployment: Mapping[str, Any] | None = None,
) -> GatewayService:
    """``sora-2`` on ``api_base`` (one attempt per create, sent by ``client``; ``deployment``: more
    ``litellm_params``), falling back to the local provider."""
    config = parse_config(
        {
            "model_list": [
                {
                    "model_name": "sora-2",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "allow_retired": True,
                        "api_key": api_key,
                        "api_base": api_base,
                        **(deployment or {}),
                    },
                },
                *local_entries(local_root, "local-1"),
            ],
            "general_settings": {"master_key": MASTER},
            "router_settings": {"fallbacks": [{"sora-2": ["local-1"]}]},
        },
        environ={},
    )
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0), timeout=timeout, sender=CLIENTS[client](timeout))
    return GatewayService(config, MemoryStores(), runner, clock=clock)


async def _alice(service: GatewayService) -> Any:
    master = await service.authenticate(MASTER)
    secret, _ = await service.generate_key(master, key_alias="alice", max_budget=5, max_parallel_requests=2)
    return await service.authenticate(secret)


async def _money(service: GatewayService, alice: Any) -> tuple[int, int, int]:
    key = await service.stores.keys.get(alice.key.id)
    assert key is not None
    return key.reserved_micros, key.spend_micros, key.active_jobs


async def _handed_to_the_poller(service: GatewayService, alice: Any) -> str:
    """After an unknown outcome the job's write-ahead record waits for the poller (shown as queued,
    its reservation and slot held); returns its id."""
    [video] = (await service.list_videos(alice, after=None, limit=10, order="desc")).data
    assert video.status == "queued"
    assert await _money(service, alice) == (400_000, 0, 1)  # reserved, spent, slots
    job = await service.stores.jobs.get(video.id)
    assert job is not None
    assert job.submitting
    assert job.lease_owner is None
    return video.id


async def _resolved(service: GatewayService, video_id: str, clock: OffsetClock | None = None) -> JobRecord:
    """Run poller rounds (bounded) until the write-ahead record of ``video_id`` is resolved; ``clock``,
    the service's, is moved on between rounds (a record not listed upstream is looked for again until
    it is ``FIND_GRACE_SECONDS`` old)."""
    poller = Poller(service, worker_id="w-test")
    for _ in range(200):
        await poller.run_once()
        job = await service.stores.jobs.get(video_id)
        assert job is not None
        if not job.submitting:
            return job
        if clock is not None:
            clock.offset += submitting.LOOK_AGAIN_SECONDS
        await asyncio.sleep(0.05)
    raise AssertionError(f"{video_id} was never resolved")


async def test_an_upstream_500_is_an_unknown_outcome_and_never_falls_back(
    emulators: tuple[str, str], local_root: Path, client: str
) -> None:
    a, _ = emulators
    clock = OffsetClock()
    service = _with_fallback(f"{a}/v1", "sk-upstream-a", local_root, client, clock=clock)
    counted: list[tuple[str, int]] = []
    service.on_upstream_error = lambda provider, status: counted.append((provider, status))
    alice = await _alice(service)
    with pytest.raises(APIError) as caught:
        await service.create_video(
            alice, CreateVideo(model="sora-2", prompt=f"a cat on {client} [fault:500]", seconds="4")
        )
    error = caught.value
    assert (error.status_code, error.code, error.type, error.provider) == (
        502,
        "upstream_outcome_unknown",
        "upstream_error",
        "openai",
    )
    assert "outcome is unknown" in error.message
    assert service.router.cooling(service.router.deployments_for("sora-2")[0].id)
    video_id = await _handed_to_the_poller(service, alice)
    failed = await _resolved(service, video_id, clock)  # the emulator never made it
    assert (failed.status, failed.error_code) == ("failed", "upstream_outcome_unknown")
    assert await _money(service, alice) == (0, 0, 0)
    assert counted == []  # the error the caller gets is the server's to count
    await service.runner.aclose()


@pytest.mark.parametrize("where", ["client", "deployment"])
async def test_a_read_timeout_on_create_is_a_504_and_the_job_it_may_have_made_is_not_doubled(
    slow_emulator: str, local_root: Path, client: str, where: str
) -> None:
    """The timeout is the client's, or the deployment's ``timeout`` (LiteLLM's key) under the client's
    600 s."""
    if where == "client":
        service = _with_fallback(
            f"{slow_emulator}/v1",
            "sk-upstream-slow",
            local_root,
            client,
            timeout=httpx.Timeout(0.2, connect=5.0),
        )
    else:
        service = _with_fallback(
            f"{slow_emulator}/v1", "sk-upstream-slow", local_root, client, deployment={"timeout": 0.2}
        )
    alice = await _alice(service)
    prompt = f"a cat on {client} via {where} [fault:slow]"  # the emulator is shared by each run
    with pytest.raises(APIError) as caught:
        await service.create_video(alice, CreateVideo(model="sora-2", prompt=prompt, seconds="4"))
    assert (caught.value.status_code, caught.value.code) == (504, "upstream_outcome_unknown")
    video_id = await _handed_to_the_poller(service, alice)
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-upstream-slow"}) as upstream:
        for _ in range(100):  # the provider did make the job the gateway gave up on
            every = (await upstream.get(f"{slow_emulator}/v1/videos")).json()["data"]
            listed = [v for v in every if v["prompt"] == prompt]
            if listed:
                break
            await asyncio.sleep(0.05)
    assert [v["prompt"] for v in listed] == [prompt]
    # The poller finds the job the provider made and records it: followed (and charged) like any other.
    job = await _resolved(service, video_id)
    assert (job.native_id, job.error_code) == (listed[0]["id"], None)
    assert job.status in ("queued", "in_progress", "completed")
    assert await _money(service, alice) in ((400_000, 0, 1), (0, 400_000, 0))  # running, or done
    await service.runner.aclose()


async def test_a_create_cancelled_while_out_is_left_to_the_poller(
    slow_emulator: str, local_root: Path
) -> None:
    """The server shutting down cancels a create waiting on its provider: the job may exist upstream, so
    its write-ahead record goes to the poller (money and slot held). The provider makes the job only
    after the poller's first search: a record not listed yet is looked for again, found, recorded."""
    clock = OffsetClock()
    service = _with_fallback(f"{slow_emulator}/v1", "sk-upstream-slow", local_root, clock=clock)
    alice = await _alice(service)
    prompt = "a cancelled cat [fault:slow]"
    create = asyncio.create_task(
        service.create_video(alice, CreateVideo(model="sora-2", prompt=prompt, seconds="4"))
    )
    await asyncio.sleep(0.3)  # sent: the emulator makes the job after 0.6 s, then answers
    create.cancel()
    with pytest.raises(asyncio.CancelledError):
        await create
    video_id = await _handed_to_the_poller(service, alice)
    job = await _resolved(service, video_id, clock)
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-upstream-slow"}) as upstream:
        every = (await upstream.get(f"{slow_emulator}/v1/videos")).json()["data"]
    [made] = [v for v in every if v["prompt"] == prompt]
    assert (job.native_id, job.error_code) == (made["id"], None)
    await service.runner.aclose()


class _Crash(BaseException):
    """Stands in for the process dying at the point it is raised (nothing after it runs)."""


async def test_a_refused_create_gives_money_and_slot_back_before_ending_its_record(
    emulators: tuple[str, str], local_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process dying between the two steps of a refusal must leave no money or slot held: the
    record, still write-ahead, is the poller's to end (nothing is made upstream, so it fails it)."""
    a, _ = emulators
    clock = OffsetClock()
    service = _with_fallback(f"{a}/v1", "sk-upstream-a", local_root, clock=clock)
    alice = await _alice(service)

    async def crash(job_id: str) -> None:
        raise _Crash(job_id)

    monkeypatch.setattr(service.starter, "_abandon", crash)
    prompt = "a refused cat [fault:429]"
    with pytest.raises(_Crash) as crashed:
        await service.create_video(alice, CreateVideo(model="sora-2", prompt=prompt, seconds="4"))
    video_id = str(crashed.value.args[0])
    assert await _money(service, alice) == (0, 0, 0)  # given back before the crash
    job = await service.stores.jobs.get(video_id)
    assert job is not None
    assert job.submitting
    monkeypatch.undo()
    clock.offset += 60  # the create's lease (held by the dead process) has lapsed
    job = await _resolved(service, video_id, clock)
    assert (job.status, job.submitting, job.cost_micros) == ("failed", False, 0)
    assert await _money(service, alice) == (0, 0, 0)
    await service.runner.aclose()


async def test_a_poll_slower_than_the_timeout_is_a_timeout_that_backs_off(
    slow_emulator: str, local_root: Path
) -> None:
    """A second replica with a tiny upstream timeout polls a ``[fault:slow]`` job: the poll times out
    (counted as a 408 upstream error), the job keeps its state and backs off, nothing is charged."""
    creator = _with_fallback(f"{slow_emulator}/v1", "sk-upstream-slow", local_root)
    alice = await _alice(creator)
    video = await creator.create_video(
        alice, CreateVideo(model="sora-2", prompt="a fox [fault:slow]", seconds="4")
    )
    impatient = GatewayService(
        creator.config,
        creator.stores,
        AsyncRunner(retry=RetryPolicy(max_retries=0), timeout=httpx.Timeout(0.2, connect=5.0)),
    )
    counted: list[tuple[str, int]] = []
    impatient.on_upstream_error = lambda provider, status: counted.append((provider, status))
    job = await creator.stores.jobs.get(video.id)
    assert job is not None
    status, due = job.status, job.next_poll_at
    polled = await Poller(impatient, worker_id="impatient").work(job)
    assert counted == [("openai", 408)]
    assert (polled.status, polled.poll_failures, polled.cost_micros) == (status, 1, None)
    assert polled.next_poll_at > due  # backed off, not re-polled at once
    await creator.runner.aclose()
    await impatient.runner.aclose()


async def test_a_connection_broken_after_sending_is_an_unknown_outcome(local_root: Path, client: str) -> None:
    requests: list[bytes] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))  # the create arrived ...
        writer.close()  # ... and the connection dies before any answer

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    service = _with_fallback(f"http://127.0.0.1:{port}/v1", "sk-x", local_root, client)
    alice = await _alice(service)
    try:
        with pytest.raises(APIError) as caught:
            await service.create_video(alice, CreateVideo(model="sora-2", prompt="a cat", seconds="4"))
    finally:
        server.close()
        await server.wait_closed()
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_outcome_unknown")
    [request] = requests
    assert request.startswith(b"POST /v1/videos")
    await _handed_to_the_poller(service, alice)
    await service.runner.aclose()


async def test_a_key_limited_to_a_model_is_never_moved_to_a_fallback_model(
    emulators: tuple[str, str], local_root: Path
) -> None:
    """The fallback of ``sora-2`` is ``local-1``, which this key may not use: a refusal ends the create
    (nothing reserved, nothing spent), as a key listing ``local-1`` too falls back."""
    a, _ = emulators
    service = _with_fallback(f"{a}/v1", "sk-upstream-a", local_root)
    master = await service.authenticate(MASTER)
    only_sora, _ = await service.generate_key(master, key_alias="only-sora", max_budget=5, models=["sora-2"])
    both, _ = await service.generate_key(master, key_alias="both", max_budget=5, models=["sora-2", "local-1"])
    limited = await service.authenticate(only_sora)
    with pytest.raises(APIError) as caught:
        await service.create_video(
            limited, CreateVideo(model="sora-2", prompt="a limited cat [fault:503]", seconds="4")
        )
    assert caught.value.status_code == 503
    assert await _money(service, limited) == (0, 0, 0)
    assert (await service.list_videos(limited, after=None, limit=10, order="desc")).data == []
    allowed = await service.authenticate(both)
    video = await service.create_video(
        allowed, CreateVideo(model="sora-2", prompt="an allowed cat [fault:503]", seconds="4")
    )
    assert video.model == "local-1"
    await service.runner.aclose()


async def test_definite_refusals_fall_back_and_are_counted(
    emulators: tuple[str, str], local_root: Path, client: str
) -> None:
    a, _ = emulators
    for api_base, prompt, status in (
        (f"{a}/v1", f"a cat on {client} [fault:429]", 429),  # the emulator is shared by each client's run
        (f"{a}/v1", f"a cat on {client} [fault:503]", 503),
        (f"http://127.0.0.1:{_free_port()}/v1", "a cat", 502),  # the connection was never established
    ):
        service = _with_fallback(api_base, "sk-upstream-a", local_root, client)
        counted: list[tuple[str, int]] = []
        service.on_upstream_error = lambda provider, code, seen=counted: seen.append((provider, code))
        alice = await _alice(service)
        video = await service.create_video(alice, CreateVideo(model="sora-2", prompt=prompt, seconds="4"))
        assert video.model == "local-1", prompt
        assert counted == [("openai", status)], prompt  # swallowed by the fallback: reported here
        key = await service.stores.keys.get(alice.key.id)
        assert key is not None
        assert (key.reserved_micros, key.active_jobs) == (400_000, 1)  # only the job that exists
        await service.runner.aclose()
