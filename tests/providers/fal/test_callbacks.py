"""fal calling the gateway back (``provider_callbacks: true``, ``?fal_webhook=``) over loopback: ED25519
signatures checked against the emulator's JWKS, at most one upstream poll per job, fal's retries and
duplicates harmless, forged and replayed deliveries refused (4xx) with nothing changed, charged once.

Price by hand: the open path ``some-owner/new-app`` is priced by its deployment at $0.25 per video.
fal-client 1.0.3 sends ``webhook_url`` as ``?fal_webhook=``: the emulator is judged by that client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fal_client
import httpx
import openai
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.support.callbacks import count_polls
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import free_port, live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.base import CallbackDelivery, InvalidCallback
from vidgate.providers.fal import callbacks
from vidgate.providers.fal.emulator import create_app as fal_app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-fal-callbacks-master"
UPSTREAM_KEY = "fal-callbacks-key"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@dataclass(frozen=True)
class Gateway(GatewayAdmin):
    upstream: Any  # the fal emulator
    upstream_url: str
    polls: dict[str, int]

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)

    def queued(self, prompt: str) -> Any:
        (found,) = [q for q in self.upstream.requests.values() if q.job.prompt == prompt]
        return found


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.3, cache_dir=render_cache)
    upstream_app = fal_app(settings)
    with live_server(upstream_app) as upstream:
        port = free_port()
        params = {
            "model": "fal/some-owner/new-app",
            "api_key": UPSTREAM_KEY,
            "api_base": upstream,
            "webhook_jwks_url": upstream + "/.well-known/jwks.json",
            "output_cost_per_video": "0.25",
            "provider_callbacks": True,
        }
        data = {
            "model_list": [{"model_name": "new-app", "litellm_params": params}],
            "general_settings": {"master_key": MASTER, "public_base_url": f"http://127.0.0.1:{port}"},
        }
        app = create_app(parse_config(data, environ={}), stores=MemoryStores())
        with live_server(app, port=port) as url:
            yield Gateway(url, MASTER, upstream_app.state.emulator, upstream, count_polls(app))


def finished(client: openai.OpenAI, video_id: str) -> Any:
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(POLL_PAUSE)
    raise AssertionError("the video did not finish")


def deliveries(gateway: Gateway, request_id: str, count: int) -> list[int | None]:
    for _ in range(MAX_POLLS):
        found = [a.status for a in gateway.upstream.callbacks.deliveries if a.job_id == request_id]
        if len(found) >= count:
            return found
        time.sleep(POLL_PAUSE)
    raise AssertionError("the deliveries did not arrive")


def native_of(queued: Any) -> str:
    return f"{queued.app}/requests/{queued.job.id}"


def test_fal_client_webhook_url_arrives_as_fal_webhook(gateway: Gateway) -> None:
    client = fal_client.SyncClient(key=UPSTREAM_KEY)
    url = "http://127.0.0.1:9/hook"
    original = fal_client.client.QUEUE_URL_FORMAT
    fal_client.client.QUEUE_URL_FORMAT = gateway.upstream_url + "/"
    try:
        handle = client.submit("some-owner/sdk-app", {"prompt": "an sdk webhook clip"}, webhook_url=url)
    finally:
        fal_client.client.QUEUE_URL_FORMAT = original
    assert gateway.upstream.requests[handle.request_id].webhook == url


def test_a_job_completes_by_callback_with_at_most_one_upstream_poll(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a fal clip called back"
    video = client.videos.create(model="new-app", prompt=prompt, seconds="2")  # type: ignore[arg-type]
    assert finished(client, video.id).status == "completed"
    queued = gateway.queued(prompt)
    assert str(queued.webhook).startswith(f"{gateway.url}/provider_callbacks/{video.id}?token=")
    assert gateway.polls.get(native_of(queued), 0) <= 1
    assert deliveries(gateway, queued.job.id, 1) == [200]
    assert client.videos.download_content(video.id).content[4:8] == b"ftyp"
    assert gateway.spent(key) == 0.25


def test_fal_retries_ten_times_and_each_duplicate_is_harmless(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a fal clip delivered eleven times [fault:callback-dupx10]"
    video = client.videos.create(model="new-app", prompt=prompt, seconds="2")  # type: ignore[arg-type]
    assert finished(client, video.id).status == "completed"
    queued = gateway.queued(prompt)
    assert deliveries(gateway, queued.job.id, 11) == [200] * 11
    assert gateway.polls.get(native_of(queued), 0) <= 1
    assert gateway.spent(key) == 0.25


def test_a_failed_request_reported_by_callback_is_not_charged(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a flagged fal clip [fault:filtered]"
    video = client.videos.create(model="new-app", prompt=prompt, seconds="2")  # type: ignore[arg-type]
    done = finished(client, video.id)
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code == "moderation_blocked"
    assert gateway.polls.get(native_of(gateway.queued(prompt)), 0) <= 1
    assert gateway.spent(key) == 0.0


def test_forged_and_replayed_callbacks_change_nothing(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a fal clip whose webhook is lost [fault:callback-drop]"
    video = client.videos.create(model="new-app", prompt=prompt, seconds="2")  # type: ignore[arg-type]
    queued = gateway.queued(prompt)
    for _ in range(MAX_POLLS):
        if queued.job.state()[0] == "completed":
            break
        time.sleep(POLL_PAUSE)
    url = str(queued.webhook)
    body = json.dumps(gateway.upstream.webhook_body(queued, gateway.upstream_url)).encode()
    request_id = queued.job.id
    impostor = Ed25519PrivateKey.generate()

    def headers(payload: bytes, *, signer: Ed25519PrivateKey | None = None, age: int = 0) -> dict[str, str]:
        stamp = str(int(time.time()) - age)
        lines = [request_id, "user-x", stamp, hashlib.sha256(payload).hexdigest()]
        signature = (signer or gateway.upstream.signing_key).sign("\n".join(lines).encode()).hex()
        return {
            "x-fal-webhook-request-id": request_id,
            "x-fal-webhook-user-id": "user-x",
            "x-fal-webhook-timestamp": stamp,
            "x-fal-webhook-signature": signature,
        }

    other = json.dumps({**json.loads(body), "request_id": "someone-else"}).encode()
    statuses = {
        "wrong token": httpx.post(url.partition("?")[0] + "?token=nope", content=body, headers=headers(body)),
        "unsigned": httpx.post(url, content=body),
        "impostor key": httpx.post(url, content=body, headers=headers(body, signer=impostor)),
        "tampered body": httpx.post(url, content=body.replace(b"OK", b"ERROR"), headers=headers(body)),
        "stale replay": httpx.post(url, content=body, headers=headers(body, age=3600)),
        "another request": httpx.post(url, content=other, headers=headers(other)),
    }
    codes = {name: reply.status_code for name, reply in statuses.items()}
    assert all(400 <= code < 500 for code in codes.values()), codes
    assert client.videos.retrieve(video.id).status in ("queued", "in_progress")
    assert gateway.spent(key) == 0.0

    genuine = headers(body)
    assert httpx.post(url, content=body, headers=genuine).status_code == 200
    assert client.videos.retrieve(video.id).status == "completed"
    assert httpx.post(url, content=body, headers=genuine).status_code == 200  # replayed: nothing changes
    assert gateway.spent(key) == 0.25
    assert gateway.polls.get(native_of(queued), 0) == 0


def test_signature_checks_without_a_network() -> None:
    signer = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = b'{"request_id": "r1", "status": "OK"}'
    lines = ["r1", "u1", "1000", hashlib.sha256(body).hexdigest()]
    good = {
        "x-fal-webhook-request-id": "r1",
        "x-fal-webhook-user-id": "u1",
        "x-fal-webhook-timestamp": "1000",
        "x-fal-webhook-signature": signer.sign("\n".join(lines).encode()).hex(),
    }
    delivery = CallbackDelivery("o/a/requests/r1", good, body, "secret", now=1100.0)
    signed, signature = callbacks.message(delivery)
    assert callbacks.verified((raw,), signed, signature)
    assert not callbacks.verified((bytes(32),), signed, signature)
    with pytest.raises(InvalidCallback, match="too old"):
        callbacks.message(CallbackDelivery("o/a/requests/r1", good, body, "secret", now=1000.0 + 301))
    with pytest.raises(InvalidCallback, match="not hex"):
        callbacks.message(CallbackDelivery("x", {**good, "x-fal-webhook-signature": "zz"}, body, "s", 1000.0))


def test_parse_callback_fetches_the_keys_once_and_reads_each_outcome() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from vidgate.providers.base import Credentials, HttpReply, ProviderJob, drive
    from vidgate.providers.fal.adapter import FalProvider

    signer = Ed25519PrivateKey.generate()
    raw = signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    jwks = HttpReply(200, {}, json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x}]}).encode())
    native = "fal-ai/app/requests/r1"
    creds = Credentials(api_key="k", options={"webhook_jwks_url": "https://keys.example/jwks.json"})
    adapter = FalProvider()

    def delivery(payload: dict[str, Any]) -> CallbackDelivery:
        body = json.dumps({"request_id": "r1", "gateway_request_id": "r1", **payload}).encode()
        lines = ["r1", "u1", "1000", hashlib.sha256(body).hexdigest()]
        headers = {
            "x-fal-webhook-request-id": "r1",
            "x-fal-webhook-user-id": "u1",
            "x-fal-webhook-timestamp": "1000",
            "x-fal-webhook-signature": signer.sign("\n".join(lines).encode()).hex(),
        }
        return CallbackDelivery(native, headers, body, "secret", now=1010.0)

    ok = {"status": "OK", "payload": {"video": {"url": "https://v3.fal.media/files/x.mp4"}}}
    job, calls = drive(adapter.parse_callback(delivery(ok), creds), [jwks])
    assert [c.url for c in calls] == ["https://keys.example/jwks.json"]
    assert isinstance(job, ProviderJob)
    assert (job.status, job.outputs) == ("completed", ("https://v3.fal.media/files/x.mp4",))
    unserializable = {"status": "OK", "payload": None, "payload_error": "not JSON"}
    job, calls = drive(adapter.parse_callback(delivery(unserializable), creds), [])  # keys kept
    assert isinstance(job, ProviderJob)
    assert job.status == "in_progress"  # the fallback poll reads the queue
    detail = [{"loc": ["body"], "msg": "flagged", "type": "content_policy_violation"}]
    failed = {"status": "ERROR", "error": "Invalid status code: 422", "payload": {"detail": detail}}
    job, _ = drive(adapter.parse_callback(delivery(failed), creds), [])
    assert isinstance(job, ProviderJob)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == "moderation_blocked"
