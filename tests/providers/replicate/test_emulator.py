"""The Replicate emulator judged by the official replicate 1.0.7 client (``base_url``) over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.replicate.emulator import create_app

TOKEN = "r8_test_token"
VEO = "google/veo-3.1"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=TOKEN, processing_seconds=0.4, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Client:
    return Client(api_token=TOKEN, base_url=base_url)


def finished(prediction: Prediction) -> Prediction:
    seen = {prediction.status}
    for _ in range(MAX_POLLS):
        if prediction.status in ("succeeded", "failed", "canceled"):
            assert seen <= {"starting", "processing", prediction.status}
            return prediction
        time.sleep(POLL_PAUSE)
        prediction.reload()
        seen.add(prediction.status)
    raise AssertionError("the prediction did not finish")


def test_create_reload_and_download(client: Client, tmp_path: Path) -> None:
    prediction = client.predictions.create(
        model=VEO,
        input={"prompt": "a replicate cat", "duration": 4, "resolution": "720p", "aspect_ratio": "9:16"},
    )
    assert prediction.status == "starting"
    assert prediction.urls is not None
    assert prediction.urls["get"].endswith(f"/v1/predictions/{prediction.id}")
    done = finished(prediction)
    assert done.status == "succeeded"
    assert done.metrics is not None
    assert done.metrics["predict_time"] > 0
    assert isinstance(done.output, str)
    path = tmp_path / "out.mp4"
    path.write_bytes(httpx.get(done.output, timeout=30).content)  # a delivery URL: no token
    info = probe(path)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    assert client.predictions.get(prediction.id).status == "succeeded"


def test_progress_is_readable_from_the_logs(base_url: str, render_cache: Path) -> None:
    slow = EmulatorSettings(api_key=TOKEN, processing_seconds=30, cache_dir=render_cache)
    with live_server(create_app(slow)) as url:
        client = Client(api_token=TOKEN, base_url=url)
        prediction = client.predictions.create(model="minimax/h3-lite", input={"prompt": "slow"})
        for _ in range(MAX_POLLS):
            prediction.reload()
            if prediction.status == "processing":
                break
            time.sleep(POLL_PAUSE)
        assert prediction.status == "processing"
        assert prediction.progress is not None
        prediction.cancel()
        assert str(prediction.status) == "canceled"  # cancel() updates the object in place
        assert client.predictions.get(prediction.id).status == "canceled"


def test_pinned_version_and_list(client: Client) -> None:
    version = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
    prediction = client.predictions.create(version=version, input={"prompt": "a pinned cat", "duration": 1})
    assert prediction.version == version
    listed = [p.id for p in client.predictions.list().results]
    assert prediction.id in listed


def test_failed_and_filtered(client: Client) -> None:
    failed = finished(client.predictions.create(model=VEO, input={"prompt": "x [fault:fail]", "duration": 4}))
    assert failed.status == "failed"
    assert failed.error
    filtered = finished(
        client.predictions.create(model=VEO, input={"prompt": "x [fault:filtered]", "duration": 4})
    )
    assert "(E005)" in str(filtered.error)


def test_bad_token_is_401(base_url: str) -> None:
    with pytest.raises(ReplicateError) as info:
        Client(api_token="wrong", base_url=base_url).predictions.create(model=VEO, input={"prompt": "x"})
    assert info.value.status == 401
    assert info.value.title == "Unauthenticated"


def test_unknown_prediction_is_404(client: Client) -> None:
    with pytest.raises(ReplicateError) as info:
        client.predictions.get("nosuchprediction")
    assert info.value.status == 404


def test_input_the_model_refuses_is_422(client: Client) -> None:
    with pytest.raises(ReplicateError) as info:
        client.predictions.create(model=VEO, input={"prompt": "x", "duration": 5})
    assert info.value.status == 422
    assert "input.duration" in str(info.value.detail)
