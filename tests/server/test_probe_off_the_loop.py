"""The MP4 probe walks every sample of an upload (up to 0.7 s for a crafted 64 MiB file at its budget):
its server-side callers run it in a worker thread, so the event loop keeps serving meanwhile."""

from __future__ import annotations

import dataclasses
import io
import threading

import pytest
from starlette.datastructures import UploadFile

from vidgate.catalog import mp4
from vidgate.errors import BadRequestError
from vidgate.gateway import edits
from vidgate.gateway.records import JobRecord
from vidgate.server import video_sources


def recording(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[threading.Thread]:
    """``module.name`` replaced by the real probe function, recording the thread each call ran in."""
    threads: list[threading.Thread] = []
    real = getattr(mp4, name)

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return threads


async def test_an_upload_is_probed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = recording(monkeypatch, video_sources, "require_video")
    with pytest.raises(BadRequestError) as caught:  # the same 400 as before, raised from the thread
        await video_sources.uploaded_video(UploadFile(io.BytesIO(b"GIF89a" + bytes(100))), sized=True)
    assert (caught.value.param, caught.value.code) == ("video", "invalid_video_format")
    assert threads
    assert threads[0] is not threading.main_thread()


async def test_a_stored_clip_is_probed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = recording(monkeypatch, edits, "probe")
    refusals = recording(monkeypatch, edits, "require_video")
    job = JobRecord(
        id="video_1", owner_key_id="k", model_name="m", deployment_id="d", provider="p", native_id="n",
        status="completed", created_at=0, size="1280x720", seconds="8",
    )  # fmt: skip
    assert await edits.clip_seconds(job, b"not an mp4") == 8
    with pytest.raises(BadRequestError):
        await edits.clip_seconds(dataclasses.replace(job, task="extend"), b"not an mp4")
    assert len(probes) == 2
    assert len(refusals) == 1
    assert threading.main_thread() not in probes + refusals
