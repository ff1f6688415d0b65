"""The Volcengine adapter against its emulator over HTTP, through vidgate's SDK: image roles, cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import BadRequestError
from vidgate.providers.volcengine.emulator import create_app

KEY = "ark-loopback-key"
MODEL = "volcengine/doubao-seedance-2-0-260128"


@pytest.fixture
def served(render_cache: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache))
    with live_server(app) as url:
        yield f"{url}/api/v3", app


def roles(app: Any) -> list[tuple[str, str]]:
    """(role, start of the image URL) of each image the emulator's only task received."""
    (task,) = app.state.emulator.tasks.values()
    return [(role, url[:22]) for role, url in task.job.extra["images"]]


def test_first_and_last_frame_arrive_as_data_urls_with_roles(served: tuple[str, Any]) -> None:
    base, app = served
    with Client(api_key=KEY, api_base=base) as client:
        video = client.videos.create(
            MODEL,
            "from dawn to dusk",
            seconds="4",
            size="864x496",
            input_reference=image_bytes(864, 496, "png"),
            last_frame=image_bytes(864, 496, "jpeg"),
        )
        assert roles(app) == [
            ("first_frame", "data:image/png;base64,"),
            ("last_frame", "data:image/jpeg;base64"),
        ]
        done = client.videos.wait(video.id, timeout=30, poll_interval=0.05)
        assert done.status == "completed"
        assert probe(client.videos.content(video.id).content).width == 864


def test_reference_images_arrive_with_their_role(served: tuple[str, Any]) -> None:
    base, app = served
    with Client(api_key=KEY, api_base=base) as client:
        refs = [image_bytes(64, 64, "webp"), image_bytes(64, 64, "png")]
        video = client.videos.create(MODEL, "the cat from the photos", seconds="5", reference_images=refs)
        assert [role for role, _ in roles(app)] == ["reference_image", "reference_image"]
        assert video.seconds == "5"  # any Seedance duration takes reference images (not Veo's 8 s only)


def test_a_queued_task_is_cancelled_by_delete_and_reads_as_failed(render_cache: Path) -> None:
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=600, cache_dir=render_cache))
    with live_server(app) as url, Client(api_key=KEY, api_base=f"{url}/api/v3") as client:
        video = client.videos.create(MODEL, "never mind", seconds="4")
        assert client.videos.delete(video.id).deleted is True
        cancelled = client.videos.retrieve(video.id)
        assert cancelled.status == "failed"
        assert cancelled.error is not None
        assert cancelled.error.code == "cancelled"
        with pytest.raises(BadRequestError):
            client.videos.content(video.id)
