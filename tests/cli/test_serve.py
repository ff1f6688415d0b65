"""``vidgate serve``: the no-argument default (local models, generated master key printed once), a
config file, and a wrong config stopping start-up with the path of the problem."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from tests.support.cli import VIDGATE, free_port
from tests.support.live import raw_exchange
from typer.testing import CliRunner

from vidgate.cli.main import app
from vidgate.cli.serve import database_location, log_config

runner = CliRunner()


def _wait_ready(url: str) -> None:
    """Until the served gateway answers its readiness check (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health/readiness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} was not ready within 30 s")


def test_no_arguments_serves_local_models_with_a_printed_master_key(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VIDGATE_LOCAL_DIR": str(tmp_path / "local")}
    env.pop("VIDGATE_MASTER_KEY", None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(VIDGATE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        match = re.search(r"(sk-\S+)", first)
        assert match, first
        master = match.group(1)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url)
        models = httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {master}"})
        assert models.status_code == 200
        assert {"local-1", "local/local-1"} <= {m["id"] for m in models.json()["data"]}
        assert httpx.get(url + "/v1/models", headers={"Authorization": "Bearer sk-guess"}).status_code == 401
        assert (tmp_path / "vidgate.db").exists()  # the default SQLite file, in the working directory
        # what uvicorn's parser refuses is answered by vidgate's protocol, in the API's JSON envelope
        status, _, body = raw_exchange(url, b"GET /v1/videos/\xff HTTP/1.1\r\nHost: gw\r\n\r\n")
        assert (status, orjson.loads(body)["error"]["code"]) == (
            "HTTP/1.1 400 Bad Request",
            "invalid_http_request",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    rest = proc.stdout.read().decode() if proc.stdout else ""
    assert master not in rest  # printed once


def test_a_wrong_config_stops_start_up_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  - model_name: x\n    litellm_params:\n      model: foo/bar\n")
    result = runner.invoke(app, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "model_list[0].litellm_params.model" in result.output
    assert "unknown provider 'foo'" in result.output
    missing = runner.invoke(app, ["serve", "--config", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 2
    assert "absent.yaml" in missing.output


def test_access_lines_go_to_their_own_logger_as_bare_json() -> None:
    config = log_config("info")
    assert config["loggers"]["vidgate.access"]["handlers"] == ["vidgate_access"]
    assert config["formatters"]["json_line"] == {"format": "%(message)s"}


def test_a_busy_port_stops_start_up_before_the_banner_and_the_master_key() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 2
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pick another with --port N" in result.stderr
    assert "Master key" not in result.output
    assert "sk-" not in result.output


def test_start_up_prints_the_database_path_and_the_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: started.append(target))
    monkeypatch.setenv("VIDGATE_CONFIG", "")  # serve sets it for its workers; restored after the test
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: local/local-1, tpm: 30}\n"
        "litellm_settings: {modify_params: true}\n"
        f"general_settings: {{master_key: sk-1234, database_url: 'sqlite:///{tmp_path}/data/v.db'}}\n"
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve", "--config", str(config), "--port", str(free_port())])
    assert result.exit_code == 0, result.output
    assert started == ["vidgate.server.app:app_from_env"]
    assert f"database: SQLite file {tmp_path / 'data' / 'v.db'}" in result.stdout
    assert (
        "warning: these LiteLLM settings are not implemented by vidgate and have no effect: "
        "model_list[0].litellm_params.tpm, litellm_settings.modify_params"
    ) in result.stderr
    assert "WARNING: the master key is only 7 characters long" in result.stderr


def test_database_location() -> None:
    assert database_location("sqlite:////var/lib/v.db") == "SQLite file /var/lib/v.db"
    assert database_location("sqlite://") == "SQLite in memory (nothing is kept after exit)"
    assert database_location("postgresql://u:secret@db:5432/v") == "postgresql://db:5432/v"


@pytest.mark.parametrize(
    ("trusted", "scheme"),
    [(None, "http"), ("127.0.0.1", "https")],
    ids=["headers-ignored", "proxy-trusted"],
)
def test_forwarded_headers_count_only_from_the_proxies_named(
    tmp_path: Path, trusted: str | None, scheme: str
) -> None:
    """A trailing-slash redirect behind a TLS proxy keeps https only when that proxy is trusted."""
    port = free_port()
    env = {**os.environ, "VIDGATE_LOCAL_DIR": str(tmp_path / "local")}
    env.pop("FORWARDED_ALLOW_IPS", None)
    args = [str(VIDGATE), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if trusted is not None:
        args += ["--forwarded-allow-ips", trusted]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url)
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        reply = httpx.get(url + "/v1/videos/", headers=forwarded)
        assert reply.status_code == 307
        assert reply.headers["location"] == f"{scheme}://127.0.0.1:{port}/v1/videos"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
