"""The seed-named module functions, end to end on the local provider (no network, real MP4s)."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.support.media import probe

import vidgate
from vidgate.errors import BadRequestError, NotFoundError


@pytest.fixture(autouse=True)
def _fast_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.3")


def _until_done(video_id: str) -> vidgate.Video:
    for _ in range(400):  # the local renderer finishes after VIDGATE_LOCAL_DELAY (0.3 s)
        status = vidgate.video_status(video_id=video_id)
        if status.done:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{video_id} was not done after 400 polls")


def test_sync_functions_generate_poll_download_remix_list_delete() -> None:
    created = vidgate.video_generation(
        prompt="a red kite", model="local/local-1", seconds="1", size="320x180"
    )
    assert created.status in ("queued", "in_progress")
    assert created.usage is not None
    assert created.usage.duration_seconds == 1.0
    done = _until_done(created.id)
    assert done.status == "completed"
    assert vidgate.video_retrieve(created.id).status == "completed"
    data = vidgate.video_content(created.id)
    assert data.content == bytes(data)
    info = probe(bytes(vidgate.video_retrieval(video_id=created.id)))
    assert (info.width, info.height, info.duration) == (320, 180, 1.0)
    remix = vidgate.video_remix(created.id, "a blue kite")
    assert remix.remixed_from_video_id == created.id
    listed = vidgate.video_list(model="local/local-1", limit=100)
    assert {created.id, remix.id} <= {v.id for v in listed.data}
    deleted = vidgate.video_delete(video_id=created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(NotFoundError):
        vidgate.video_status(created.id)


def test_async_functions_and_aliases() -> None:
    async def flow() -> bytes:
        created = await vidgate.acreate_video("a kite", model="local-1", seconds="1", size="320x180")
        for _ in range(400):
            if (await vidgate.avideo_retrieve(created.id)).done:
                break
            await asyncio.sleep(0.05)
        assert (await vidgate.avideo_status(video_id=created.id)).status == "completed"
        content = await vidgate.avideo_retrieval(created.id)
        assert (await vidgate.avideo_content(created.id)) == content
        remix = await vidgate.avideo_remix(created.id, "again")
        assert remix.remixed_from_video_id == created.id
        assert created.id in {v.id for v in (await vidgate.avideo_list("local/local-1")).data}
        assert (await vidgate.avideo_delete(created.id)).deleted
        return bytes(content)

    assert probe(asyncio.run(flow())).frames > 0
    assert vidgate.create_video is vidgate.video_generation
    assert vidgate.acreate_video is vidgate.avideo_generation


def test_remix_without_video_id_names_it() -> None:
    # Seed 003: video_remix(model=..., prompt=..., input_reference=..., seconds=...) has no video_id.
    with pytest.raises(BadRequestError) as info:
        vidgate.video_remix(model="openai/sora-2", prompt="jump", input_reference=b"x", seconds="8")
    assert info.value.param == "video_id"
    with pytest.raises(BadRequestError) as info:
        vidgate.video_remix("video_x", "jump", model="local/local-1", seconds="8")
    assert info.value.param == "seconds"


def test_missing_ids_and_models_name_the_param() -> None:
    for call in (vidgate.video_status, vidgate.video_content, vidgate.video_delete):
        with pytest.raises(BadRequestError) as info:
            call()
        assert info.value.param == "video_id"
    with pytest.raises(BadRequestError) as info:
        vidgate.video_generation(prompt="x")
    assert info.value.param == "model"


def test_public_surface() -> None:
    from vidgate.exceptions import APIError, Timeout

    assert vidgate.OpenAIError is APIError
    assert issubclass(vidgate.RateLimitError, vidgate.OpenAIError)
    assert issubclass(Timeout, APIError)
    assert vidgate.api_key is None
    assert vidgate.api_base is None
    for name in vidgate.__all__:
        assert hasattr(vidgate, name), name


def test_every_missing_parameter_is_reported_at_once() -> None:
    with pytest.raises(BadRequestError) as create:
        vidgate.video_generation()
    assert create.value.message == "Missing required parameters: 'model', 'prompt'."
    assert (create.value.param, create.value.code) == ("model", "missing_required_parameter")
    with pytest.raises(BadRequestError) as remix:
        vidgate.video_remix()
    assert remix.value.message == "Missing required parameters: 'video_id', 'prompt'."
    with pytest.raises(BadRequestError) as one:
        vidgate.video_remix(video_id="video_x")
    assert one.value.message == "Missing required parameter: 'prompt'."
