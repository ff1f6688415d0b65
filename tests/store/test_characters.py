"""CharacterStore conformance: records come back as stored, an id is taken once, and a job's edit
fields (task, source, output references) survive a save and a read."""

from __future__ import annotations

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_job

from vidgate.errors import ConflictError
from vidgate.gateway.records import CharacterRecord

CHARACTER = CharacterRecord(
    id="character_" + "a" * 32,
    owner_key_id="k1",
    name="Foxy",
    created_at=1000,
    media_type="video/mp4",
    bytes=12345,
    seconds=4.0,
)


async def test_insert_get_and_conflict(backend: Backend) -> None:
    store = backend.stores.characters
    assert await store.get(CHARACTER.id) is None
    await store.insert(CHARACTER)
    assert await store.get(CHARACTER.id) == CHARACTER
    with pytest.raises(ConflictError):
        await store.insert(CHARACTER)


async def test_a_job_keeps_its_task_and_source(backend: Backend) -> None:
    job = make_job("video_edit1")
    job.task, job.source_video_id = "extend", "video_source1"
    job.outputs = ("gs://bucket/out/sample_0.mp4",)
    await backend.stores.jobs.insert(job)
    stored = await backend.stores.jobs.get("video_edit1")
    assert stored is not None
    assert (stored.task, stored.source_video_id) == ("extend", "video_source1")
    assert stored.outputs == ("gs://bucket/out/sample_0.mp4",)
    stored.outputs = ("files/abc",)
    assert await backend.stores.jobs.save(stored)
    again = await backend.stores.jobs.get("video_edit1")
    assert again is not None
    assert again.outputs == ("files/abc",)
