"""``vidgate serve`` as real processes: a SIGKILL with jobs in flight, and two replicas sharing
PostgreSQL and Redis under a budget burst."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import UPSTREAM_KEY, emulator
from tests.support.gateway_process import GatewayProcess, free_port, write_config
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.openai.emulator import create_app as openai_emulator

pytestmark = pytest.mark.slow
MASTER = "sk-process-test-master"
COST = 0.4  # sora-2, 4 s at $0.10/s


def sora_config(upstream: str, general: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": "sora-2",
                "litellm_params": {
                    "model": "openai/sora-2",
                    "allow_retired": True,
                    "api_key": UPSTREAM_KEY,
                    "api_base": upstream + "/v1",
                },
            }
        ],
        "general_settings": {"master_key": MASTER, **general},
    }


def admin(url: str, method: str, path: str, **kwargs: Any) -> Any:
    reply = httpx.request(
        method, url + path, headers={"Authorization": f"Bearer {MASTER}"}, timeout=30, **kwargs
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture
def slow_upstream(render_cache: Path) -> Iterator[str]:
    """Jobs take 4 s: long enough to kill the gateway while they run."""
    yield from emulator(render_cache, 4.0)


class _CreateSeen:
    """ASGI wrapper that sets ``event`` when a create reaches the emulator (before it answers)."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.event = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/videos":
            self.event.set()
        await self.app(scope, receive, send)


@pytest.fixture
def watched_upstream(render_cache: Path) -> Iterator[tuple[str, threading.Event]]:
    """A fast upstream and an event set once a create has arrived there."""
    settings = EmulatorSettings(
        api_key=UPSTREAM_KEY, processing_seconds=1.5, poll_after_ms=100, cache_dir=render_cache
    )
    app = _CreateSeen(openai_emulator(settings))
    with live_server(app) as url:
        yield url, app.event


def test_sigkill_with_jobs_in_flight_each_job_finishes_and_is_charged_once(
    slow_upstream: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        sora_config(
            slow_upstream,
            {
                "database_url": f"sqlite+aiosqlite:///{tmp_path / 'vidgate.db'}",
                "content_dir": str(tmp_path / "content"),
            },
        ),
    )
    port = free_port()
    first = GatewayProcess(config, port, tmp_path / "first.log").start()
    try:
        key = admin(first.url, "POST", "/key/generate", json={"key_alias": "crash", "max_budget": 10})["key"]
        headers = {"Authorization": f"Bearer {key}"}
        prompts = ["one", "two", "three", "four [fault:fail]"]
        ids = []
        for prompt in prompts:
            reply = httpx.post(
                first.url + "/v1/videos", json={"model": "sora-2", "prompt": prompt}, headers=headers
            )
            assert reply.status_code == 200, reply.text
            ids.append(reply.json()["id"])
        first.kill()
    finally:
        first.stop()

    second = GatewayProcess(config, port, tmp_path / "second.log").start()
    try:
        # No client polls: the restarted server's poller alone must finish every job.
        deadline = time.monotonic() + 150  # a job leased by the killed process is free after its lease
        info: dict[str, Any] = {}
        while time.monotonic() < deadline:
            info = admin(second.url, "GET", "/key/info", params={"key": key})["info"]
            logs = admin(second.url, "GET", "/spend/logs", params={"api_key": key})
            if info["reserved"] == 0 and info["active_jobs"] == 0 and len(logs) >= 3:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"jobs did not finish after the restart: {info}\n{second.output()}")
        statuses = {
            vid: httpx.get(f"{second.url}/v1/videos/{vid}", headers=headers).json()["status"] for vid in ids
        }
        assert [statuses[vid] for vid in ids] == ["completed", "completed", "completed", "failed"]
        logs = admin(second.url, "GET", "/spend/logs", params={"api_key": key})
        assert sorted(entry["request_id"] for entry in logs) == sorted(ids[:3])  # each charged once
        assert info["spend"] == pytest.approx(3 * COST)
        assert info["reserved"] == 0
        video = httpx.get(f"{second.url}/v1/videos/{ids[0]}/content", headers=headers)
        assert video.status_code == 200
        assert video.content[4:8] == b"ftyp"
    finally:
        second.stop()


@pytest.fixture
def parked_upstream(render_cache: Path) -> Iterator[str]:
    """Jobs never finish during the test (reservations stay reserved)."""
    yield from emulator(render_cache, 600.0)


