"""The fal queue emulator judged by the official fal-client 1.0.3 over loopback.

fal-client builds queue URLs from ``https://{FAL_QUEUE_RUN_HOST}/`` read at import; the tests point its
``QUEUE_URL_FORMAT`` at the emulator (plain HTTP on loopback). Everything after submit follows the URLs
the emulator returned, as fal-client does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import fal_client
import fal_client.client as fal_module
import httpx
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.fal.emulator import create_app

KEY = "fal-test-key"
KLING = "fal-ai/kling-video/v3/pro/text-to-video"
RAY = "luma/agent/ray/v3.2/text-to-video"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def client(base_url: str, monkeypatch: pytest.MonkeyPatch) -> fal_client.SyncClient:
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", f"{base_url}/")
    return fal_client.SyncClient(key=KEY, default_timeout=30)


def finished(handle: fal_client.SyncRequestHandle) -> fal_client.Completed:
    for _ in range(MAX_POLLS):
        status = handle.status(with_logs=True)
        if isinstance(status, fal_client.Completed):
            return status
        assert isinstance(status, (fal_client.Queued, fal_client.InProgress))
        time.sleep(POLL_PAUSE)
    raise AssertionError("the request did not complete")


def test_submit_status_result_download(client: fal_client.SyncClient, tmp_path: Path) -> None:
    handle = client.submit(RAY, {"prompt": "a fal cat", "duration": "5s", "resolution": "540p"})
    assert handle.status_url.endswith(f"/luma/agent/requests/{handle.request_id}/status")  # the app
    done = finished(handle)
    assert done.error is None
    assert done.logs  # with_logs=True
    result = handle.get()
    video = result["video"]
    assert video["content_type"] == "video/mp4"
    data = httpx.get(video["url"], timeout=30).content  # a CDN URL: no key needed
    path = tmp_path / "out.mp4"
    path.write_bytes(data)
    info = probe(path)
    assert (info.width, info.height) == (960, 540)
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_status_and_result_by_request_id(client: fal_client.SyncClient) -> None:
    handle = client.submit(KLING, {"prompt": "a kling cat", "duration": "3", "aspect_ratio": "9:16"})
    finished(handle)
    assert isinstance(client.status(KLING, handle.request_id), fal_client.Completed)
    assert client.result(KLING, handle.request_id)["video"]["url"]


def test_cancel_a_queued_request(base_url: str, monkeypatch: pytest.MonkeyPatch, render_cache: Path) -> None:
    slow = EmulatorSettings(api_key=KEY, processing_seconds=60, cache_dir=render_cache)
    with live_server(create_app(slow)) as url:
        monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", f"{url}/")
        client = fal_client.SyncClient(key=KEY)
        handle = client.submit("some-owner/any-app/v2", {"prompt": "cancel me"})
        assert isinstance(handle.status(), fal_client.Queued)
        handle.cancel()
        status = handle.status()
        assert isinstance(status, fal_client.Completed)
        assert status.error_type == "request_cancelled"
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            handle.cancel()
        assert info.value.status_code == 400


def test_failed_request(client: fal_client.SyncClient) -> None:
    handle = client.submit(KLING, {"prompt": "a cat [fault:fail]"})
    done = finished(handle)
    assert done.error
    assert done.error_type == "generation_failed"
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.result(KLING, handle.request_id)
    assert info.value.status_code == 500


def test_bad_key_is_401(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", f"{base_url}/")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal_client.SyncClient(key="wrong").submit(KLING, {"prompt": "a cat"})
    assert info.value.status_code == 401


def test_unknown_request_is_404(client: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.status(KLING, "00000000-0000-0000-0000-000000000000")
    assert info.value.status_code == 404
    assert info.value.error_type == "request_not_found"


def test_input_the_model_refuses_is_422_naming_the_field(client: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit(RAY, {"prompt": "a cat", "duration": "7s"})
    assert info.value.status_code == 422
    assert info.value.response.json()["detail"][0]["loc"] == ["body", "duration"]
