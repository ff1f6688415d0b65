"""Luma edits (``video_edit``) and reframes (``video_reframe``): the adapter's flows against recorded
replies, the emulator judged by the official ``lumaai`` 1.21.0 SDK (``generations.video.modify`` and
``.reframe``, the legacy dialect), and the Agents dialect over httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import lumaai
import pytest
from tests.support.google_loopback import fetch, run_to_end, sync_runner
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.catalog import validate
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.luma.adapter import LumaProvider
from vidgate.providers.luma.emulator import create_app
from vidgate.types import ImageInput, SourceVideo, VideoRequest

KEY = "luma-edit-key"
CREDS = Credentials(api_key="luma-api-test")
ROOT = "https://agents.lumalabs.ai/v1"
GEN = "0f0e0d0c-1111-2222-3333-444455556666"
DONE = {
    "id": GEN,
    "state": "completed",
    "model": "ray-3.2",
    "assets": {"video": "https://cdn.lumalabs.ai/s.mp4"},
}
P = LumaProvider()


def reply(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {}, json.dumps(body).encode())


def request(source: SourceVideo | None, task: str = "edit", **params: Any) -> VideoRequest:
    spec = find_model("luma/ray-3.2")
    assert spec is not None
    req = validate(spec, prompt=params.pop("prompt", "make it autumn"), **params)
    return replace(req, task=task, source_video=source)  # type: ignore[arg-type]


def created(kind: str) -> HttpReply:
    return reply({"id": "new-gen", "state": "queued", "generation_type": kind}, 201)


def test_an_edit_at_the_sources_aspect_ratio_is_a_video_edit() -> None:
    source = SourceVideo(native_id=GEN, size="1280x720", seconds=5)
    job, calls = drive(
        P.create(request(source, size="1280x720"), CREDS), [reply(DONE), created("video_edit")]
    )
    assert [(c.method, c.url) for c in calls] == [
        ("GET", f"{ROOT}/generations/{GEN}"),
        ("POST", f"{ROOT}/generations"),
    ]
    assert calls[1].json == {
        "type": "video_edit",
        "model": "ray-3.2",
        "prompt": "make it autumn",
        "media": {"url": "https://cdn.lumalabs.ai/s.mp4"},
        "mode": "flex_1",
    }
    assert (job.native_id, job.status) == ("new-gen", "queued")


def test_an_edit_to_another_aspect_ratio_is_a_reframe() -> None:
    source = SourceVideo(native_id=GEN, size="1280x720", seconds=5)
    _job, calls = drive(
        P.create(request(source, size="720x1280"), CREDS), [reply(DONE), created("video_reframe")]
    )
    assert calls[1].json == {
        "type": "video_reframe",
        "model": "ray-3.2",
        "prompt": "make it autumn",
        "media": {"url": "https://cdn.lumalabs.ai/s.mp4"},
        "aspect_ratio": "9:16",
    }


def test_extra_body_mode_picks_the_edit_strength() -> None:
    req = request(SourceVideo(native_id=GEN), extra_body={"mode": "reimagine_2"})
    _job, calls = drive(P.create(req, CREDS), [reply(DONE), created("video_edit")])
    assert calls[1].json["mode"] == "reimagine_2"


@pytest.mark.parametrize(
    ("source", "params", "task", "param"),
    [
        (SourceVideo(data=b"\0" * 32), {}, "edit", "video"),
        (None, {}, "edit", "video"),
        (SourceVideo(native_id=GEN), {"extra_body": {"mode": "wild"}}, "edit", "extra_body.mode"),
        (SourceVideo(native_id=GEN), {"extra_body": {"aspect_ratio": "1:1"}}, "edit", "extra_body"),
        (
            SourceVideo(native_id=GEN),
            {"input_reference": ImageInput(url="https://e/a.png")},
            "edit",
            "input_reference",
        ),
        (SourceVideo(native_id=GEN), {}, "extend", "model"),
        # Luma keeps the source's resolution: a size at another one would be priced but not made
        (SourceVideo(native_id=GEN, size="1280x720"), {"size": "1920x1080"}, "edit", "size"),
        (SourceVideo(native_id=GEN, size="1280x720"), {"size": "540x960"}, "edit", "size"),
    ],
)
def test_refusals_before_any_call(
    source: SourceVideo | None, params: dict[str, Any], task: str, param: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request(source, task=task, **params), CREDS), [])
    assert (caught.value.param or "").startswith(param)


def test_a_source_still_dreaming_or_gone_is_a_400_naming_video() -> None:
    source = SourceVideo(native_id=GEN)
    with pytest.raises(BadRequestError) as running:
        drive(P.create(request(source), CREDS), [reply({"id": GEN, "state": "dreaming"})])
    assert running.value.param == "video"
    with pytest.raises(BadRequestError) as gone:
        drive(P.create(request(source), CREDS), [reply({"detail": "Generation not found"}, 404)], P.error_for)
    assert gone.value.param == "video"


def test_the_row_edits_but_does_not_extend() -> None:
    spec = find_model("luma/ray-3.2")
    assert spec is not None
    assert spec.has("edit")
    assert spec.has("reframe")
    assert not spec.has("extend")


# ---- the emulator -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


def wait(client: lumaai.LumaAI, generation_id: str) -> Any:
    for _ in range(200):
        generation = client.generations.get(generation_id)
        if generation.state in ("completed", "failed"):
            return generation
        time.sleep(0.05)
    raise AssertionError(f"generation {generation_id} never finished")


def test_lumaai_modify_and_reframe(base: str) -> None:
    client = lumaai.LumaAI(auth_token=KEY, base_url=f"{base}/dream-machine/v1", max_retries=0)
    made = client.generations.create(
        model="ray-3.2",  # type: ignore[arg-type]  # the SDK's literal lists ray-2 and ray-flash-2 only
        prompt="a lighthouse",
        aspect_ratio="16:9",
        resolution="540p",
        duration="5s",
    )
    assert made.id is not None
    source = wait(client, made.id).assets.video
    modified = client.generations.video.modify(
        generation_type="modify_video",
        media={"url": source},
        mode="flex_1",
        model="ray-3.2",  # type: ignore[arg-type]
        prompt="in winter",
    )
    assert modified.id is not None
    edit = wait(client, modified.id)
    assert edit.state == "completed"
    info = probe(httpx.get(edit.assets.video).content)
    assert (info.width, info.height) == (960, 540)
    assert info.duration == pytest.approx(5, abs=0.1)
    reframed = client.generations.video.reframe(
        generation_type="reframe_video",
        media={"url": source},
        aspect_ratio="9:16",
        model="ray-3.2",  # type: ignore[arg-type]
    )
    assert reframed.id is not None
    frame = probe(httpx.get(wait(client, reframed.id).assets.video).content)
    assert (frame.width, frame.height) == (540, 960)
    with pytest.raises(lumaai.UnprocessableEntityError):
        client.generations.video.modify(
            generation_type="modify_video",
            media={"url": "https://elsewhere.example/v.mp4"},
            mode="flex_1",
            model="ray-3.2",  # type: ignore[arg-type]
        )


def test_the_agents_dialect_and_the_adapter_over_loopback(base: str) -> None:
    runner_creds = Credentials(api_key=KEY, api_base=f"{base}/v1")
    runner = sync_runner([])
    first = run_to_end(runner, P, request(None, task="generate", size="960x540"), runner_creds)
    assert first.status == "completed"
    source = SourceVideo(native_id=first.native_id, size="960x540", seconds=5)
    edited = run_to_end(runner, P, request(source, size="960x540"), runner_creds)
    reframed = run_to_end(runner, P, request(source, size="540x540"), runner_creds)
    assert (edited.status, reframed.status) == ("completed", "completed")
    info = probe(fetch(runner, P, reframed.native_id, runner_creds))
    assert (info.width, info.height) == (540, 540)
    with httpx.Client(base_url=f"{base}/v1", headers={"Authorization": f"Bearer {KEY}"}) as http:
        assert http.get(f"/generations/{reframed.native_id}").json()["generation_type"] == "video_reframe"
        refused = http.post(
            "/generations", json={"type": "video_edit", "model": "ray-3.2", "media": {"url": "x"}}
        )
        assert refused.status_code == 422
