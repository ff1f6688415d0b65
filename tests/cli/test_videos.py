"""The CLI as a client of a running gateway: `generate` and `vidgate videos ...` through `--api-base`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.server.conftest import MASTER, gateway_config
from tests.support.env import clear_provider_env
from tests.support.live import live_server
from tests.support.media import probe
from typer.testing import CliRunner, Result

from vidgate.cli.main import app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

runner = CliRunner()


@pytest.fixture
def gateway(render_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    clear_provider_env(monkeypatch)
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.3")
    local_root = tmp_path / "local"
    local_root.mkdir()
    (local_root / "renders").symlink_to(render_cache, target_is_directory=True)
    config = gateway_config(local_root)
    with live_server(create_app(config, stores=MemoryStores(), run_worker=True)) as url:
        yield url


@pytest.fixture
def key(gateway: str) -> str:
    reply = httpx.post(
        f"{gateway}/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    secret: str = reply.json()["key"]
    return secret


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def make_video(gateway: str, key: str, tmp_path: Path, prompt: str = "a fox") -> str:
    out = tmp_path / f"{prompt.replace(' ', '-')}.mp4"
    result = cli(
        "generate", prompt, "-m", "local-1", "--seconds", "1", "--size", "320x180", "-o", str(out),
        "--api-base", gateway, "--api-key", key,
    )  # fmt: skip
    assert probe(out).duration == 1.0
    assert f"Saved {out} (1 s, 320x180, local-1)" in result.stdout
    created = [line for line in result.stderr.splitlines() if line.startswith("Created video_")]
    assert len(created) == 1, result.stderr
    return created[0].split()[1]


def test_generate_through_the_gateway_with_a_gateway_model_name(
    gateway: str, key: str, tmp_path: Path
) -> None:
    """``-m local-1`` is the gateway's name (not the local provider with a directory api_base)."""
    video_id = make_video(gateway, key, tmp_path)
    assert len(video_id) == len("video_") + 32  # the gateway's opaque id, not an SDK self-describing one


def test_a_catalogue_name_goes_to_the_gateway_too(gateway: str, key: str, tmp_path: Path) -> None:
    """``-m sora-2`` is sent to the gateway as its name; this gateway does not serve it, and says so."""
    result = runner.invoke(
        app, ["generate", "x", "-m", "sora-2", "-o", str(tmp_path / "o.mp4"), "--api-base", gateway,
              "--api-key", key],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "sora-2" in result.stderr
    assert "local-1" in result.stderr  # the gateway lists what it serves
    assert "OPENAI_API_KEY" not in result.stderr


def test_environment_variables_name_the_gateway(gateway: str, key: str, tmp_path: Path) -> None:
    video_id = make_video(gateway, key, tmp_path)
    env = {"VIDGATE_API_BASE": gateway, "VIDGATE_API_KEY": key}
    got = json.loads(cli("videos", "get", video_id, env=env).stdout)
    assert (got["id"], got["status"], got["model"]) == (video_id, "completed", "local-1")


def test_list_get_wait_download_remix_delete(gateway: str, key: str, tmp_path: Path) -> None:
    first = make_video(gateway, key, tmp_path, "a fox")
    second = make_video(gateway, key, tmp_path, "a hen")
    via = ("--api-base", gateway, "--api-key", key)

    listed = json.loads(cli("videos", "list", *via).stdout)
    assert [v["id"] for v in listed["data"]] == [second, first]
    oldest = json.loads(cli("videos", "list", "--order", "asc", "--limit", "1", *via).stdout)
    assert ([v["id"] for v in oldest["data"]], oldest["has_more"]) == ([first], True)
    table = cli("videos", "list", "--table", *via, env={"COLUMNS": "120"}).stdout
    assert first in table
    assert "completed" in table

    waited = cli("videos", "wait", first, *via)
    assert json.loads(waited.stdout)["status"] == "completed"
    assert "100%" in waited.stderr

    out = tmp_path / "again.mp4"
    assert f"Saved {out}" in cli("videos", "download", first, "-o", str(out), *via).stdout
    assert probe(out).duration == 1.0
    thumb = tmp_path / "thumb.webp"
    cli("videos", "download", first, "--variant", "thumbnail", "-o", str(thumb), *via)
    assert thumb.read_bytes()[8:12] == b"WEBP"

    remixed = cli("videos", "remix", first, "now at night", "--wait", *via)
    remix = json.loads(remixed.stdout)
    assert (remix["remixed_from_video_id"], remix["status"]) == (first, "completed")

    deleted = json.loads(cli("videos", "delete", second, *via).stdout)
    assert deleted == {"id": second, "object": "video.deleted", "deleted": True}
    gone = runner.invoke(app, ["videos", "get", second, *via])
    assert gone.exit_code == 1
    assert "error:" in gone.stderr
    assert second in gone.stderr


def test_another_keys_video_is_not_found(gateway: str, key: str, tmp_path: Path) -> None:
    video_id = make_video(gateway, key, tmp_path)
    reply = httpx.post(
        f"{gateway}/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"}, timeout=10
    )
    other = reply.json()["key"]
    result = runner.invoke(app, ["videos", "get", video_id, "--api-base", gateway, "--api-key", other])
    assert result.exit_code == 1
    assert f"No video found with id '{video_id}'" in result.stderr


