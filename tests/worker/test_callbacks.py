"""Per-job ``callback_url`` events: owed durably like the global webhook's, sent by whichever poller claims
the job, signed with the gateway's webhook secret (verified by the official ``openai`` package's Standard
Webhooks verifier), retried on 5xx; and never sent to a host that resolves to a private address."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from tests.gateway.harness import MASTER, local_entries, make_gateway
from tests.support.live import live_server
from tests.worker.test_webhooks import SECRET, Receiver

from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.worker.callbacks import private_destination
from vidgate.worker.poller import Poller


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[Receiver, Receiver, str]]:
    """Two receivers on one server: the operator's global webhook and a caller's callback URL."""
    global_hook, callback = Receiver(), Receiver()
    app = Starlette(
        routes=[
            Route("/global", global_hook.hook, methods=["POST"]),
            Route("/callback", callback.hook, methods=["POST"]),
        ]
    )
    with live_server(app) as url:
        yield global_hook, callback, url


def config(local_root: Path, **general: Any) -> GatewayConfig:
    return parse_config(
        {
            "model_list": local_entries(local_root),
            "general_settings": {"master_key": MASTER, "webhook_secret": SECRET, **general},
        },
        environ={},
    )


def verified(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    client = openai.OpenAI(api_key="unused", webhook_secret=SECRET)
    client.webhooks.verify_signature(body, headers)  # raises InvalidWebhookSignatureError if wrong
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.verify_signature(body, {**headers, "webhook-id": "evt_other"})
    event: dict[str, Any] = json.loads(body)
    return event


async def test_the_callback_gets_the_signed_event_and_survives_a_restart(
    local_root: Path, receivers: tuple[Receiver, Receiver, str]
) -> None:
    global_hook, callback, url = receivers
    for receiver in (global_hook, callback):
        receiver.received.clear()
        receiver.attempts.clear()
    cfg = config(local_root, allow_private_callback_urls=True, webhook_url=f"{url}/global")
    first = make_gateway(local_root, config=cfg)
    first.clock.now = time.time()  # signatures are checked against the real time
    alice = await first.new_key("alice")
    video = await first.create(alice, callback_url=f"{url}/callback?job=mine")
    mine = await first.create(alice)  # no callback_url: the global webhook only
    first.finish_local_jobs()
    await first.service.get_video(alice, video.id)
    await first.service.get_video(alice, mine.id)
    await first.close()  # that process ends before any event is sent

    survivor = make_gateway(local_root, config=cfg, stores=first.stores, clock=first.clock)
    poller = Poller(survivor.service, worker_id="survivor")
    callback.fail_next = 1
    assert await poller.run_once() == 2  # the callback answers 503: the job's event stays owed
    job = await survivor.stores.jobs.get(video.id)
    assert job is not None
    assert (job.webhook_pending, job.webhook_failures) == (True, 1)
    survivor.clock.advance(2)
    assert await poller.run_once() == 1
    done = await survivor.stores.jobs.get(video.id)
    assert done is not None
    assert done.webhook_pending is False
    [(body, headers)] = callback.received
    event = verified(body, headers)
    assert (event["type"], event["data"]["id"]) == ("video.completed", video.id)
    assert callback.attempts == [event["id"], event["id"]]  # the retry carries the same webhook-id
    # the global webhook had both events (this job's twice: its retry goes to every destination)
    assert sorted({verified(b, h)["data"]["id"] for b, h in global_hook.received}) == sorted(
        [video.id, mine.id]
    )
    await poller.stop()
    await survivor.close()


async def test_a_callback_resolving_to_a_private_address_is_not_called(
    local_root: Path, receivers: tuple[Receiver, Receiver, str]
) -> None:
    _, callback, url = receivers
    callback.attempts.clear()
    gw = make_gateway(local_root, config=config(local_root))
    gw.clock.now = time.time()
    alice = await gw.new_key("alice")
    video = await gw.create(alice, callback_url="https://hooks.example.com/v")
    job = await gw.stores.jobs.get(video.id)
    assert job is not None
    # A name accepted at create that points at this machine by the time of delivery (as a DNS change
    # would make it): the worker looks again and refuses it for good.
    job.callback_url = url.replace("127.0.0.1", "localhost") + "/callback"
    assert await gw.stores.jobs.save(job)
    gw.finish_local_jobs()
    await gw.service.get_video(alice, video.id)
    await Poller(gw.service, worker_id="w").run_once()
    stored = await gw.stores.jobs.get(video.id)
    assert stored is not None
    assert (stored.webhook_pending, callback.attempts) == (False, [])
    await gw.close()


async def test_private_destination_checks_literals_names_and_dns() -> None:
    assert await private_destination("http://127.0.0.1:9/h") == "127.0.0.1"
    assert await private_destination("http://[::1]/h") == "::1"
    assert await private_destination("http://localhost/h") == "localhost"
    assert await private_destination("https://8.8.8.8/h") is None
    assert await private_destination("https://name.invalid/h") is None  # unresolvable: the POST fails
