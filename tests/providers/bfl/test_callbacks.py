"""BFL calling the gateway back (``webhook_url`` + ``webhook_secret``) over loopback: the per-job secret
signs each delivery (``X-BFL-Signature: sha256=<hex HMAC-SHA256>``); at most one upstream poll per
job, duplicates harmless, forged deliveries refused with nothing changed, charged once.

Price by hand (an ASSUMPTION, as models.yaml says): FLUX 3 video hd $0.10/s, so 5 s = $0.50.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.support.callbacks import CallbackGateway, callback_gateway, finished, wait_for

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.bfl.emulator import create_app as bfl_app

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
KEY = "bfl-callbacks-key"


@pytest.fixture(scope="module")
def setup(render_cache: Path) -> Iterator[tuple[CallbackGateway, Any]]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    app = bfl_app(settings)
    with callback_gateway(app, "flux", {"model": "bfl/flux-3-video", "api_key": KEY}) as gateway:
        yield gateway, app


def job_of(app: Any, prompt: str) -> Any:
    (job,) = [j for j in app.state.jobs.values() if j.prompt == prompt]
    return job


def create(gateway: CallbackGateway, key: str, prompt: str) -> Any:
    client = gateway.client(key)
    return client, client.videos.create(model="flux", prompt=prompt, seconds="5", size="1280x720")  # type: ignore[arg-type]


def test_completes_by_signed_callback_and_duplicates_change_nothing(
    setup: tuple[CallbackGateway, Any],
) -> None:
    gateway, app = setup
    key = gateway.new_key()
    prompt = "a paper boat called back [fault:callback-dupx1]"
    client, video = create(gateway, key, prompt)
    assert finished(client, video.id).status == "completed"
    job = job_of(app, prompt)
    wait_for(lambda: len([a for a in app.state.callbacks.deliveries if a.job_id == job.id]) == 2)
    assert [a.status for a in app.state.callbacks.deliveries if a.job_id == job.id] == [200, 200]
    assert gateway.polls_of(job.id) <= 1
    assert client.videos.download_content(video.id).content[4:8] == b"ftyp"
    assert gateway.spend(key) == 0.5


def test_forged_deliveries_change_nothing(setup: tuple[CallbackGateway, Any]) -> None:
    gateway, app = setup
    key = gateway.new_key()
    prompt = "a paper boat whose webhook is lost [fault:callback-drop]"
    client, video = create(gateway, key, prompt)
    job = job_of(app, prompt)
    wait_for(lambda: job.state()[0] == "completed")
    poll = httpx.get(f"{gateway.upstream_url}/v1/get_result", params={"id": job.id}, headers={"x-key": KEY})
    body = json.dumps({**poll.json(), "timestamp": "2026-12-06T10:00:00Z"}).encode()
    webhook = next(iter(app.state.webhooks[job.id].items()))
    url, secret = webhook
    assert parse_qs(urlsplit(url).query)["token"] == [secret]  # the job's secret signs its deliveries

    def signature(payload: bytes, key: str = secret) -> dict[str, str]:
        return {"x-bfl-signature": "sha256=" + hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()}

    other = json.dumps({**json.loads(body), "id": "another-task"}).encode()
    codes = {
        "unsigned": httpx.post(url, content=body).status_code,
        "another secret": httpx.post(url, content=body, headers=signature(body, "guess")).status_code,
        "tampered": httpx.post(
            url, content=body.replace(b"Ready", b"Error"), headers=signature(body)
        ).status_code,
        "another task": httpx.post(url, content=other, headers=signature(other)).status_code,
    }
    assert all(400 <= code < 500 for code in codes.values()), codes
    assert client.videos.retrieve(video.id).status in ("queued", "in_progress")
    assert gateway.spend(key) == 0.0
    assert httpx.post(url, content=body, headers=signature(body)).status_code == 200
    assert client.videos.retrieve(video.id).status == "completed"
    assert httpx.post(url, content=body, headers=signature(body)).status_code == 200  # replayed
    assert gateway.spend(key) == 0.5
    assert gateway.polls_of(job.id) == 0
