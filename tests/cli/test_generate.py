"""``vidgate generate``: a playable MP4 with a progress bar; errors exit non-zero with the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.cli import VIDGATE, run_vidgate
from tests.support.images import write_image
from tests.support.media import probe


@pytest.fixture
def local_env(tmp_path: Path) -> dict[str, str]:
    return {"VIDGATE_LOCAL_DIR": str(tmp_path / "local"), "VIDGATE_LOCAL_DELAY": "0.5"}


def test_generate_writes_a_playable_mp4(tmp_path: Path, local_env: dict[str, str]) -> None:
    assert VIDGATE.exists(), f"{VIDGATE} missing: install the package into the venv (pip install -e .)"
    result = run_vidgate(
        "generate",
        "a cat",
        "-m",
        "local/local-1",
        "--seconds",
        "2",
        "--size",
        "320x180",
        "-o",
        "out.mp4",
        cwd=tmp_path,
        env=local_env,
    )
    assert result.returncode == 0, result.stderr
    info = probe(tmp_path / "out.mp4")
    assert (info.codec, info.width, info.height, info.duration) == ("h264", 320, 180, 2.0)
    assert "Saved out.mp4 (2 s, 320x180, local-1); estimated cost $0.00" in result.stdout
    assert "completed" in result.stderr
    assert "100%" in result.stderr  # the progress bar's final state
    assert list(tmp_path.glob("*.part")) == []


def test_generate_with_a_first_frame_image(tmp_path: Path, local_env: dict[str, str]) -> None:
    write_image(tmp_path / "first.png", 320, 180)
    result = run_vidgate(
        "generate",
        "a dog",
        "--model",
        "local/local-1",
        "--seconds",
        "1",
        "--size",
        "320x180",
        "--image",
        "first.png",
        "--output",
        "dog.mp4",
        cwd=tmp_path,
        env=local_env,
    )
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "dog.mp4").frames > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "9"], "Invalid value: '9'"),
        (["--size", "100x100"], "Invalid value: '100x100'"),
        (["-m", "nope/model"], "Unknown model 'nope/model'"),
        (["--image", "missing.png"], "names no existing file"),
    ],
)
def test_bad_input_exits_1_with_the_message(
    tmp_path: Path, local_env: dict[str, str], args: list[str], message: str
) -> None:
    base = ["generate", "a cat", "-m", "local/local-1", "--seconds", "1", "--size", "320x180"]
    result = run_vidgate(*base, *args, "-o", "x.mp4", cwd=tmp_path, env=local_env)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_a_failed_job_exits_1_with_the_reason(tmp_path: Path, local_env: dict[str, str]) -> None:
    result = run_vidgate(
        "generate",
        "a cat [fault:filtered]",
        "-m",
        "local/local-1",
        "--seconds",
        "1",
        "--size",
        "320x180",
        cwd=tmp_path,
        env=local_env,
    )
    assert result.returncode == 1
    assert "moderation_blocked" in result.stderr
    assert not (tmp_path / "video.mp4").exists()
