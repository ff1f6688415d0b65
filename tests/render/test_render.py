"""render(): a real H.264 MP4 at the requested size and duration, deterministic, with thumbnail, sprites."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.support.media import decode_frames, probe, top_level_boxes

from vidgate.render import RenderSpec, render
from vidgate.render.cache import default_cache_dir

CAT = "A calico cat playing a piano on stage"
CITY = "A drone shot over a neon city at night in the rain"


def _png(color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("width", "height", "seconds"), [(320, 180, 2), (180, 320, 1), (480, 480, 1)])
def test_video_is_h264_at_requested_size_and_duration(
    render_cache: Path, width: int, height: int, seconds: int
) -> None:
    out = render(RenderSpec(prompt=CAT, seconds=seconds, width=width, height=height), render_cache)
    info = probe(out.video)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height) == (width, height)
    assert info.frames == seconds * 24
    assert info.fps == 24
    assert abs(info.duration - seconds) <= 1 / 24


def test_moov_comes_before_mdat_so_it_streams(render_cache: Path) -> None:
    boxes = top_level_boxes(
        render(RenderSpec(prompt=CAT, seconds=2, width=320, height=180), render_cache).video
    )
    assert "moov" in boxes
    assert "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_other_frame_rates_keep_the_duration(render_cache: Path) -> None:
    info = probe(render(RenderSpec(prompt=CAT, seconds=1, width=320, height=180, fps=30), render_cache).video)
    assert info.frames == 30
    assert abs(info.duration - 1) <= 1 / 30


def test_larger_size_renders_at_that_size(render_cache: Path) -> None:
    info = probe(render(RenderSpec(prompt=CAT, seconds=1, width=1280, height=720), render_cache).video)
    assert (info.width, info.height, info.frames) == (1280, 720, 24)


def test_same_spec_is_byte_identical_across_caches(tmp_path: Path) -> None:
    spec = RenderSpec(prompt=CAT, seconds=1, width=320, height=180, seed=7)
    first, second = render(spec, tmp_path / "a"), render(spec, tmp_path / "b")
    assert first.video != second.video
    assert first.video.read_bytes() == second.video.read_bytes()
    assert first.thumbnail.read_bytes() == second.thumbnail.read_bytes()
    assert first.spritesheet.read_bytes() == second.spritesheet.read_bytes()


def _mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_different_prompts_look_clearly_different(render_cache: Path) -> None:
    cat = decode_frames(
        render(RenderSpec(prompt=CAT, seconds=1, width=320, height=180), render_cache).video, [12]
    )
    city = decode_frames(
        render(RenderSpec(prompt=CITY, seconds=1, width=320, height=180), render_cache).video, [12]
    )
    assert _mean_diff(cat[0], city[0]) > 20


def test_seed_changes_the_look(render_cache: Path) -> None:
    a = decode_frames(
        render(RenderSpec(prompt=CAT, seconds=1, width=320, height=180, seed=1), render_cache).video, [0]
    )
    b = decode_frames(
        render(RenderSpec(prompt=CAT, seconds=1, width=320, height=180, seed=2), render_cache).video, [0]
    )
    assert _mean_diff(a[0], b[0]) > 10


def test_frames_show_motion(render_cache: Path) -> None:
    frames = decode_frames(
        render(RenderSpec(prompt=CAT, seconds=2, width=320, height=180), render_cache).video
    )
    assert _mean_diff(frames[0], frames[-1]) > 5
    assert all(_mean_diff(frames[i], frames[i + 1]) > 0 for i in range(len(frames) - 1))


def test_thumbnail_is_webp_and_spritesheet_is_jpeg_grid(render_cache: Path) -> None:
    out = render(RenderSpec(prompt=CAT, seconds=2, width=320, height=180), render_cache)
    with Image.open(out.thumbnail) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (320, 180)
        thumb.load()
    with Image.open(out.spritesheet) as sheet:
        assert sheet.format == "JPEG"
        assert sheet.size == (5 * 256, 2 * 144)  # 10 tiles, 5 per row, 256 px wide at 16:9
        sheet.load()


def test_image_is_the_background_of_the_first_frames(render_cache: Path) -> None:
    red = _png((220, 20, 20), (100, 300))  # another size and aspect: fitted, not rejected
    out = render(RenderSpec(prompt=CAT, seconds=2, width=320, height=180, image=red), render_cache)
    first, late = decode_frames(out.video, [0, 47])
    corner = first[90:110, 0:10].reshape(-1, 3).mean(axis=0)  # left edge, mid height: no overlay there
    assert corner[0] > 180
    assert corner[1] < 60
    assert corner[2] < 60
    late_corner = late[90:110, 0:10].reshape(-1, 3).mean(axis=0)
    assert abs(float(late_corner[0]) - float(corner[0])) + abs(float(late_corner[1]) - float(corner[1])) > 40


def test_image_changes_the_cache_key() -> None:
    plain = RenderSpec(prompt=CAT, seconds=1, width=320, height=180)
    with_image = RenderSpec(prompt=CAT, seconds=1, width=320, height=180, image=_png((0, 0, 0), (8, 8)))
    other_image = RenderSpec(prompt=CAT, seconds=1, width=320, height=180, image=_png((1, 0, 0), (8, 8)))
    assert len({plain.key(), with_image.key(), other_image.key()}) == 3


def test_undecodable_image_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"RenderSpec\.image"):
        render(RenderSpec(prompt=CAT, seconds=1, width=320, height=180, image=b"not an image"), tmp_path)
    assert not list(tmp_path.rglob("*.mp4"))


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("width", {"width": 321}),
        ("height", {"height": 8}),
        ("seconds", {"seconds": 0}),
        ("fps", {"fps": 0}),
        ("width", {"width": 8192}),
    ],
)
def test_spec_rejects_unencodable_values(field: str, kwargs: dict[str, int]) -> None:
    base = {"prompt": CAT, "seconds": 1, "width": 320, "height": 180}
    with pytest.raises(ValueError, match=rf"RenderSpec\.{field}"):
        RenderSpec(**{**base, **kwargs})  # type: ignore[arg-type]


def test_default_cache_dir_follows_vidgate_local_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "renders"
    out = render(RenderSpec(prompt="default dir", seconds=1, width=320, height=180))
    assert out.video.is_relative_to(tmp_path / "renders")


def test_default_cache_dir_without_env_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIDGATE_LOCAL_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "vidgate" / "renders"
