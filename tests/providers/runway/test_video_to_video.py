"""Runway edits and extensions on ``POST /v1/video_to_video``: the adapter's flows against recorded
replies, the emulator judged by the official ``runwayml`` 5.24.0 SDK (``client.video_to_video.create``),
and the adapter against the emulator over loopback."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import runwayml
from runwayml import RunwayML
from tests.support.google_loopback import Loopback, fetch, run_to_end, serve, sync_runner
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.catalog import pricing, validate
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.runway.adapter import RunwayProvider
from vidgate.providers.runway.emulator import create_app
from vidgate.types import ImageInput, SourceVideo, VideoRequest

KEY = "runway-v2v-secret"
CREDS = Credentials(api_key="key_abc", api_version="2024-11-06")
ROOT = "https://api.dev.runwayml.com/v1"
MP4 = b"\0\0\0\x18ftypmp42" + b"\0" * 16
DATA_URI = "data:video/mp4;base64," + base64.b64encode(MP4).decode()
SOURCE_TASK = "0b7c1e8e-1111-4c16-946b-35dbbce2af2f"
P = RunwayProvider()


def reply(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {}, json.dumps(body).encode())


def request(model: str, task: str, source: SourceVideo | None, **params: Any) -> VideoRequest:
    spec = find_model(f"runway/{model}")
    assert spec is not None
    req = validate(spec, prompt=params.pop("prompt", "make it snow"), **params)
    return replace(req, task=task, source_video=source)  # type: ignore[arg-type]


# ---- flows against recorded replies ------------------------------------------------------------


def test_aleph2_edit_of_uploaded_bytes() -> None:
    req = request("aleph2", "edit", SourceVideo(data=MP4, seconds=6), seconds=6, seed=7)
    job, calls = drive(P.create(req, CREDS), [reply({"id": "t-1"})], P.error_for)
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == ("POST", f"{ROOT}/video_to_video", False)
    assert call.json == {"model": "aleph2", "videoUri": DATA_URI, "promptText": "make it snow", "seed": 7}
    assert (job.native_id, job.status, job.seconds) == ("t-1", "queued", "6")


def test_seedance_edit_and_extend_of_a_task_of_this_deployment() -> None:
    done = {
        "id": SOURCE_TASK,
        "status": "SUCCEEDED",
        "createdAt": "2026-12-06T08:00:00Z",
        "output": ["https://o/s.mp4"],
    }
    source = SourceVideo(data=MP4, native_id=SOURCE_TASK, seconds=5)
    edit = request("seedance2_5", "edit", source, seconds=5)
    _job, calls = drive(P.create(edit, CREDS), [reply(done), reply({"id": "t-2"})], P.error_for)
    assert calls[0].url == f"{ROOT}/tasks/{SOURCE_TASK}"
    assert calls[1].json == {
        "model": "seedance2_5",
        "promptVideo": "https://o/s.mp4",
        "promptText": "make it snow",
        "mode": "edit",
        "duration": "auto",
    }
    extend = request("seedance2_5", "extend", source, seconds=8, generate_audio=False)
    _job, calls = drive(P.create(extend, CREDS), [reply(done), reply({"id": "t-3"})], P.error_for)
    assert calls[1].json["mode"] == "extend"
    assert (calls[1].json["duration"], calls[1].json["audio"]) == (8, False)
    assert "ratio" not in calls[1].json


def test_a_deleted_source_task_falls_back_to_the_bytes() -> None:
    req = request("aleph2", "edit", SourceVideo(data=MP4, native_id=SOURCE_TASK), seconds=4)
    gone = reply({"error": "Task not found."}, 404)
    _job, calls = drive(P.create(req, CREDS), [gone, reply({"id": "t-4"})], P.error_for)
    assert calls[1].json["videoUri"] == DATA_URI


@pytest.mark.parametrize(
    ("model", "task", "source", "params", "param"),
    [
        ("aleph2", "extend", SourceVideo(data=MP4), {}, "model"),
        ("gen4.5", "edit", SourceVideo(data=MP4), {}, "model"),
        ("aleph2", "edit", None, {}, "video"),
        ("aleph2", "edit", SourceVideo(data=MP4, seconds=31), {}, "video"),
        ("aleph2", "edit", SourceVideo(), {}, "video"),
        ("aleph2", "edit", SourceVideo(data=b"\0" * (5 * 1024 * 1024 + 1)), {}, "video"),
        (
            "seedance2_5",
            "edit",
            SourceVideo(data=MP4),
            {"input_reference": ImageInput(url="https://e/a.png")},
            "input_reference",
        ),
    ],
)
def test_refusals_name_the_param_before_any_call(
    model: str, task: str, source: SourceVideo | None, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request(model, task, source, **params), CREDS), [], P.error_for)
    assert caught.value.param == param


def test_aleph2_has_no_plain_create_and_its_row() -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request("aleph2", "generate", None), CREDS), [], P.error_for)
    assert caught.value.param == "model"
    aleph = find_model("runway/aleph2")
    assert aleph is not None
    assert aleph.has("edit")
    assert not aleph.has("extend")
    assert pricing.estimate_cost(aleph, seconds=10, size="1280x720") == Decimal("2.80")  # 10 s x $0.28
    for model in ("gen4.5", "gen4_turbo", "veo3.1", "seedance2"):
        spec = find_model(f"runway/{model}")
        assert spec is not None
        assert not spec.features & {"edit", "extend"}, model


# ---- the emulator, judged by runwayml -----------------------------------------------------------


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


def finished(client: RunwayML, task_id: str) -> Any:
    for _ in range(200):
        task = client.tasks.retrieve(task_id)
        if task.status in ("SUCCEEDED", "FAILED"):
            return task
        time.sleep(0.05)
    raise AssertionError("task did not finish in 200 polls")


def test_runwayml_video_to_video_aleph2_and_seedance(base_url: str) -> None:
    client = RunwayML(api_key=KEY, base_url=base_url, max_retries=0)
    made = client.text_to_video.create(model="gen4.5", prompt_text="a red kite", ratio="1280:720", duration=3)
    source_url = finished(client, made.id).output[0]
    edit = client.video_to_video.create(model="aleph2", video_uri=source_url, prompt_text="make it night")
    task = finished(client, edit.id)
    assert task.status == "SUCCEEDED"
    assert task.cost.credits == 84  # aleph2: 28 credits/s x the source's 3 s
    info = probe(httpx.get(task.output[0]).content)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(3, abs=0.1)
    clip = "data:video/mp4;base64," + base64.b64encode(httpx.get(task.output[0]).content).decode()
    extended = client.video_to_video.create(
        model="seedance2_5", prompt_video=clip, prompt_text="the kite climbs", mode="extend", duration=4
    )
    done = finished(client, extended.id)
    assert done.cost.credits == 120  # 30 credits/s x the 4 added seconds
    assert probe(httpx.get(done.output[0]).content).duration == pytest.approx(7, abs=0.1)
    with pytest.raises(runwayml.BadRequestError):
        client.video_to_video.create(
            model="seedance2_5", prompt_video=clip, prompt_text="x", mode="edit", duration=5
        )
    with pytest.raises(runwayml.BadRequestError):
        client.video_to_video.create(
            model="seedance2_5",
            prompt_video=clip,
            prompt_text="x",
            mode="extend",
            duration=4,
            ratio="1280:720",
        )
    with pytest.raises(runwayml.BadRequestError):
        client.video_to_video.create(model="aleph2", video_uri="https://elsewhere.example/v.mp4")
    with pytest.raises(runwayml.BadRequestError):  # aleph2 has no text-to-video
        client.text_to_video.create(model="aleph2", prompt_text="x", ratio="1280:720", duration=3)  # type: ignore[call-overload]


# ---- the adapter against the emulator -----------------------------------------------------------


@pytest.fixture(scope="module")
def loopback(render_cache: Path) -> Iterator[Loopback]:
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key=KEY, api_base=url)) as served:
        yield served


def test_the_adapter_edits_its_own_task_over_loopback(loopback: Loopback) -> None:
    runner = sync_runner([])
    first = run_to_end(runner, P, request("gen4.5", "generate", None, seconds=2), loopback.creds)
    assert first.status == "completed"
    edit = request("aleph2", "edit", SourceVideo(native_id=first.native_id, seconds=2), seconds=2)
    job = run_to_end(runner, P, edit, loopback.creds)
    assert job.status == "completed"
    assert probe(fetch(runner, P, job.native_id, loopback.creds)).duration == pytest.approx(2, abs=0.1)