def test_two_replicas_sharing_postgres_and_redis_admit_exactly_the_budget(
    parked_upstream: str, fresh_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    general = {"database_url": fresh_pg_url, "redis_url": redis_url, "content_dir": str(tmp_path / "content")}
    config = write_config(tmp_path / "config.yaml", sora_config(parked_upstream, general))
    a = GatewayProcess(config, free_port(), tmp_path / "a.log").start()
    b: GatewayProcess | None = None
    try:
        b = GatewayProcess(config, free_port(), tmp_path / "b.log").start()
        key = admin(a.url, "POST", "/key/generate", json={"key_alias": "burst", "max_budget": 10 * COST})[
            "key"
        ]
        statuses = asyncio.run(_burst([a.url, b.url], key, 100))
        assert statuses.count(200) == 10, (statuses, a.output(), b.output())
        assert statuses.count(429) == 90
        for url in (a.url, b.url):
            info = admin(url, "GET", "/key/info", params={"key": key})["info"]
            assert info["reserved"] + info["spend"] == pytest.approx(10 * COST)
    finally:
        a.stop()
        if b is not None:
            b.stop()


async def _burst(urls: list[str], key: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "sora-2", "prompt": "two replicas, one budget", "seconds": "4"}
    async with httpx.AsyncClient(headers=headers, timeout=120) as http:
        replies = await asyncio.gather(
            *(http.post(f"{urls[i % 2]}/v1/videos", json=body) for i in range(count))
        )
    return [r.status_code for r in replies]


def test_sigkill_while_the_provider_creates_the_job_is_found_after_restart_and_charged(
    watched_upstream: tuple[str, threading.Event], tmp_path: Path
) -> None:
    """The gateway is killed while the emulator is still answering its create (``[fault:slow]``
    delays the answer 2 s; the emulator creates the job anyway). The write-ahead record survives; the
    restarted gateway finds the job at the provider by list, records it and charges it once, and the
    key's only concurrency slot is free again. The kill waits for the create to reach the emulator:
    killed between the record's commit and the send, the job is rightly failed as never created."""
    upstream, create_seen = watched_upstream
    config = write_config(
        tmp_path / "config.yaml",
        sora_config(
            upstream,
            {
                "database_url": f"sqlite+aiosqlite:///{tmp_path / 'vidgate.db'}",
                "content_dir": str(tmp_path / "content"),
            },
        ),
    )
    port = free_port()
    first = GatewayProcess(config, port, tmp_path / "first.log").start()
    try:
        key = admin(
            first.url,
            "POST",
            "/key/generate",
            json={"key_alias": "midcreate", "max_budget": 10, "max_parallel_requests": 1},
        )["key"]
        headers = {"Authorization": f"Bearer {key}"}
        body = {"model": "sora-2", "prompt": "a lighthouse [fault:slow]", "seconds": "4"}
        retried = {**headers, "Idempotency-Key": "lighthouse-1"}
        pool = ThreadPoolExecutor(max_workers=1)
        cut = pool.submit(httpx.post, first.url + "/v1/videos", json=body, headers=retried, timeout=60)
        listed: list[dict[str, Any]] = []
        for _ in range(200):  # the write-ahead record is listed (as queued) before the provider answers
            listed = httpx.get(first.url + "/v1/videos", headers=headers).json()["data"]
            if listed:
                break
            time.sleep(0.02)
        assert [v["status"] for v in listed] == ["queued"]
        assert create_seen.wait(timeout=30), first.output()
        first.kill()
        with pytest.raises(httpx.TransportError):
            cut.result(timeout=30)
        pool.shutdown()
    finally:
        first.stop()

    second = GatewayProcess(config, port, tmp_path / "second.log").start()
    try:
        deadline = time.monotonic() + 120  # the dead process's lease (30 s) lapses, then a poller round
        info: dict[str, Any] = {}
        while time.monotonic() < deadline:
            info = admin(second.url, "GET", "/key/info", params={"key": key})["info"]
            if info["reserved"] == 0 and info["active_jobs"] == 0 and info["spend"] > 0:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the submitting job was not resolved: {info}\n{second.output()}")
        video = httpx.get(f"{second.url}/v1/videos/{listed[0]['id']}", headers=headers).json()
        assert video["status"] == "completed"
        logs = admin(second.url, "GET", "/spend/logs", params={"api_key": key})
        assert [entry["request_id"] for entry in logs] == [listed[0]["id"]]
        assert info["spend"] == pytest.approx(COST)
        # The client's retry with the same Idempotency-Key gets that video: no second job, no charge.
        replay = httpx.post(second.url + "/v1/videos", json=body, headers=retried, timeout=60)
        assert replay.status_code == 200, replay.text
        assert replay.json()["id"] == listed[0]["id"]
        assert admin(second.url, "GET", "/key/info", params={"key": key})["info"]["spend"] == pytest.approx(
            COST
        )
        again = httpx.post(
            second.url + "/v1/videos", json={"model": "sora-2", "prompt": "again"}, headers=headers
        )
        assert again.status_code == 200, again.text  # the slot is free
    finally:
        second.stop()
