"""xAI edits and extensions (``VideoRequest.task``) against recorded replies: the path, the body, where
the source video comes from, and the 400s that name the parameter before any call."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.support.google_loopback import Loopback, fetch, run_to_end, serve, sync_runner
from tests.support.media import probe

from vidgate.catalog import pricing, validate
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.xai.adapter import XAIProvider
from vidgate.providers.xai.emulator import create_app
from vidgate.types import ImageInput, SourceVideo, VideoRequest

MP4 = b"\0\0\0\x18ftypmp42" + b"\0" * 16
CREDS = Credentials(api_key="xai-test")
P = XAIProvider()
ROOT = "https://api.x.ai/v1"
DONE = {
    "status": "done",
    "model": "grok-imagine-video",
    "video": {"url": "https://vidgen.x.ai/s.mp4", "duration": 6},
}


def reply(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {}, json.dumps(body).encode())


def request(
    task: str, source: SourceVideo | None, model: str = "grok-imagine-video", **params: Any
) -> VideoRequest:
    spec = find_model(f"xai/{model}")
    assert spec is not None
    req = validate(spec, prompt=params.pop("prompt", "make it rain"), **params)
    return replace(req, task=task, source_video=source)  # type: ignore[arg-type]


def test_edit_of_a_request_of_this_deployment_reads_a_fresh_url() -> None:
    req = request("edit", SourceVideo(data=MP4, native_id="req-1", seconds=6), seconds=6, size="1280x720")
    job, calls = drive(P.create(req, CREDS), [reply(DONE), reply({"request_id": "req-2"})], P.error_for)
    assert [(c.method, c.url) for c in calls] == [
        ("GET", f"{ROOT}/videos/req-1"),
        ("POST", f"{ROOT}/videos/edits"),
    ]
    assert calls[1].json == {
        "model": "grok-imagine-video",
        "prompt": "make it rain",
        "video": {"url": "https://vidgen.x.ai/s.mp4"},
    }
    assert calls[1].retry_safe is False
    assert (job.native_id, job.status, job.seconds) == ("req-2", "queued", "6")


def test_extension_of_uploaded_bytes_sends_a_data_uri_and_the_added_seconds() -> None:
    req = request("extend", SourceVideo(data=MP4, seconds=5), seconds=4, size="848x480")
    _job, calls = drive(P.create(req, CREDS), [reply({"request_id": "req-3"})], P.error_for)
    (call,) = calls
    assert call.url == f"{ROOT}/videos/extensions"
    assert call.json == {
        "model": "grok-imagine-video",
        "prompt": "make it rain",
        "video": {"url": "data:video/mp4;base64," + base64.b64encode(MP4).decode()},
        "duration": 4,
    }


def test_an_expired_source_request_falls_back_to_the_bytes() -> None:
    req = request("extend", SourceVideo(data=MP4, native_id="gone"), seconds=2)
    missing = reply({"code": "Some requested entity was not found", "error": "not found"}, 404)
    _job, calls = drive(P.create(req, CREDS), [missing, reply({"request_id": "req-4"})], P.error_for)
    assert calls[1].json["video"]["url"].startswith("data:video/mp4;base64,")


@pytest.mark.parametrize(
    ("task", "source", "params", "param"),
    [
        ("edit", SourceVideo(data=MP4, seconds=10), {}, "video"),
        ("edit", None, {}, "video"),
        ("extend", SourceVideo(), {"seconds": 4}, "video"),
        ("extend", SourceVideo(data=MP4), {"seconds": 12}, "seconds"),
        ("extend", SourceVideo(data=MP4), {"seconds": 1}, "seconds"),
        (
            "edit",
            SourceVideo(data=MP4),
            {"input_reference": ImageInput(url="https://e/a.png")},
            "input_reference",
        ),
    ],
)
def test_refusals_name_the_param_before_any_call(
    task: str, source: SourceVideo | None, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request(task, source, **params), CREDS), [], P.error_for)
    assert caught.value.param == param


def test_only_the_legacy_row_edits_and_extends() -> None:
    legacy = find_model("xai/grok-imagine-video")
    assert legacy is not None
    assert {"edit", "extend"} <= legacy.features
    for model in ("xai/grok-imagine-video-1.5", "xai/grok-imagine-video-1.5-lite"):
        spec = find_model(model)
        assert spec is not None
        assert not spec.features & {"edit", "extend"}, model


def test_an_extension_is_priced_at_its_added_seconds() -> None:
    spec = find_model("xai/grok-imagine-video")
    assert spec is not None
    assert pricing.estimate_cost(spec, seconds=4, size="1280x720") == Decimal("0.28")  # 4 s x $0.07


@pytest.fixture(scope="module")
def loopback(render_cache: Path) -> Iterator[Loopback]:
    app = create_app(EmulatorSettings(api_key="xai-loop", processing_seconds=0.2, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key="xai-loop", api_base=f"{url}/v1")) as served:
        yield served


def test_the_adapter_edits_and_extends_over_loopback(loopback: Loopback) -> None:
    runner = sync_runner([])
    first = run_to_end(runner, P, request("generate", None, seconds=3, size="848x480"), loopback.creds)
    assert first.status == "completed"
    clip = fetch(runner, P, first.native_id, loopback.creds)
    edit = request("edit", SourceVideo(native_id=first.native_id, seconds=3), seconds=3, size="848x480")
    edited = run_to_end(runner, P, edit, loopback.creds)
    assert (edited.status, edited.seconds) == ("completed", "3")
    extend = request("extend", SourceVideo(data=clip, seconds=3), seconds=2, size="848x480")
    extended = run_to_end(runner, P, extend, loopback.creds)
    assert extended.status == "completed"
    info = probe(fetch(runner, P, extended.native_id, loopback.creds))
    assert (info.width, info.height) == (848, 480)
    assert info.duration == pytest.approx(5, abs=0.1)  # the 3 s source and the 2 s added
