"""The BytePlus ModelArk emulator judged by ``byteplussdkarkruntime`` (byteplus-python-sdk-v2[ark]):
the ``dreamina-*`` ids it serves, token usage, and the error class for a model this host has not
activated. (The wire itself is Ark's, judged in ``tests/providers/volcengine/test_emulator.py``.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import byteplussdkarkruntime
import httpx
import pytest
from byteplussdkarkruntime import _exceptions as errors
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.byteplus.emulator import create_app

KEY = "modelark-emulator-key"
MAX_POLLS = 200


@pytest.fixture(scope="module")
def client(render_cache: Path) -> Iterator[Any]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        yield byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key=KEY, max_retries=0)


def test_sdk_creates_polls_and_downloads_a_fast_model(client: Any) -> None:
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-fast-260128",
        content=[{"type": "text", "text": "a paper boat on a pond"}],
        ratio="1:1",
        resolution="480p",
        duration=5,
    )
    for _ in range(MAX_POLLS):
        task = client.content_generation.tasks.get(task_id=created.id)
        if task.status not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert (task.status, task.model, task.duration) == ("succeeded", "dreamina-seedance-2-0-fast-260128", 5)
    assert task.usage.completion_tokens == 48_400  # 640 x 640 x 121 frames / 1024
    info = probe(httpx.get(task.content.video_url).content)
    assert (info.width, info.height) == (640, 640)


def test_a_volcengine_model_id_is_not_served_here(client: Any) -> None:
    with pytest.raises(errors.ArkNotFoundError):
        client.content_generation.tasks.create(
            model="doubao-seedance-2-0-260128", content=[{"type": "text", "text": "x"}]
        )


def test_a_bad_key_is_the_sdks_authentication_error(render_cache: Path) -> None:
    with live_server(create_app(EmulatorSettings(api_key=KEY, cache_dir=render_cache))) as base:
        wrong = byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key="wrong", max_retries=0)
        with pytest.raises(errors.ArkAuthenticationError):
            wrong.content_generation.tasks.get(task_id="cgt-missing")
