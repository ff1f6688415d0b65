"""Edits, extensions and characters through the gateway, sent by the official ``openai`` package
(multipart, ``video`` as a file or ``{"id": ...}``) and as JSON: priced like a create (spend is a
literal), idempotent, owner-checked, and refused with a 400 naming the model where a row lacks the
capability, before anything is reserved or any provider is called."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.server.conftest import MASTER, Served, auth, gateway_config
from tests.support import media
from tests.support.counting import Counting
from tests.support.live import live_server

from vidgate.catalog.mp4 import probe
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.openai.emulator import create_app as openai_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


async def key_record(served: Served, alias: str) -> Any:
    found = [k for k in await served.stores.keys.list() if k.alias == alias]
    assert len(found) == 1
    return found[0]


async def finished_clip(served: Served, secret: str) -> tuple[str, bytes]:
    """A completed 1 s 320x180 local video and its MP4 bytes."""
    video = await served.create(secret)
    assert (await served.wait_done(secret, video["id"]))["status"] == "completed"
    content = await served.client.get(f"/v1/videos/{video['id']}/content", headers=auth(secret))
    assert content.status_code == 200
    return video["id"], content.content


async def download(served: Served, secret: str, video_id: str) -> bytes:
    assert (await served.wait_done(secret, video_id))["status"] == "completed"
    reply = await served.client.get(f"/v1/videos/{video_id}/content", headers=auth(secret))
    assert reply.status_code == 200
    return reply.content


async def test_sdk_edit_of_a_video_id_is_priced_at_the_source_length_and_renders_it(served: Served) -> None:
    secret = await served.new_key(key_alias="alice")
    source_id, _ = await finished_clip(served, secret)
    sdk = served.sdk(secret)
    # openai 3.63.0 types ``video`` as a file or {"id": ...} but its multipart encoder refuses the
    # object client-side (``extract_files`` asserts a file at ``video``), so an id goes as JSON through
    # the package's own request method; a file upload goes through ``videos.edit`` (below).
    edited = await sdk.post(
        "/videos/edits",
        body={"prompt": "make the fox blue", "video": {"id": source_id}},
        cast_to=openai.types.Video,
    )
    assert edited.id.startswith("video_")
    assert edited.id != source_id
    assert edited.model == "local-1"
    assert (edited.seconds, edited.size) == ("1", "320x180")
    info = probe(await download(served, secret, edited.id))
    assert info is not None
    assert (info.seconds, info.size) == (1.0, "320x180")
    key = await key_record(served, "alice")
    # Two 1 s videos at local-1's $0.10/s: the source and the edit.
    assert key.spend_micros == 200_000
    assert key.reserved_micros == 0


async def test_sdk_extend_of_an_upload_appends_the_new_seconds(served: Served) -> None:
    secret = await served.new_key(key_alias="bob")
    _, clip = await finished_clip(served, secret)
    sdk = served.sdk(secret)
    extended = await sdk.videos.extend(
        prompt="the fox runs off",
        seconds="2",  # type: ignore[arg-type]  # the package types only Sora's 4/8/12
        video=("fox.mp4", clip, "video/mp4"),
        extra_body={"model": "local-1"},
    )
    assert extended.seconds == "2"
    info = probe(await download(served, secret, extended.id))
    assert info is not None
    assert info.seconds == 3.0
    key = await key_record(served, "bob")
    assert key.spend_micros == 300_000  # the 1 s source ($0.10) and the 2 s extension ($0.20)


async def test_sdk_edit_of_an_upload_and_a_multipart_id(served: Served) -> None:
    secret = await served.new_key(key_alias="frank")
    source_id, clip = await finished_clip(served, secret)
    edited = await served.sdk(secret).videos.edit(prompt="at night", video=("fox.mp4", clip, "video/mp4"))
    assert (edited.model, edited.seconds, edited.size) == ("local-1", "1", "320x180")
    as_form = await served.client.post(
        "/v1/videos/edits", data={"prompt": "at dawn", "video[id]": source_id}, headers=auth(secret)
    )
    assert as_form.status_code == 200, as_form.text
    for video_id in (edited.id, as_form.json()["id"]):
        info = probe(await download(served, secret, video_id))
        assert info is not None
        assert info.seconds == 1.0
    assert (await key_record(served, "frank")).spend_micros == 300_000  # three 1 s videos at $0.10/s


async def test_json_edit_and_extension_are_accepted_too(served: Served) -> None:
    secret = await served.new_key(key_alias="carol")
    source_id, _ = await finished_clip(served, secret)
    reply = await served.client.post(
        "/v1/videos/extensions",
        json={"prompt": "and then", "seconds": "1", "video": {"id": source_id}},
        headers=auth(secret),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["usage"]["cost"] == 0.1
    info = probe(await download(served, secret, reply.json()["id"]))
    assert info is not None
    assert info.seconds == 2.0


async def test_an_idempotent_edit_is_started_and_charged_once(served: Served) -> None:
    secret = await served.new_key(key_alias="dave")
    source_id, _ = await finished_clip(served, secret)
    headers = {**auth(secret), "Idempotency-Key": "edit-once"}
    body = {"prompt": "in the snow", "video": {"id": source_id}}
    first = await served.client.post("/v1/videos/edits", json=body, headers=headers)
    again = await served.client.post("/v1/videos/edits", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    await served.wait_done(secret, first.json()["id"])
    listed = await served.client.get("/v1/videos", headers=auth(secret))
    assert len(listed.json()["data"]) == 2  # the source and one edit
    assert (await key_record(served, "dave")).spend_micros == 200_000
    other = await served.client.post(
        "/v1/videos/edits", json={**body, "prompt": "in the rain"}, headers=headers
    )
    assert other.status_code == 422  # the same key for a different request


async def test_source_checks_owner_and_state(served: Served) -> None:
    alice = await served.new_key(key_alias="alice2")
    mallory = await served.new_key(key_alias="mallory")
    source_id, _ = await finished_clip(served, alice)
    body = {"prompt": "steal it", "video": {"id": source_id}}
    stolen = await served.client.post("/v1/videos/edits", json=body, headers=auth(mallory))
    assert stolen.status_code == 404
    assert stolen.json()["error"]["param"] == "video_id"
    running = await served.create(alice)
    early = await served.client.post(
        "/v1/videos/edits", json={"prompt": "x", "video": {"id": running["id"]}}, headers=auth(alice)
    )
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "video_not_ready"
    assert early.json()["error"]["param"] == "video"


@pytest.mark.parametrize(
    ("files", "data", "param"),
    [
        ({"video": ("notes.mp4", b"this is not a video", "video/mp4")}, {"prompt": "x"}, "video"),
        ({}, {}, "prompt"),
        ({}, {"prompt": "x", "video[id]": "video_x", "seconds": "4"}, "seconds"),
        ({}, {"prompt": "x", "video[id]": "video_x", "size": ""}, "size"),
        ({}, {"prompt": "x", "video[ref]": "video_x"}, "video[ref]"),
    ],
)
async def test_bad_edit_bodies_are_400s_naming_the_param(
    served: Served, files: dict[str, Any], data: dict[str, str], param: str
) -> None:
    secret = await served.new_key()
    reply = await served.client.post(
        "/v1/videos/edits", data=data, files=files or {"_": ("", b"")}, headers=auth(secret)
    )
    if not files:  # a text-only multipart body (as the SDK sends {"id": ...})
        reply = await served.client.post("/v1/videos/edits", data=data, headers=auth(secret))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param


async def test_an_edit_size_other_than_the_sources_is_a_400_where_the_model_cannot_reframe(
    served: Served,
) -> None:
    secret = await served.new_key(key_alias="erin")
    source_id, clip = await finished_clip(served, secret)
    same = await served.client.post(
        "/v1/videos/edits",
        json={"prompt": "at dusk", "video": {"id": source_id}, "size": "320x180"},
        headers=auth(secret),
    )
    assert same.status_code == 200, same.text
    assert same.json()["size"] == "320x180"
    # ``size`` is vidgate's extension: the openai package sends it as a form field through extra_body
    with pytest.raises(openai.BadRequestError) as caught:
        await served.sdk(secret).videos.edit(
            prompt="upright", video=("fox.mp4", clip, "video/mp4"), extra_body={"size": "1280x720"}
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "size"
    assert error["message"] == (
        "Invalid 'size': '1280x720'. local-1 keeps the source video's size (320x180); it cannot reframe. "
        "Supported values are: '320x180'."
    )
    extension = await served.client.post(
        "/v1/videos/extensions",
        json={"prompt": "on", "seconds": "1", "video": {"id": source_id}, "size": "320x180"},
        headers=auth(secret),
    )
    assert extension.status_code == 400
    assert extension.json()["error"]["param"] == "size"
    await download(served, secret, same.json()["id"])
    key = await key_record(served, "erin")
    assert (key.spend_micros, key.reserved_micros) == (200_000, 0)  # the source and one edit, 1 s x $0.10


async def test_missing_parameters_are_reported_together(served: Served) -> None:
    secret = await served.new_key()
    reply = await served.client.post("/v1/videos/extensions", json={"seconds": "1"}, headers=auth(secret))
    assert reply.status_code == 400
    assert "'prompt', 'video'" in reply.json()["error"]["message"]


async def test_extension_seconds_are_checked_against_the_row(served: Served) -> None:
    secret = await served.new_key()
    source_id, _ = await finished_clip(served, secret)
    reply = await served.client.post(
        "/v1/videos/extensions",
        json={"prompt": "more", "seconds": "9", "video": {"id": source_id}},
        headers=auth(secret),
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "seconds"
    assert "'10'" in reply.json()["error"]["message"]


async def test_characters_are_created_read_and_owner_scoped(served: Served) -> None:
    alice = await served.new_key()
    bob = await served.new_key()
    _, clip = await finished_clip(served, alice)
    sdk = served.sdk(alice)
    made = await sdk.videos.create_character(name="Foxy", video=("foxy.mp4", clip, "video/mp4"))
    assert made.id is not None
    assert made.id.startswith("character_")
    assert made.name == "Foxy"
    got = await sdk.videos.get_character(made.id)
    assert (got.id, got.name, got.created_at) == (made.id, "Foxy", made.created_at)
    with pytest.raises(openai.NotFoundError):
        await served.sdk(bob).videos.get_character(made.id)
    not_video = await served.client.post(
        "/v1/videos/characters",
        data={"name": "x"},
        files={"video": ("x.mp4", b"GIF89a....", "video/mp4")},
        headers=auth(alice),
    )
    assert not_video.status_code == 400
    assert not_video.json()["error"]["param"] == "video"


class CountingRunner(AsyncRunner):
    """Counts the provider flows it drives (creates, polls, downloads)."""

    def __init__(self) -> None:
        super().__init__()
        self.flows = 0

    async def run(self, flow: Any, error_for: Any, *, read_timeout: float | None = None) -> Any:
        self.flows += 1
        return await super().run(flow, error_for, read_timeout=read_timeout)


@pytest.fixture
async def with_runway(local_root: Path) -> AsyncIterator[tuple[Served, CountingRunner]]:
    """local-1 plus a model whose row has no ``edit``/``extend`` (Runway's gen4.5, never reachable)."""
    config = gateway_config(local_root)
    data = {
        "model_list": [
            {
                "model_name": "local-1",
                "litellm_params": {"model": "local/local-1", "api_base": str(local_root)},
            },
            {
                "model_name": "gen4.5",
                "litellm_params": {
                    "model": "runway/gen4.5",
                    "api_key": "key_test",
                    "api_base": "http://127.0.0.1:9",
                },
            },
        ],
        "general_settings": {"master_key": MASTER},
    }
    config = parse_config(data, environ={})
    stores = MemoryStores()
    runner = CountingRunner()
    app = create_app(config, stores=stores, runner=runner, run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Served(app=app, client=client, stores=stores), runner
    await runner.aclose()


@pytest.mark.parametrize("path", ["/v1/videos/edits", "/v1/videos/extensions"])
async def test_a_model_without_the_capability_is_a_400_naming_it_before_anything(
    with_runway: tuple[Served, CountingRunner], render_cache: Path, path: str
) -> None:
    served, runner = with_runway
    secret = await served.new_key(key_alias="erin", max_budget=10)
    clip = _rendered_clip(render_cache)
    reply = await served.client.post(
        path,
        data={"prompt": "x", "model": "gen4.5"},
        files={"video": ("a.mp4", clip, "video/mp4")},
        headers=auth(secret),
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == "model"
    assert "'gen4.5'" in error["message"]
    assert runner.flows == 0
    key = await key_record(served, "erin")
    assert (key.reserved_micros, key.spend_micros) == (0, 0)
    assert (await served.client.get("/v1/videos", headers=auth(secret))).json()["data"] == []


def _rendered_clip(render_cache: Path, width: int = 1280, height: int = 720) -> bytes:
    from vidgate.render import RenderSpec, render

    rendered = render(
        RenderSpec(prompt="clip", seconds=1, width=width, height=height), cache_dir=render_cache
    )
    return rendered.video.read_bytes()


async def test_an_edit_is_a_job_like_any_other_and_records_its_source(served: Served) -> None:
    """Polled and deleted like any other job; its task and source are on the record."""
    secret = await served.new_key()
    source_id, _ = await finished_clip(served, secret)
    edited = await served.client.post(
        "/v1/videos/edits", json={"prompt": "p", "video": {"id": source_id}}, headers=auth(secret)
    )
    video_id = edited.json()["id"]
    await served.wait_done(secret, video_id)
    deleted = await served.client.delete(f"/v1/videos/{video_id}", headers=auth(secret))
    assert deleted.status_code == 200
    job = await served.stores.jobs.get(video_id)
    assert job is not None
    assert (job.task, job.source_video_id) == ("edit", source_id)


async def test_edits_count_against_the_key_rate_limit_and_budget(served: Served) -> None:
    limited = await served.new_key(key_alias="limited", rpm_limit=2)
    source_id, _ = await finished_clip(served, limited)  # request 1 of 2
    body = {"prompt": "again", "video": {"id": source_id}}
    assert (await served.client.post("/v1/videos/edits", json=body, headers=auth(limited))).status_code == 200
    third = await served.client.post("/v1/videos/extensions", json=body, headers=auth(limited))
    assert third.status_code == 429
    poor = await served.new_key(key_alias="poor", max_budget=0.15)
    source_id, _ = await finished_clip(served, poor)  # $0.10 of $0.15 spent
    over = await served.client.post(
        "/v1/videos/extensions",
        json={"prompt": "longer", "seconds": "1", "video": {"id": source_id}},
        headers=auth(poor),
    )
    assert over.status_code == 429  # the budget cannot cover the reservation, as for a create
    assert over.json()["error"]["type"] == "budget_exceeded"
    assert (await key_record(served, "poor")).reserved_micros == 0


# ---- an uploaded source's frame size is its price tier: a zeroed tkhd does not lower it ----------------

UPSTREAM_KEY = "sk-upstream-edits-test"


@pytest.fixture
async def with_sora(render_cache: Path) -> AsyncIterator[tuple[Served, Counting]]:
    """sora-2-pro (720p $0.30/s, 1080p $0.70/s; default size 720x1280) in front of the OpenAI emulator."""
    settings = EmulatorSettings(
        api_key=UPSTREAM_KEY, processing_seconds=0.2, poll_after_ms=50, cache_dir=render_cache
    )
    upstream = Counting(openai_emulator(settings))
    with live_server(upstream) as url:
        params = {
            "model": "openai/sora-2-pro",
            "allow_retired": True,
            "api_key": UPSTREAM_KEY,
            "api_base": f"{url}/v1",
        }
        config = parse_config(
            {
                "model_list": [{"model_name": "sora-pro", "litellm_params": params}],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        stores = MemoryStores()
        app = create_app(config, stores=stores, run_worker=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield Served(app=app, client=client, stores=stores), upstream


def _box(data: bytes, *path: bytes) -> int:
    """Where the payload of the first box at ``path`` (from the top level) starts."""
    start, end = 0, len(data)
    for kind in path:
        while data[start + 4 : start + 8] != kind:
            start += int.from_bytes(data[start : start + 4], "big")
            assert start + 8 <= end, kind
        start, end = start + 8, start + int.from_bytes(data[start : start + 4], "big")
    return start


def _size_zeroed(clip: bytes, *, coded_too: bool = False, size: tuple[int, int] = (0, 0)) -> bytes:
    """``clip`` with its track header's width and height set to ``size`` (and its sample entry's:
    ``coded_too``)."""
    out = bytearray(clip)
    tkhd = _box(clip, b"moov", b"trak", b"tkhd")
    assert clip[tkhd] == 0  # version 0: width and height at 76 and 80
    out[tkhd + 76 : tkhd + 84] = struct.pack(">II", size[0] << 16, size[1] << 16)
    if coded_too:
        stsd = _box(clip, b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd")
        out[stsd + 40 : stsd + 44] = struct.pack(">HH", *size)  # the first VisualSampleEntry's
    return bytes(out)


@pytest.mark.parametrize(
    ("alias", "coded_too", "size"),
    [
        # the sample description still says 1080p: the emulator, like the provider, edits those frames
        ("hider", False, (0, 0)),
        # both headers rewritten to 720p: a decoder (the provider's) decodes the 1080p frames the SPS in
        # ``avcC`` states, so the gateway prices the SPS's size
        ("shrinker", True, (1280, 720)),
    ],
)
async def test_an_upload_whose_headers_understate_its_size_is_priced_at_its_1080p_tier(
    with_sora: tuple[Served, Counting], render_cache: Path, alias: str, coded_too: bool, size: tuple[int, int]
) -> None:
    """Not at sora-2-pro's default 720x1280 ($0.30/s) or the 720p tier the headers claim."""
    served, _ = with_sora
    secret = await served.new_key(key_alias=alias, max_budget=10)
    clip = _size_zeroed(_rendered_clip(render_cache, 1920, 1080), coded_too=coded_too, size=size)
    assert (media.probe(clip).width, media.probe(clip).height) == (1920, 1080)
    reply = await served.client.post(
        "/v1/videos/edits",
        data={"prompt": "at night", "model": "sora-pro"},
        files={"video": ("a.mp4", clip, "video/mp4")},
        headers=auth(secret),
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["seconds"], reply.json()["size"]) == ("1", "1920x1080")
    assert (await served.wait_done(secret, reply.json()["id"]))["status"] == "completed"
    key = await key_record(served, alias)
    assert (key.spend_micros, key.reserved_micros) == (700_000, 0)  # 1 s at the 1080p tier's $0.70/s


@pytest.mark.parametrize("path", ["/v1/videos/edits", "/v1/videos/extensions"])
async def test_an_upload_with_no_readable_frame_size_is_a_400_before_anything(
    with_sora: tuple[Served, Counting], render_cache: Path, path: str
) -> None:
    served, upstream = with_sora
    secret = await served.new_key(key_alias="sizeless", max_budget=10)
    clip = _size_zeroed(_rendered_clip(render_cache, 1920, 1080), coded_too=True)
    assert clip.count(b"avcC") == 1
    clip = clip.replace(b"avcC", b"free")  # nor an SPS to read the size from
    reply = await served.client.post(
        path,
        data={"prompt": "at night", "model": "sora-pro", **({"seconds": "4"} if "ext" in path else {})},
        files={"video": ("a.mp4", clip, "video/mp4")},
        headers=auth(secret),
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["param"], error["code"]) == ("video", "invalid_video_format")
    assert "frame size is unreadable" in error["message"]
    assert upstream.requests == []
    key = await key_record(served, "sizeless")
    assert (key.reserved_micros, key.spend_micros) == (0, 0)
    assert (await served.client.get("/v1/videos", headers=auth(secret))).json()["data"] == []
