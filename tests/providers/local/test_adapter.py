"""The local provider: no HTTP, jobs as files, status over (fake) time, real MP4s on download."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.support.images import (
    corrupt_webp,
    damage_first_frames,
    image_bytes,
    mpo_jpeg,
    truncated_jpeg,
    undecodable_png,
)
from tests.support.media import decode_frames, probe

from vidgate.catalog import validate
from vidgate.errors import BadRequestError, NotFoundError, UpstreamError
from vidgate.providers.base import Credentials, Download, HttpReply, ProviderJob, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.local.adapter import LocalProvider
from vidgate.providers.registry import get_provider
from vidgate.transport import AsyncRunner, SyncRunner
from vidgate.types import ImageInput, VideoRequest

_SPEC = find_model("local/local-1")
assert _SPEC is not None
SPEC = _SPEC
CREDS = Credentials()


class Clock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def local(tmp_path: Path, clock: Clock) -> LocalProvider:
    return LocalProvider(root=tmp_path / "local", delay=10.0, clock=clock)


def request(prompt: str = "a red fox running through snow", **params: Any) -> VideoRequest:
    params.setdefault("seconds", 2)
    params.setdefault("size", "320x180")
    return validate(SPEC, prompt=prompt, **params)


def run(flow: Any) -> Any:
    """Drive a flow that must make no HTTP call."""
    result, calls = drive(flow, [])
    assert calls == []
    return result


def create(
    local: LocalProvider, prompt: str = "a red fox running through snow", **params: Any
) -> ProviderJob:
    job = run(local.create(request(prompt, **params), CREDS))
    assert isinstance(job, ProviderJob)
    return job


def completed(local: LocalProvider, clock: Clock, prompt: str = "a red fox", **params: Any) -> ProviderJob:
    job = create(local, prompt, **params)
    clock.now += 10
    return job


def test_registry_builds_the_local_provider() -> None:
    provider = get_provider("local")
    assert isinstance(provider, LocalProvider)
    assert provider.name == "local"
    row = find_model("local/local-1")
    assert row is not None
    assert {"remix", "list", "delete"} <= row.features  # declared once, in the catalogue row


def test_status_goes_queued_in_progress_completed(local: LocalProvider, clock: Clock) -> None:
    job = create(local)
    assert job.native_id.startswith("video_")
    assert (job.status, job.progress, job.completed_at, job.expires_at) == ("queued", 0, None, None)
    assert (job.model, job.size, job.seconds, job.prompt) == (
        "local-1",
        "320x180",
        "2",
        "a red fox running through snow",
    )
    assert job.poll_after_ms is not None
    clock.now += 5
    half = run(local.retrieve(job.native_id, CREDS))
    assert (half.status, half.progress) == ("in_progress", 50)
    clock.now += 4
    later = run(local.retrieve(job.native_id, CREDS))
    assert later.status == "in_progress"
    assert later.progress == 90
    clock.now += 1
    done = run(local.retrieve(job.native_id, CREDS))
    assert (done.status, done.progress, done.error, done.poll_after_ms) == ("completed", 100, None, None)
    assert done.completed_at == done.created_at + 10
    assert done.expires_at == done.completed_at + 24 * 3600


def test_zero_delay_completes_at_once(tmp_path: Path) -> None:
    job = run(LocalProvider(root=tmp_path, delay=0).create(request(), CREDS))
    assert job.status == "completed"


def _produce(download: Download) -> Path:
    assert download.produce is not None
    assert download.call is None
    assert download.data is None
    return download.produce()


def test_download_renders_the_requested_video(local: LocalProvider, clock: Clock) -> None:
    job = completed(local, clock)
    download = run(local.download(job.native_id, "video", CREDS))
    assert download.media_type == "video/mp4"
    info = probe(_produce(download))
    assert (info.codec, info.width, info.height, info.frames) == ("h264", 320, 180, 48)
    assert abs(info.duration - 2) <= 1 / 24


def test_download_at_a_larger_size(local: LocalProvider, clock: Clock) -> None:
    job = completed(local, clock, seconds=1, size="1280x720")
    info = probe(_produce(run(local.download(job.native_id, "video", CREDS))))
    assert (info.width, info.height, info.frames) == (1280, 720, 24)


@pytest.mark.parametrize(
    ("variant", "media_type", "fmt"),
    [("thumbnail", "image/webp", "WEBP"), ("spritesheet", "image/jpeg", "JPEG")],
)
def test_image_variants(local: LocalProvider, clock: Clock, variant: str, media_type: str, fmt: str) -> None:
    job = completed(local, clock)
    download = run(local.download(job.native_id, variant, CREDS))
    assert download.media_type == media_type
    with Image.open(_produce(download)) as img:
        assert img.format == fmt
        img.load()


def test_renders_are_cached_under_the_root(local: LocalProvider, clock: Clock, tmp_path: Path) -> None:
    job = completed(local, clock)
    path = _produce(run(local.download(job.native_id, "video", CREDS)))
    assert path.is_relative_to(tmp_path / "local" / "renders")


def test_sync_runner_drives_the_flows(local: LocalProvider, clock: Clock) -> None:
    runner = SyncRunner()
    try:
        job = runner.run(local.create(request(), CREDS), local.error_for)
        clock.now += 10
        download = runner.run(local.download(job.native_id, "video", CREDS), local.error_for)
        with runner.open(download, local.error_for) as stream:
            data = b"".join(stream.chunks)
            assert stream.media_type == "video/mp4"
            assert stream.content_length == len(data)
    finally:
        runner.close()
    assert probe(data).frames == 48


async def test_async_runner_drives_the_flows(local: LocalProvider, clock: Clock) -> None:
    runner = AsyncRunner()
    try:
        job = await runner.run(local.create(request(), CREDS), local.error_for)
        clock.now += 10
        done = await runner.run(local.retrieve(job.native_id, CREDS), local.error_for)
        assert done.status == "completed"
        download = await runner.run(local.download(job.native_id, "thumbnail", CREDS), local.error_for)
        async with runner.open(download, local.error_for) as stream:
            data = b"".join([chunk async for chunk in stream.chunks])
    finally:
        await runner.aclose()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP"


def test_download_before_completion_is_not_ready(local: LocalProvider, clock: Clock) -> None:
    job = create(local)
    clock.now += 5
    with pytest.raises(NotFoundError, match="Video is not ready yet"):
        run(local.download(job.native_id, "video", CREDS))


@pytest.mark.parametrize("bad_id", ["video_0123456789abcdef", "../../etc/passwd", "video_../x", ""])
def test_unknown_ids_are_not_found(local: LocalProvider, bad_id: str) -> None:
    for flow in (
        local.retrieve(bad_id, CREDS),
        local.download(bad_id, "video", CREDS),
        local.remix(bad_id, "again", CREDS),
        local.delete(bad_id, CREDS),
    ):
        with pytest.raises(NotFoundError) as info:
            run(flow)
        assert info.value.status_code == 404


def test_unknown_variant_is_rejected(local: LocalProvider, clock: Clock) -> None:
    job = completed(local, clock)
    with pytest.raises(
        BadRequestError, match="Supported values are: 'video', 'thumbnail', and 'spritesheet'"
    ) as info:
        run(local.download(job.native_id, "poster", CREDS))
    assert info.value.param == "variant"


@pytest.mark.parametrize(
    ("token", "code"), [("[fault:fail]", "generation_failed"), ("[fault:filtered]", "moderation_blocked")]
)
def test_fault_tokens_end_failed(local: LocalProvider, clock: Clock, token: str, code: str) -> None:
    job = create(local, f"a quiet lake {token}")
    assert job.status == "queued"
    clock.now += 10
    done = run(local.retrieve(job.native_id, CREDS))
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code == code
    assert done.error.message
    assert done.completed_at is None
    with pytest.raises(NotFoundError, match="failed and has no content"):
        run(local.download(job.native_id, "video", CREDS))


def test_fault_tokens_are_not_drawn(local: LocalProvider, clock: Clock) -> None:
    plain = completed(local, clock, "a quiet lake")
    tagged = completed(local, clock, "a quiet lake [fault:slow]")
    assert run(local.retrieve(tagged.native_id, CREDS)).status == "completed"
    first = _produce(run(local.download(plain.native_id, "video", CREDS)))
    second = _produce(run(local.download(tagged.native_id, "video", CREDS)))
    assert first == second


def test_remix_keeps_size_and_duration(local: LocalProvider, clock: Clock) -> None:
    source = completed(local, clock, "a red fox", seconds=1, size="360x640")
    remix = run(local.remix(source.native_id, "a blue fox", CREDS))
    assert (remix.status, remix.remixed_from, remix.prompt) == ("queued", source.native_id, "a blue fox")
    assert (remix.size, remix.seconds, remix.model) == ("360x640", "1", "local-1")
    assert remix.native_id != source.native_id
    clock.now += 10
    info = probe(_produce(run(local.download(remix.native_id, "video", CREDS))))
    assert (info.width, info.height, info.frames) == (360, 640, 24)


def test_remix_needs_a_completed_source_and_a_prompt(local: LocalProvider, clock: Clock) -> None:
    source = create(local)
    with pytest.raises(BadRequestError, match="only completed videos can be remixed"):
        run(local.remix(source.native_id, "again", CREDS))
    clock.now += 10
    with pytest.raises(BadRequestError) as info:
        run(local.remix(source.native_id, "  ", CREDS))
    assert info.value.param == "prompt"


def test_list_pages_with_a_cursor(local: LocalProvider, clock: Clock) -> None:
    ids = []
    for i in range(5):
        ids.append(create(local, f"clip {i}").native_id)
        clock.now += 1
    first = run(local.list(CREDS, after=None, limit=2, order="asc"))
    assert [j.native_id for j in first.jobs] == ids[:2]
    assert first.has_more
    second = run(local.list(CREDS, after=ids[1], limit=2, order="asc"))
    assert [j.native_id for j in second.jobs] == ids[2:4]
    assert second.has_more
    last = run(local.list(CREDS, after=ids[3], limit=2, order="asc"))
    assert [j.native_id for j in last.jobs] == ids[4:]
    assert not last.has_more
    newest = run(local.list(CREDS, after=None, limit=3, order="desc"))
    assert [j.native_id for j in newest.jobs] == ids[::-1][:3]
    assert [j.progress for j in newest.jobs] == [10, 20, 30]  # each read at the same instant


def test_list_rejects_bad_parameters(local: LocalProvider) -> None:
    create(local)
    with pytest.raises(BadRequestError) as order:
        run(local.list(CREDS, after=None, limit=2, order="sideways"))
    assert order.value.param == "order"
    with pytest.raises(BadRequestError) as limit:
        run(local.list(CREDS, after=None, limit=0, order="asc"))
    assert limit.value.param == "limit"
    with pytest.raises(BadRequestError) as after:
        run(local.list(CREDS, after="video_ffffffffffffffff", limit=2, order="asc"))
    assert after.value.param == "after"


def test_list_of_an_empty_root(tmp_path: Path) -> None:
    page = run(LocalProvider(root=tmp_path / "nothing").list(CREDS, after=None, limit=10, order="desc"))
    assert (page.jobs, page.has_more) == ((), False)


def test_delete_removes_the_job_and_its_files(local: LocalProvider, clock: Clock, tmp_path: Path) -> None:
    job = completed(local, clock, "delete me")
    video = _produce(run(local.download(job.native_id, "video", CREDS)))
    assert run(local.delete(job.native_id, CREDS)) is True
    assert not video.exists()
    assert not list((tmp_path / "local" / "jobs").iterdir())
    with pytest.raises(NotFoundError):
        run(local.retrieve(job.native_id, CREDS))


def test_delete_keeps_files_another_job_still_shows(local: LocalProvider, clock: Clock) -> None:
    first = create(local, "same video")
    second = create(local, "same video")
    clock.now += 10
    video = _produce(run(local.download(first.native_id, "video", CREDS)))
    run(local.delete(first.native_id, CREDS))
    assert video.exists()
    assert _produce(run(local.download(second.native_id, "video", CREDS))) == video


def test_delete_of_a_running_job_is_refused(local: LocalProvider) -> None:
    job = create(local)
    with pytest.raises(BadRequestError, match="only completed or failed videos can be deleted"):
        run(local.delete(job.native_id, CREDS))


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="PNG")
    return buf.getvalue()


def _first_frame_edge(local: LocalProvider, job: ProviderJob) -> tuple[float, float, float]:
    """Mean colour at the left edge, mid height (under no overlay) of the first frame."""
    frame = decode_frames(_produce(run(local.download(job.native_id, "video", CREDS))), [0])[0]
    r, g, b = (float(v) for v in frame[80:100, 0:8].reshape(-1, 3).mean(axis=0))
    return r, g, b


def test_input_reference_bytes_are_the_first_frame(local: LocalProvider, clock: Clock) -> None:
    image = ImageInput(data=_png((20, 200, 30)), mime_type="image/png", filename="g.png")
    job = completed(local, clock, "green start", input_reference=image)
    r, g, b = _first_frame_edge(local, job)
    assert g > 170
    assert r < 60
    assert b < 70


def test_input_reference_data_url_is_decoded(local: LocalProvider, clock: Clock) -> None:
    url = "data:image/png;base64," + base64.b64encode(_png((20, 30, 200))).decode()
    job = completed(local, clock, "blue start", input_reference=ImageInput(url=url))
    r, _, b = _first_frame_edge(local, job)
    assert b > 170
    assert r < 60


def test_remix_keeps_the_first_frame(local: LocalProvider, clock: Clock) -> None:
    source = completed(local, clock, "green start", input_reference=ImageInput(data=_png((20, 200, 30))))
    remix = run(local.remix(source.native_id, "green start, again", CREDS))
    clock.now += 10
    assert _first_frame_edge(local, remix)[1] > 170


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (
            ImageInput(url="https://example.com/cat.png"),
            "needs input_reference as image bytes or a data: URL",
        ),
        (ImageInput(file_id="file-abc"), "needs input_reference as image bytes or a data: URL"),
        (ImageInput(data=b"not an image"), "not a decodable image"),
        (  # a header validation reads (its size), then no image: the renderer's own refusal
            ImageInput(data=image_bytes(16, 16, "png")[:33] + b"\0" * 40),
            r"not a decodable image \(the PNG, JPEG or WebP",
        ),
        (ImageInput(url="data:image/png;base64,@@@"), "bad base64"),
    ],
)
def test_unusable_input_reference_is_rejected(
    local: LocalProvider, tmp_path: Path, image: ImageInput, match: str
) -> None:
    with pytest.raises(BadRequestError, match=match) as info:
        create(local, input_reference=image)
    assert info.value.param == "input_reference"
    assert "BytesIO" not in info.value.message
    assert not (tmp_path / "local" / "jobs").exists()


@pytest.mark.parametrize(
    "data",
    [truncated_jpeg(), corrupt_webp(), undecodable_png()],
    ids=["truncated-jpeg", "corrupt-webp", "undecodable-png"],
)
def test_a_first_frame_whose_headers_pass_but_whose_data_does_not_decode_is_refused(
    local: LocalProvider, tmp_path: Path, data: bytes
) -> None:
    """``Image.verify`` passes these (it decodes no JPEG data, nor a PNG's pixels): the create decodes
    them as the renderer will, so the caller gets a 400 and no job; they completed (charged, if the
    operator priced ``local``) and their content was a permanent 502 ``render_failed``."""
    with pytest.raises(BadRequestError, match="not a decodable image") as info:
        create(local, input_reference=ImageInput(data=data))
    assert (info.value.status_code, info.value.param, info.value.code) == (
        400,
        "input_reference",
        "invalid_image",
    )
    assert not (tmp_path / "local" / "jobs").exists()


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_a_first_frame_of_each_format_is_accepted(local: LocalProvider, clock: Clock, kind: str) -> None:
    job = completed(
        local, clock, "from a frame", input_reference=ImageInput(data=image_bytes(1280, 720, kind))
    )
    assert run(local.retrieve(job.native_id, CREDS)).status == "completed"


def test_a_camera_jpeg_with_more_pictures_is_a_jpeg(
    local: LocalProvider, clock: Clock, tmp_path: Path
) -> None:
    """Pillow names such a file MPO; it is a JPEG, and its first picture is the frame."""
    data = mpo_jpeg(1280, 720)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    job = completed(local, clock, "from a phone photo", input_reference=ImageInput(data=data))
    assert run(local.retrieve(job.native_id, CREDS)).status == "completed"


def test_a_first_frame_that_cannot_be_decoded_is_a_permanent_upstream_error(
    local: LocalProvider, clock: Clock, tmp_path: Path
) -> None:
    """A stored first frame the renderer cannot decode (a job saved before the create decoded it): the
    render fails the same way every time, so the download says so (502, ``permanent``); it raised the
    renderer's bare ValueError (a 500, and a content copy retried as if transient)."""
    job = completed(local, clock, input_reference=ImageInput(data=image_bytes(32, 18, "png")))
    assert damage_first_frames(tmp_path / "local") == 1
    download = run(local.download(job.native_id, "video", CREDS))
    assert download.produce is not None
    with pytest.raises(UpstreamError) as info:
        download.produce()
    err = info.value
    assert (err.status_code, err.code, err.provider, err.permanent) == (502, "render_failed", "local", True)
    assert "not a decodable PNG/JPEG/WebP image" in err.message


def test_api_base_directory_overrides_the_root(tmp_path: Path, clock: Clock) -> None:
    provider = LocalProvider(root=tmp_path / "default", delay=0, clock=clock)
    creds = Credentials(api_base=str(tmp_path / "elsewhere"))
    job = run(provider.create(request(), creds))
    assert (tmp_path / "elsewhere" / "jobs" / f"{job.native_id}.json").is_file()
    file_creds = Credentials(api_base=(tmp_path / "elsewhere").as_uri())
    assert run(provider.retrieve(job.native_id, file_creds)).native_id == job.native_id
    with pytest.raises(NotFoundError):
        run(provider.retrieve(job.native_id, CREDS))


def test_api_base_url_is_rejected(local: LocalProvider) -> None:
    with pytest.raises(BadRequestError) as info:
        run(local.create(request(), Credentials(api_base="http://localhost:4000/v1")))
    assert info.value.param == "api_base"


def test_root_and_delay_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0")
    job = run(LocalProvider().create(request(), CREDS))
    assert job.status == "completed"
    assert (tmp_path / "jobs" / f"{job.native_id}.json").is_file()
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "soon")
    with pytest.raises(ValueError, match="VIDGATE_LOCAL_DELAY"):
        run(LocalProvider().create(request(), CREDS))


def test_default_root_without_env_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIDGATE_LOCAL_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert LocalProvider().root(CREDS) == tmp_path / ".cache" / "vidgate" / "local"


def test_default_delay_is_two_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDGATE_LOCAL_DELAY", raising=False)
    assert LocalProvider().delay() == 2.0


def test_catalogue_rejects_sizes_and_durations_local_cannot_do() -> None:
    with pytest.raises(BadRequestError, match="Supported values are") as size:
        validate(SPEC, prompt="x", size="999x999")
    assert size.value.param == "size"
    with pytest.raises(BadRequestError) as seconds:
        validate(SPEC, prompt="x", seconds=9)
    assert seconds.value.param == "seconds"


def test_error_for_maps_an_openai_style_body(local: LocalProvider) -> None:
    body = b'{"error": {"message": "nope", "param": "video_id", "code": "x"}}'
    error = local.error_for(HttpReply(404, {"content-type": "application/json"}, body))
    assert isinstance(error, NotFoundError)
    assert (error.message, error.param, error.code, error.provider) == ("nope", "video_id", "x", "local")
    plain = local.error_for(HttpReply(503, {}, b"busy"))
    assert plain.status_code == 503
