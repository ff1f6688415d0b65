"""Replicate calling the gateway back (``provider_callbacks: true``) over loopback: the job completes
with at most one upstream poll, duplicates are harmless, forged and replayed deliveries change nothing
(and are answered 4xx, never 5xx), and the key is charged once.

Price by hand: the open model ``minimax/h3-lite`` is priced by its deployment at $0.25 per video.
The emulator signs as Replicate does; ``replicate.webhook.Webhooks.validate`` (the official SDK) judges
its signatures, and the tests sign their own deliveries with the secret the SDK reads from it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from replicate.client import Client as ReplicateClient
from replicate.webhook import InvalidSignatureError, Webhooks, WebhookSigningSecret
from tests.support.callbacks import count_polls
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import free_port, live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.providers.replicate.callbacks import sign
from vidgate.providers.replicate.emulator import create_app as replicate_app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-replicate-callbacks-master"
UPSTREAM_TOKEN = "r8_callbacks_token"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@dataclass(frozen=True)
class Gateway(GatewayAdmin):
    upstream: Any  # the Replicate emulator
    polls: dict[str, int]  # status polls by native id
    upstream_url: str

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)

    def prediction(self, prompt: str) -> Any:
        (found,) = [p for p in self.upstream.predictions.values() if p.job.prompt == prompt]
        return found


def config(upstream: str, public: str) -> dict[str, Any]:
    params = {
        "model": "replicate/minimax/h3-lite",
        "api_key": UPSTREAM_TOKEN,
        "api_base": upstream,
        "output_cost_per_video": "0.25",
        "provider_callbacks": True,
    }
    return {
        "model_list": [{"model_name": "h3-lite", "litellm_params": params}],
        "general_settings": {"master_key": MASTER, "public_base_url": public},
    }


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_TOKEN, processing_seconds=0.3, cache_dir=render_cache)
    upstream_app = replicate_app(settings)
    with live_server(upstream_app) as upstream:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        app = create_app(parse_config(config(upstream, public), environ={}), stores=MemoryStores())
        with live_server(app, port=port) as url:
            yield Gateway(url, MASTER, upstream_app.state.emulator, count_polls(app), upstream)


def finished(client: openai.OpenAI, video_id: str) -> Any:
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(POLL_PAUSE)
    raise AssertionError("the video did not finish")


def upstream_done(gateway: Gateway, prompt: str) -> Any:
    pred = gateway.prediction(prompt)
    for _ in range(MAX_POLLS):
        if pred.job.state()[0] in ("completed", "failed"):
            return pred
        time.sleep(POLL_PAUSE)
    raise AssertionError("the prediction did not finish upstream")


def signed(
    gateway: Gateway, body: bytes, *, timestamp: int | None = None, webhook_id: str = "msg_test"
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    secret = gateway.upstream.signing_secret
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": sign(secret, webhook_id, stamp, body),
    }


def test_the_emulator_signs_as_the_replicate_sdk_verifies(gateway: Gateway) -> None:
    secret = ReplicateClient(
        api_token=UPSTREAM_TOKEN, base_url=gateway.upstream_url
    ).webhooks.default.secret()
    assert secret.key == gateway.upstream.signing_secret
    assert secret.key.startswith("whsec_")
    body = json.dumps({"id": "abc", "status": "succeeded"})
    headers = signed(gateway, body.encode())
    Webhooks.validate(headers=headers, body=body, secret=secret, tolerance=300)  # raises when wrong
    forged = WebhookSigningSecret(key="whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==")
    with pytest.raises(InvalidSignatureError):
        Webhooks.validate(headers=headers, body=body, secret=forged)


def test_a_job_completes_by_callback_with_at_most_one_upstream_poll(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a called back clip"
    video = client.videos.create(model="h3-lite", prompt=prompt, seconds="1")  # type: ignore[arg-type]
    done = finished(client, video.id)
    assert done.status == "completed"
    pred = gateway.prediction(prompt)
    assert pred.webhook is not None
    assert pred.webhook.startswith(gateway.url + "/provider_callbacks/")
    assert gateway.polls.get(pred.job.id, 0) <= 1
    assert [a.status for a in gateway.upstream.callbacks.deliveries if a.job_id == pred.job.id] == [200]
    assert client.videos.download_content(video.id).content[4:8] == b"ftyp"
    assert gateway.spent(key) == 0.25


def test_duplicate_deliveries_are_idempotent_and_charged_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a clip delivered four times [fault:callback-dupx3]"
    video = client.videos.create(model="h3-lite", prompt=prompt, seconds="1")  # type: ignore[arg-type]
    assert finished(client, video.id).status == "completed"
    pred = gateway.prediction(prompt)
    for _ in range(MAX_POLLS):
        statuses = [a.status for a in gateway.upstream.callbacks.deliveries if a.job_id == pred.job.id]
        if len(statuses) == 4:
            break
        time.sleep(POLL_PAUSE)
    assert statuses == [200, 200, 200, 200]
    assert gateway.polls.get(pred.job.id, 0) <= 1
    assert gateway.spent(key) == 0.25


def callback_counts(gateway: Gateway) -> Counter[tuple[str, str]]:
    """``vidgate_provider_callbacks_total`` as scraped from ``/metrics``, by (provider, outcome)."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(httpx.get(gateway.url + "/metrics").text):
        for sample in family.samples:
            if sample.name == "vidgate_provider_callbacks_total":
                counts[(sample.labels["provider"], sample.labels["outcome"])] = int(sample.value)
    return counts


