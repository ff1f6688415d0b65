"""``vidgate generate``: a playable MP4 with a progress bar; errors exit non-zero with the message."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from tests.support.cli import VIDGATE, run_vidgate
from tests.support.env import clear_provider_env
from tests.support.images import write_image
from tests.support.live import live_server
from tests.support.media import probe
from typer.testing import CliRunner

from vidgate.cli.main import app
from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.vertex_ai import emulator as vertex


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


def test_generate_with_openrouters_duration_resolution_and_aspect_ratio(
    tmp_path: Path, local_env: dict[str, str]
) -> None:
    args = ["generate", "a cat", "-m", "local/local-1", "--duration", "1", "--resolution", "180p"]
    result = run_vidgate(*args, "--aspect-ratio", "16:9", "-o", "out.mp4", cwd=tmp_path, env=local_env)
    assert result.returncode == 0, result.stderr
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height, info.duration) == (320, 180, 1.0)
    clash = run_vidgate(*args, "--seconds", "2", "-o", "x.mp4", cwd=tmp_path, env=local_env)
    assert clash.returncode == 1
    assert "--duration" in clash.stderr
    assert "Conflicting parameters 'seconds' and 'duration'" in clash.stderr


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


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("nodir/x.mp4", "the directory 'nodir' does not exist"),
        (".", "is a directory"),
    ],
)
def test_an_unwritable_output_fails_before_any_video_is_made(
    tmp_path: Path, local_env: dict[str, str], output: str, message: str
) -> None:
    base = ["generate", "a cat", "-m", "local/local-1", "--seconds", "1", "--size", "320x180"]
    result = run_vidgate(*base, "-o", output, cwd=tmp_path, env=local_env)
    assert result.returncode == 2, result.stderr
    assert "--output" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "local").exists()  # no job was created (the local provider's job files)


def test_error_messages_keep_their_brackets(tmp_path: Path, local_env: dict[str, str]) -> None:
    base = ["generate", "a cat", "-m", "local/local-1", "--seconds", "1", "--size", "320x180"]
    result = run_vidgate(*base, "--image", "cat[red].png", cwd=tmp_path, env=local_env)
    assert result.returncode == 1
    assert "'cat[red].png'" in result.stderr


def test_ctrl_c_names_the_video_and_leaves_no_file(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VIDGATE_LOCAL_DIR": str(tmp_path / "local"),
        "VIDGATE_LOCAL_DELAY": "30",  # the job outlives the test; a CLI that never names it fails here
        "COLUMNS": "120",
    }
    args = [str(VIDGATE), "generate", "a cat", "--seconds", "1", "--size", "320x180", "-o", "out.mp4"]
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # a terminal's Ctrl-C: the default handler, whatever this test process inherited
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the CLI names the video as soon as it exists
    assert "video_" in first, first
    video_id = first.split("video_", 1)[1].split()[0].rstrip(".,")
    # Ctrl-C, pressed again every 2 s like a user would (one SIGINT has been seen lost under heavy
    # machine load, at most 10 presses, well before the 30 s job could finish)
    for _ in range(10):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=2)
            break
        except subprocess.TimeoutExpired:
            continue
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "interrupted" in rest
    assert f"video_{video_id}" in rest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local"]


def test_api_key_is_the_vertex_access_token(
    tmp_path: Path, render_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_provider_env(monkeypatch)
    monkeypatch.setenv("VERTEXAI_PROJECT", "proj")
    settings = EmulatorSettings(
        api_key="tok", processing_seconds=0.2, poll_after_ms=50, cache_dir=render_cache
    )
    out = tmp_path / "v.mp4"
    with live_server(vertex.create_app(settings)) as url:
        monkeypatch.setenv("VERTEXAI_API_BASE", url)  # --api-base would name a vidgate gateway
        args = ["generate", "a cat", "-m", "vertex_ai/veo-3.1-generate-001", "--seconds", "4"]
        result = CliRunner().invoke(app, [*args, "--api-key", "tok", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert probe(out).duration == 4.0
