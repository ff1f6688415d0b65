"""The render cache: a hit never re-encodes; concurrent renders of one spec leave one valid file."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.support.media import probe

from vidgate.render import Rendered, RenderSpec, render
from vidgate.render import encode as encode_module

SPEC = RenderSpec(prompt="cache me once", seconds=1, width=320, height=180)


class CountingEncoder:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        self._real = encode_module.encode
        monkeypatch.setattr(encode_module, "encode", self)

    def __call__(self, *args: object, **kwargs: object) -> None:
        with self._lock:
            self.calls += 1
        self._real(*args, **kwargs)  # type: ignore[arg-type]


def _no_leftovers(root: Path) -> None:
    names = [p.name for p in root.rglob("*") if p.is_file()]
    assert not [n for n in names if n.endswith((".tmp.mp4", ".tmp.webp", ".tmp.jpg"))], names


def test_cache_hit_does_not_reencode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = CountingEncoder(monkeypatch)
    first = render(SPEC, tmp_path)
    stamp = first.video.stat().st_mtime_ns
    second = render(SPEC, tmp_path)
    assert encoder.calls == 1
    assert second == first
    assert second.video.stat().st_mtime_ns == stamp


def test_a_partial_entry_is_rendered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = CountingEncoder(monkeypatch)
    first = render(SPEC, tmp_path)
    first.spritesheet.unlink()
    again = render(SPEC, tmp_path)
    assert encoder.calls == 2
    assert again.spritesheet.is_file()


def test_failed_encode_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(spec: RenderSpec, video: Path, thumbnail: Path, spritesheet: Path) -> None:
        video.write_bytes(b"half a video")
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(encode_module, "encode", broken)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        render(SPEC, tmp_path)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".lock"]


def test_concurrent_threads_encode_once_and_share_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = CountingEncoder(monkeypatch)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: render(SPEC, tmp_path), range(6)))
    assert encoder.calls == 1
    assert len(set(results)) == 1
    assert probe(results[0].video).frames == 24
    _no_leftovers(tmp_path)


def _render_in_child(root: str) -> Rendered:
    return render(SPEC, Path(root))


def test_concurrent_processes_yield_one_valid_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=3, mp_context=context) as pool:
        results = list(pool.map(_render_in_child, [str(tmp_path)] * 3))
    assert len(set(results)) == 1
    info = probe(results[0].video)
    assert (info.width, info.height, info.frames) == (320, 180, 24)
    assert len(list(tmp_path.rglob("*.mp4"))) == 1
    _no_leftovers(tmp_path)