def test_forged_and_replayed_callbacks_change_nothing(gateway: Gateway) -> None:
    before = callback_counts(gateway)
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a clip whose callback is lost [fault:callback-drop]"
    video = client.videos.create(model="h3-lite", prompt=prompt, seconds="1")  # type: ignore[arg-type]
    pred = upstream_done(gateway, prompt)
    url = str(pred.webhook)
    root = gateway.upstream_url
    real = json.dumps(gateway.upstream.view(pred, root)).encode()
    other = json.dumps({**json.loads(real), "id": "someoneelsesprediction"}).encode()

    def deliver(target: str, body: bytes, headers: dict[str, str]) -> int:
        return httpx.post(target, content=body, headers=headers).status_code

    base, _, _ = url.partition("?")
    attempts = {
        "wrong token": deliver(base + "?token=guessed", real, signed(gateway, real)),
        "no token": deliver(base, real, signed(gateway, real)),
        "unknown job": deliver(url.replace(video.id, "video_" + "0" * 32), real, signed(gateway, real)),
        "not a job id": deliver(gateway.url + "/provider_callbacks/not-a-video?token=x", real, {}),
        "unsigned": deliver(url, real, {"content-type": "application/json"}),
        "bad signature": deliver(url, real, {**signed(gateway, real), "webhook-signature": "v1,AAAA"}),
        "stale replay": deliver(url, real, signed(gateway, real, timestamp=int(time.time()) - 3600)),
        "another job": deliver(url, other, signed(gateway, other)),
        "not json": deliver(url, b"{", signed(gateway, b"{")),
    }
    assert all(400 <= status < 500 for status in attempts.values()), attempts
    assert client.videos.retrieve(video.id).status in ("queued", "in_progress")
    assert gateway.spent(key) == 0.0
    assert gateway.polls.get(pred.job.id, 0) == 0

    genuine = signed(gateway, real)
    assert deliver(url, real, genuine) == 200
    assert client.videos.retrieve(video.id).status == "completed"
    assert gateway.spent(key) == 0.25
    assert deliver(url, real, genuine) == 200  # the same delivery replayed: nothing changes
    assert deliver(url, real, signed(gateway, real, webhook_id="msg_again")) == 200
    assert gateway.spent(key) == 0.25
    assert gateway.polls.get(pred.job.id, 0) == 0
    assert callback_counts(gateway) - before == Counter(
        {
            ("replicate", "forged"): 7,  # wrong or no token, unsigned, bad or stale signature, ...
            ("unknown", "unknown_job"): 2,  # no such job, not a job id
            ("replicate", "accepted"): 1,
            ("replicate", "duplicate"): 2,  # the replays
        }
    )


def test_callbacks_need_a_public_base_url() -> None:
    data = config("http://127.0.0.1:9", "http://gateway.example")
    del data["general_settings"]["public_base_url"]
    with pytest.raises(ConfigError, match=r"general_settings\.public_base_url: required"):
        parse_config(data, environ={})
