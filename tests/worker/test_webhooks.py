"""Webhook events: signed so the official ``openai`` package verifies them, owed durably from the save
that makes a job terminal, sent by whichever poller claims the job (also after the process that saw the
job finish died), retried on transient failures."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.gateway.harness import MASTER, Gateway, local_entries, make_gateway
from tests.support.live import live_server

from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.gateway.records import JobRecord
from vidgate.worker.poller import Poller
from vidgate.worker.webhooks import WebhookSender, sign

SECRET = "whsec_" + base64.b64encode(b"sixteen byte key").decode()


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.attempts: list[str] = []  # webhook-id of every request, refused ones included
        self.fail_next = 0

    async def hook(self, request: Request) -> Response:
        self.attempts.append(request.headers.get("webhook-id", ""))
        if self.fail_next > 0:
            self.fail_next -= 1
            return Response(status_code=503)
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    app = Starlette(routes=[Route("/hook", state.hook, methods=["POST"])])
    with live_server(app) as url:
        yield state, f"{url}/hook"


def _verify(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    client = openai.OpenAI(api_key="unused", webhook_secret=SECRET)
    client.webhooks.verify_signature(body, headers)  # raises InvalidWebhookSignatureError if wrong
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.verify_signature(body + b" ", headers)
    event: dict[str, Any] = json.loads(body)
    return event


def test_signature_matches_the_standard_webhooks_scheme() -> None:
    body = b'{"a":1}'
    value = sign(SECRET, "evt_1", 1700000000, body)
    assert value.startswith("v1,")
    headers = {"webhook-id": "evt_1", "webhook-timestamp": "1700000000", "webhook-signature": value}
    client = openai.OpenAI(api_key="unused")
    with pytest.raises(openai.InvalidWebhookSignatureError):  # far outside the 300 s tolerance
        client.webhooks.verify_signature(body, headers, secret=SECRET)
    assert sign("plain-secret", "evt_1", 1, body) != sign(SECRET, "evt_1", 1, body)
    with pytest.raises(ValueError, match="base64"):
        sign("whsec_not base64!", "evt_1", 1, body)


async def test_terminal_jobs_send_one_verified_event_each(
    local_root: Path, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.received.clear()
    config = parse_config(
        {
            "model_list": local_entries(local_root),
            "general_settings": {"master_key": MASTER, "webhook_url": url, "webhook_secret": SECRET},
        },
        environ={},
    )
    gw = make_gateway(local_root, config=config)
    gw.clock.now = time.time()  # signatures are checked against the real time
    alice = await gw.new_key("alice")
    ok = await gw.create(alice)
    bad = await gw.create(alice, prompt="a fox [fault:fail]")
    poller = Poller(gw.service, worker_id="w")
    poller.start()
    try:
        gw.finish_local_jobs()
        await gw.service.get_video(alice, ok.id)  # a GET refresh announces too
        for _ in range(500):
            if len(state.received) >= 2:
                break
            await asyncio.sleep(0.01)
        await gw.service.get_video(alice, ok.id)
        await poller.run_once()
    finally:
        await poller.stop()
    events = [_verify(body, headers) for body, headers in state.received]
    assert sorted((e["type"], e["data"]["id"]) for e in events) == sorted(
        [("video.completed", ok.id), ("video.failed", bad.id)]
    )
    assert all(e["object"] == "event" and e["id"].startswith("evt_") for e in events)
    assert not any(j.webhook_pending for j in await _jobs(gw, [ok.id, bad.id]))
    await gw.close()


async def _jobs(gw: Gateway, ids: list[str]) -> list[JobRecord]:
    found = [await gw.stores.jobs.get(i) for i in ids]
    assert all(j is not None for j in found)
    return [j for j in found if j is not None]


def _webhook_config(local_root: Path, url: str) -> GatewayConfig:
    return parse_config(
        {
            "model_list": local_entries(local_root),
            "general_settings": {"master_key": MASTER, "webhook_url": url, "webhook_secret": SECRET},
        },
        environ={},
    )


async def test_an_owed_event_survives_the_process_that_saw_the_job_finish(
    local_root: Path, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.received.clear()
    state.attempts.clear()
    config = _webhook_config(local_root, url)
    seen_it = make_gateway(local_root, config=config)
    seen_it.clock.now = time.time()
    alice = await seen_it.new_key("alice")
    video = await seen_it.create(alice)
    seen_it.finish_local_jobs()
    assert (await seen_it.service.get_video(alice, video.id)).status == "completed"
    # That process saw the job finish and then died before sending anything (it never ran a poller;
    # another replica's poller claimed the job and died too, holding the lease).
    [job] = await _jobs(seen_it, [video.id])
    assert (job.webhook_pending, state.attempts) == (True, [])
    assert [
        j.id
        for j in await seen_it.stores.jobs.claim_due("dead", now=seen_it.clock(), lease_seconds=30, limit=9)
    ] == [video.id]

    survivor = make_gateway(local_root, config=config, stores=seen_it.stores, clock=seen_it.clock)
    poller = Poller(survivor.service, worker_id="survivor")
    assert await poller.run_once() == 0  # the dead worker's lease still holds
    state.fail_next = 1
    survivor.clock.advance(31)
    assert await poller.run_once() == 1  # taken over; the receiver answers 503
    [job] = await _jobs(survivor, [video.id])
    assert (job.webhook_pending, job.webhook_failures, job.content_stored) == (True, 1, True)
    assert await poller.run_once() == 0  # backing off
    survivor.clock.advance(2)
    assert await poller.run_once() == 1
    [job] = await _jobs(survivor, [video.id])
    assert (job.webhook_pending, job.lease_owner) == (False, None)
    assert await poller.run_once() == 0  # nothing owed any more: never claimed again
    [(body, headers)] = state.received
    event = _verify(body, headers)
    assert (event["type"], event["data"]["id"]) == ("video.completed", video.id)
    assert state.attempts == [event["id"], event["id"]]  # the repeat carries the same webhook-id
    await poller.stop()
    await seen_it.close()
    await survivor.close()


async def test_without_webhooks_configured_no_event_is_owed(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    await gw.service.get_video(alice, video.id)
    [job] = await _jobs(gw, [video.id])
    assert not job.webhook_pending


async def test_a_send_says_whether_to_retry(receiver: tuple[Receiver, str]) -> None:
    """5xx is worth another attempt (the poller backs off and comes back), a 404 is not."""
    state, url = receiver
    state.received.clear()
    state.fail_next = 2
    event: dict[str, object] = {"id": "evt_x", "object": "event", "type": "video.failed", "data": {}}
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(url, SECRET, client)
        assert [await sender.send(event) for _ in range(3)] == ["retry", "retry", "delivered"]
        gone = WebhookSender(url.replace("/hook", "/nowhere"), SECRET, client)
        assert await gone.send({**event, "id": "evt_y"}) == "rejected"
    assert len(state.received) == 1


def test_webhook_settings_are_checked() -> None:
    from vidgate.gateway.config import ConfigError

    with pytest.raises(ConfigError, match="webhook_url needs webhook_secret"):
        parse_config({"general_settings": {"webhook_url": "https://x"}}, environ={})
    with pytest.raises(ConfigError, match="must be an http"):
        parse_config({"general_settings": {"webhook_url": "ftp://x", "webhook_secret": "s"}}, environ={})
