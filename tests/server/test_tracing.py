"""Tracing on (``callbacks: [otel]``): a create, its polls and its download form one trace at a real
OTLP/HTTP receiver, with spans for the request, the guardrails, admission, the provider call, each
poll, settlement and the content fetch; the trace id is answered in ``x-trace-id`` and written into the
log lines."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tests.server.conftest import MASTER, PRICE_PER_SECOND, auth
from tests.support.otlp_receiver import Receiver, otlp_receiver

from vidgate.gateway import tracing
from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores
from vidgate.worker.poller import Poller

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN}-01"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as state:
        yield state


@asynccontextmanager
async def _traced(local_root: Path, receiver: Receiver) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    config = parse_config(
        {
            "model_list": [
                {
                    "model_name": "local-1",
                    "litellm_params": {
                        "model": "local/local-1",
                        "api_base": str(local_root),
                        "output_cost_per_second": PRICE_PER_SECOND,
                    },
                }
            ],
            "general_settings": {"master_key": MASTER},
            "guardrails": [
                {
                    "guardrail_name": "no-brands",
                    "litellm_params": {
                        "guardrail": "blocklist",
                        "default_on": True,
                        "blocked_words": ["acme"],
                    },
                }
            ],
            "litellm_settings": {"callbacks": ["otel"]},
            "callback_settings": {"otel": {"endpoint": f"{receiver.url}/v1/traces"}},
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        assert tracing.enabled()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield app, client
    assert not tracing.enabled()  # the app's shutdown exported its spans and stopped tracing


async def _finish(
    client: httpx.AsyncClient, key: str, video_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    for _ in range(200):
        video: dict[str, Any] = (await client.get(f"/v1/videos/{video_id}", headers=headers)).json()
        if video["status"] in ("completed", "failed"):
            return video
        await asyncio.sleep(0.05)
    raise AssertionError("not finished")


async def test_create_poll_download_is_one_trace(
    local_root: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.2")
    caplog.set_level(logging.INFO)
    async with _traced(local_root, receiver) as (_, client):
        key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
        headers = {**auth(key), "traceparent": TRACEPARENT}
        body = {"model": "local-1", "prompt": "a red fox", "seconds": "1", "size": "320x180"}
        created = await client.post("/v1/videos", json=body, headers=headers)
        assert created.status_code == 200, created.text
        assert created.headers["x-trace-id"] == TRACE_ID
        video = await _finish(client, key, created.json()["id"], headers)
        assert video["status"] == "completed"
        content = await client.get(f"/v1/videos/{video['id']}/content", headers=headers)
        assert content.status_code == 200
        assert content.headers["x-trace-id"] == TRACE_ID
        refused = await client.post("/v1/videos", json={**body, "prompt": "an acme fox"}, headers=headers)
        assert refused.status_code == 400
    assert receiver.content_types[0] == "application/x-protobuf"
    # the key was made without a traceparent: its own trace; everything else is the caller's one trace
    assert [s.name for s in receiver.spans if s.trace_id != TRACE_ID] == ["POST /key/generate"]
    spans = [s for s in receiver.spans if s.trace_id == TRACE_ID]
    assert {s.service for s in spans} == {"vidgate"}
    names = [s.name for s in spans]
    for expected in (
        "POST /v1/videos",
        "guardrails",
        "admission",
        "provider create",
        "provider poll",
        "settlement",
        "GET /v1/videos/{video_id}",
        "GET /v1/videos/{video_id}/content",
        "content fetch",
    ):
        assert expected in names, (expected, names)
    by_id = {s.span_id: s for s in spans}
    server_spans = [s for s in spans if s.name == "POST /v1/videos"]
    assert all(s.parent_span_id == CLIENT_SPAN for s in server_spans)  # children of the caller's span
    create = next(s for s in spans if s.name == "provider create")
    assert by_id[by_id[create.parent_span_id].span_id].name == "POST /v1/videos"
    assert create.attributes["vidgate.provider"] == "local"
    polls = [s for s in spans if s.name == "provider poll"]
    assert [s.attributes["vidgate.poll"] for s in polls] == list(range(1, len(polls) + 1))
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vidgate.access"]
    access = [line for line in access if line["path"] != "/key/generate"]
    assert len(access) >= 4
    assert {line["trace_id"] for line in access} == {TRACE_ID}
    refusal = next(r for r in caplog.records if "guardrail no-brands refused" in r.getMessage())
    assert refusal.getMessage().endswith(f"trace_id={TRACE_ID}")


async def test_background_polls_join_the_trace_of_the_create(
    local_root: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    async with _traced(local_root, receiver) as (app, client):
        key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
        body = {"model": "local-1", "prompt": "a red fox", "seconds": "1", "size": "320x180"}
        created = await client.post("/v1/videos", json=body, headers=auth(key))
        trace_id = created.headers["x-trace-id"]  # a new trace: the caller sent none
        poller = Poller(app.state.vidgate.service, worker_id="w")
        for _ in range(100):
            await poller.run_once()
            job = await app.state.vidgate.stores.jobs.get(created.json()["id"])
            if job.status == "completed" and job.content_stored:
                break
            await asyncio.sleep(0.05)
        assert job.status == "completed"
        assert job.upstream_polls >= 1
    in_trace = [s for s in receiver.spans if s.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert {"POST /v1/videos", "provider create", "provider poll", "settlement", "content copy"} <= names
