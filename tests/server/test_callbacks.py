"""LiteLLM's callbacks: ``generic_api`` POSTs batched, redacted job events to a real HTTP endpoint and
retries a failing one; the Prometheus observer counts polls, durations and money."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.server.conftest import MASTER, PRICE_PER_SECOND, auth
from tests.support.live import live_server

from vidgate.gateway.config import parse_config
from vidgate.gateway.observability import HttpLogger
from vidgate.server.app import create_app
from vidgate.server.callbacks import HttpLogCallback
from vidgate.store.memory import MemoryStores


@dataclass
class Sink:
    url: str = ""
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
def sink() -> Iterator[Sink]:
    state = Sink()

    async def ingest(request: Request) -> JSONResponse:
        state.headers.append(dict(request.headers))
        if state.fail_next > 0:
            state.fail_next -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        state.batches.append(await request.json())
        return JSONResponse({"ok": True})

    with live_server(Starlette(routes=[Route("/ingest", ingest, methods=["POST"])])) as url:
        state.url = url
        yield state


async def test_job_events_are_batched_redacted_and_retried(
    local_root: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
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
            "litellm_settings": {"success_callback": ["generic_api"], "failure_callback": ["generic_api"]},
            "callback_settings": {
                "generic_api": {
                    "endpoint": f"{sink.url}/ingest",
                    "headers": {"Authorization": "os.environ/LOG_TOKEN"},
                    "batch_size": 2,
                    "flush_interval": 60,
                }
            },
        },
        environ={"LOG_TOKEN": "Bearer log-sink-token"},
    )
    sink.fail_next = 1  # the first delivery is refused with a 503: retried
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
            secret_prompt = "a fox holding a card reading sk-live-0123456789abcdef"
            body = {"model": "local-1", "prompt": secret_prompt, "seconds": "1", "size": "320x180"}
            video = (await client.post("/v1/videos", json=body, headers=auth(key))).json()
            refused = await client.post("/v1/videos", json={**body, "prompt": "acme"}, headers=auth(key))
            assert refused.status_code == 400
            for _ in range(200):
                video = (await client.get(f"/v1/videos/{video['id']}", headers=auth(key))).json()
                if video["status"] == "completed":
                    break
                await asyncio.sleep(0.05)
            for _ in range(200):  # two events make a batch: sent without waiting for the interval
                if sink.batches:
                    break
                await asyncio.sleep(0.05)
    assert len(sink.batches) == 1
    refusal, success = sink.batches[0]
    assert sink.headers[-1]["authorization"] == "Bearer log-sink-token"
    assert len(sink.headers) == 2  # one 503, one delivery
    assert refusal["status"] == "failure"
    assert refusal["error_code"] == "content_policy_violation"
    assert refusal["metadata"]["guardrail"] == "no-brands"
    assert success["id"] == video["id"]
    assert success["status"] == "success"
    assert success["call_type"] == "video_generation"
    assert success["model"] == "local-1"
    assert success["custom_llm_provider"] == "local"
    assert success["response_cost"] == 0.1  # $0.10/s x 1 s
    assert success["prompt"] == "a fox holding a card reading [redacted]"
    assert "sk-live" not in str(sink.batches)


async def test_a_batch_is_dropped_after_its_retries(sink: Sink) -> None:
    sink.fail_next = 10
    callback = HttpLogCallback(
        HttpLogger(name="generic_api", endpoint=f"{sink.url}/ingest", batch_size=5, max_retries=1)
    )
    callback.refused("g", "m", None, "no")
    await callback.flush()
    assert (callback.sent, callback.dropped) == (0, 1)
    assert len(sink.headers) == 2  # the first try and one retry
    await callback.stop()


async def test_prometheus_counts_polls_durations_and_money(
    local_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
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
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            key = (await client.post("/key/generate", json={}, headers=auth(MASTER))).json()["key"]
            body = {"model": "local-1", "prompt": "a fox", "seconds": "2", "size": "320x180"}
            video = (await client.post("/v1/videos", json=body, headers=auth(key))).json()
            for _ in range(200):
                video = (await client.get(f"/v1/videos/{video['id']}", headers=auth(key))).json()
                if video["status"] == "completed":
                    break
                await asyncio.sleep(0.05)
            metrics = (await client.get("/metrics", headers=auth(MASTER))).text
            job = await app.state.vidgate.stores.jobs.get(video["id"])
    labels = '{model="local-1",provider="local"}'
    assert f"vidgate_money_reserved_usd_total{labels} 0.2" in metrics  # $0.10/s x 2 s
    assert f"vidgate_money_settled_usd_total{labels} 0.2" in metrics
    assert f"vidgate_money_released_usd_total{labels} 0.0" in metrics
    assert f'vidgate_upstream_polls_total{{provider="local"}} {float(job.upstream_polls)}' in metrics
    assert 'vidgate_job_upstream_polls_count{provider="local"} 1.0' in metrics
    assert f'vidgate_job_upstream_polls_sum{{provider="local"}} {float(job.upstream_polls)}' in metrics
    assert (
        'vidgate_job_duration_seconds_count{model="local-1",provider="local",status="completed"} 1.0'
        in metrics
    )
