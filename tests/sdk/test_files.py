"""Where ``stream_content`` writes: the destination is checked before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidgate.sdk.files import checked_destination, partial_path


def test_a_file_in_an_existing_directory_is_accepted(tmp_path: Path) -> None:
    assert checked_destination(str(tmp_path / "v.mp4")) == tmp_path / "v.mp4"
    assert partial_path(tmp_path / "v.mp4") == tmp_path / "v.mp4.part"


def test_unwritable_destinations_name_the_path_given(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"the directory '.*missing' does not exist"):
        checked_destination(tmp_path / "missing" / "v.mp4")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        checked_destination(tmp_path)
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        checked_destination(tmp_path / "f" / "v.mp4")