def test_api_base_without_a_key_speaks_in_flags(gateway: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDGATE_API_KEY", raising=False)
    result = runner.invoke(app, ["videos", "list", "--api-base", gateway])
    assert result.exit_code == 2
    assert "--api-key" in result.stderr
    assert "VIDGATE_API_KEY" in result.stderr
    assert "api_key=" not in result.stderr


def test_direct_mode_errors_speak_in_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_env(monkeypatch)
    result = runner.invoke(app, ["generate", "x", "-m", "openai/sora-2", "-o", str(tmp_path / "o.mp4")])
    assert result.exit_code == 1
    assert "pass --api-key or set OPENAI_API_KEY" in result.stderr
    assert "api_key=" not in result.stderr
    assert "vidgate.api_key" not in result.stderr


def test_edit_and_extend_an_id_and_an_uploaded_file(gateway: str, key: str, tmp_path: Path) -> None:
    source = make_video(gateway, key, tmp_path, "a kite")
    via = ("--api-base", gateway, "--api-key", key)
    extended = json.loads(
        cli("videos", "extend", source, "it climbs", "--seconds", "2", "--wait", *via).stdout
    )
    assert (extended["status"], extended["seconds"]) == ("completed", "2")
    out = tmp_path / "extended.mp4"
    cli("videos", "download", extended["id"], "-o", str(out), *via)
    assert probe(out).duration == 3.0
    upload = tmp_path / "a-kite.mp4"
    edited = cli("videos", "edit", str(upload), "in the rain", "-m", "local-1", *via)
    video = json.loads(edited.stdout)
    assert (video["seconds"], video["size"]) == ("1", "320x180")
    assert f"(edit of {upload})" in edited.stderr
    refused = runner.invoke(app, ["videos", "edit", str(tmp_path), "x", *via])
    assert refused.exit_code == 1
    assert "video" in refused.stderr


def test_edit_size_reaches_the_gateway(gateway: str, key: str, tmp_path: Path) -> None:
    source = make_video(gateway, key, tmp_path, "a gull")
    via = ("--api-base", gateway, "--api-key", key)
    same = json.loads(cli("videos", "edit", source, "at dusk", "--size", "320x180", *via).stdout)
    assert same["size"] == "320x180"
    refused = runner.invoke(app, ["videos", "edit", source, "upright", "--size", "180x320", *via])
    assert refused.exit_code == 1
    assert "size" in refused.stderr
    assert "'320x180'" in refused.stderr  # what local-1, which cannot reframe, allows
