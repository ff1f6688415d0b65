"""Where ``stream_content`` writes: checked before any request, written through a ``.part`` file.

A path that cannot be written (its directory is missing, or it names a directory) fails with the
ordinary ``OSError`` subclass *before* the download starts, naming the path the caller gave rather than
the temporary ``.part`` file the bytes would have gone to.
"""

from __future__ import annotations

import os
from pathlib import Path


def checked_destination(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` once it is known to be a file path in an existing directory."""
    dest = Path(path)
    if dest.is_dir():
        raise IsADirectoryError(
            f"Cannot save to '{dest}': it is a directory; give a file path such as '{dest / 'video.mp4'}'."
        )
    parent = dest.parent
    if not parent.exists():
        raise FileNotFoundError(f"Cannot save to '{dest}': the directory '{parent}' does not exist.")
    if not parent.is_dir():
        raise NotADirectoryError(f"Cannot save to '{dest}': '{parent}' is not a directory.")
    return dest


def partial_path(dest: Path) -> Path:
    """The file the bytes go to until the download is complete (then renamed to ``dest``)."""
    return dest.with_name(dest.name + ".part")
