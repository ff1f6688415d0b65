"""``gateway.edits``: what an adapter is handed for an edit or extension of a gateway video (the
stored bytes, the native id, its output references, length and size), what is reserved, and that a
refused create gives everything back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.gateway.harness import Clock, Gateway, make_gateway

from vidgate.catalog.mp4 import probe
from vidgate.errors import APIError, ServiceUnavailableError
from vidgate.gateway.edits import VideoTaskRequest
from vidgate.providers.base import Credentials, Flow, ProviderJob
from vidgate.providers.local.adapter import LocalProvider
from vidgate.types import VideoRequest


class RecordingLocal(LocalProvider):
    """The local provider, keeping every create request and reporting an output reference."""

    def __init__(self, root: Path, clock: Clock) -> None:
        super().__init__(root=root, delay=10.0, clock=clock)
        self.creates: list[VideoRequest] = []
        self.refuse: APIError | None = None

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        self.creates.append(req)
        if self.refuse is not None:
            raise self.refuse
        return (yield from super().create(req, creds))

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        job = yield from super().retrieve(native_id, creds)
        return dataclasses.replace(job, outputs=(f"local-out://{native_id}",))


@pytest.fixture
async def gw(local_root: Path) -> AsyncIterator[tuple[Gateway, RecordingLocal]]:
    clock = Clock()
    recording = RecordingLocal(local_root, clock)
    gateway = make_gateway(local_root, clock=clock, extra_providers={"local": recording})
    yield gateway, recording
    await gateway.close()


async def test_an_edit_of_an_id_hands_the_adapter_the_source(gw: tuple[Gateway, RecordingLocal]) -> None:
    gateway, local = gw
    alice = await gateway.new_key("alice")
    source = await gateway.create(alice)
    gateway.finish_local_jobs()
    done = await gateway.service.get_video(alice, source.id)
    assert done.status == "completed"
    source_job = await gateway.stores.jobs.get(source.id)
    assert source_job is not None
    edited = await gateway.service.edits.start(
        alice, VideoTaskRequest(task="extend", prompt="on and on", video_id=source.id, seconds="2")
    )
    req = local.creates[-1]
    assert (req.task, req.seconds, req.size) == ("extend", 2, "320x180")
    assert req.source_video is not None
    assert req.source_video.native_id == source_job.native_id
    assert req.source_video.outputs == (f"local-out://{source_job.native_id}",)
    assert (req.source_video.seconds, req.source_video.size) == (1, "320x180")
    info = probe(req.source_video.data or b"")
    assert info is not None
    assert info.seconds == 1.0
    key = await gateway.key(alice)
    assert key.reserved_micros == 200_000  # 2 s at the deployment's $0.10/s, held until it settles
    job = await gateway.stores.jobs.get(edited.id)
    assert job is not None
    assert (job.task, job.source_video_id, job.deployment_id) == (
        "extend",
        source.id,
        source_job.deployment_id,
    )


async def test_a_refused_edit_gives_back_the_reservation(gw: tuple[Gateway, RecordingLocal]) -> None:
    gateway, local = gw
    bob = await gateway.new_key("bob")
    source = await gateway.create(bob)
    gateway.finish_local_jobs()
    await gateway.service.get_video(bob, source.id)
    local.refuse = ServiceUnavailableError("busy upstream")
    with pytest.raises(APIError):
        await gateway.service.edits.start(bob, VideoTaskRequest(task="edit", prompt="x", video_id=source.id))
    key = await gateway.key(bob)
    assert key.reserved_micros == 0
    assert key.active_jobs == 0
    page = await gateway.service.list_videos(bob, after=None, limit=10, order="desc")
    assert [v.id for v in page.data] == [source.id]


async def test_an_extension_is_edited_and_remixed_at_its_whole_length(
    gw: tuple[Gateway, RecordingLocal],
) -> None:
    """An extension's record holds the seconds it added (2); its video is the whole clip (1 + 2 s), and
    an edit or remix of it is priced on that, as the same clip uploaded would be."""
    gateway, local = gw
    carol = await gateway.new_key("carol")
    source = await gateway.create(carol)
    gateway.finish_local_jobs()
    await gateway.service.get_video(carol, source.id)
    extended = await gateway.service.edits.start(
        carol, VideoTaskRequest(task="extend", prompt="on and on", video_id=source.id, seconds="2")
    )
    gateway.finish_local_jobs()
    done = await gateway.service.get_video(carol, extended.id)
    assert (done.status, done.seconds) == ("completed", "2")
    spent = (await gateway.key(carol)).spend_micros
    assert spent == 300_000  # the 1 s source and the 2 s extension, at $0.10/s
    await gateway.service.edits.start(
        carol, VideoTaskRequest(task="edit", prompt="redone", video_id=extended.id)
    )
    req = local.creates[-1]
    assert req.source_video is not None
    assert (req.task, req.seconds, req.source_video.seconds) == ("edit", 3, 3)
    assert (await gateway.key(carol)).reserved_micros == 300_000  # 3 s held for the edit
    await gateway.service.remix_video(carol, extended.id, "again")
    assert (await gateway.key(carol)).reserved_micros == 600_000  # and 3 s more for the remix
