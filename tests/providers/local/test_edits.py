"""The local provider's edits and extensions: rendered from the source's frames (an edit keeps them
under the new prompt's card, an extension plays them and then new seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.support.media import decode_frames, probe

from vidgate.catalog import validate
from vidgate.catalog.tasks import validate_task
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.local.adapter import LocalProvider
from vidgate.types import SourceVideo

_SPEC = find_model("local/local-1")
assert _SPEC is not None
SPEC = _SPEC
CREDS = Credentials()


@pytest.fixture
def local(tmp_path: Path) -> LocalProvider:
    return LocalProvider(root=tmp_path / "local", delay=0.0)


def finished_mp4(local: LocalProvider, native_id: str) -> bytes:
    download, _ = drive(local.download(native_id, "video", CREDS), [])
    assert download.produce is not None
    return download.produce().read_bytes()


def test_the_local_rows_declare_edit_and_extend() -> None:
    assert SPEC.has("edit")
    assert SPEC.has("extend")


def test_extend_by_own_id_plays_the_source_then_new_seconds(local: LocalProvider) -> None:
    source, _ = drive(local.create(validate(SPEC, prompt="a fox", seconds=1, size="320x180"), CREDS), [])
    source_mp4 = finished_mp4(local, source.native_id)
    req = validate_task(
        SPEC,
        "extend",
        prompt="it runs",
        seconds="2",
        source=SourceVideo(native_id=source.native_id, seconds=1, size="320x180"),
    )
    extended, _ = drive(local.create(req, CREDS), [])
    assert extended.seconds == "2"
    mp4 = finished_mp4(local, extended.native_id)
    info = probe(mp4)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    first_source, first_extended = decode_frames(source_mp4, [0])[0], decode_frames(mp4, [0])[0]
    assert np.abs(first_source.astype(int) - first_extended.astype(int)).mean() < 4  # the source opens it


def test_edit_of_bytes_keeps_the_length_and_changes_the_frames(local: LocalProvider) -> None:
    source, _ = drive(local.create(validate(SPEC, prompt="a fox", seconds=1, size="320x180"), CREDS), [])
    clip = finished_mp4(local, source.native_id)
    req = validate_task(
        SPEC, "edit", prompt="now it is blue", source=SourceVideo(data=clip, seconds=1, size="320x180")
    )
    edited, _ = drive(local.create(req, CREDS), [])
    mp4 = finished_mp4(local, edited.native_id)
    assert probe(mp4).duration == pytest.approx(1.0, abs=0.05)
    before, after = decode_frames(clip, [12])[0].astype(int), decode_frames(mp4, [12])[0].astype(int)
    fresh, _ = drive(
        local.create(validate(SPEC, prompt="now it is blue", seconds=1, size="320x180"), CREDS), []
    )
    new_scene = decode_frames(finished_mp4(local, fresh.native_id), [12])[0].astype(int)
    # Half the source, half the new prompt's own scene: far from either alone, near their mean.
    assert np.abs(after - before).mean() > 10
    assert np.abs(after - new_scene).mean() > 10
    assert np.abs(after - (before + new_scene) / 2).mean() < np.abs(after - before).mean() / 2


def test_bad_sources_are_400s_before_a_job_exists(local: LocalProvider, tmp_path: Path) -> None:
    not_mp4 = validate_task(
        SPEC, "edit", prompt="x", source=SourceVideo(data=b"GIF89a", seconds=1, size="320x180")
    )
    with pytest.raises(BadRequestError) as caught:
        drive(local.create(not_mp4, CREDS), [])
    assert caught.value.param == "video"
    nothing = validate_task(SPEC, "edit", prompt="x", source=SourceVideo(seconds=1, size="320x180"))
    with pytest.raises(BadRequestError):
        drive(local.create(nothing, CREDS), [])
    assert not (tmp_path / "local" / "jobs").exists() or not list((tmp_path / "local" / "jobs").iterdir())
