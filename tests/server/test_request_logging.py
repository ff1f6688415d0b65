"""One JSON log line per request; full request/response logging with secrets and images redacted."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import MASTER, auth, serving
from tests.server.test_videos import png


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "vidgate.access"]


async def test_one_line_per_request_with_id_alias_model_status_and_cost(
    local_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.2")
    caplog.set_level("INFO", logger="vidgate.access")
    async with serving(local_root) as gw:
        key = await gw.new_key(key_alias="team-a")
        caplog.clear()
        reply = await gw.client.post(
            "/v1/videos",
            json={"model": "local-1", "prompt": "p", "seconds": "1", "size": "320x180"},
            headers={**auth(key), "x-request-id": "req-from-client-1"},
        )
        logged = lines(caplog)
    assert len(logged) == 1
    line = logged[0]
    assert line["request_id"] == "req-from-client-1" == reply.headers["x-request-id"]
    assert line["key_alias"] == "team-a"
    assert line["model"] == "local-1"
    assert line["status"] == 200
    assert line["route"] == "/v1/videos"
    assert line["cost"] == 0.1
    assert line["video_id"] == reply.json()["id"]
    assert line["latency_ms"] > 0
    assert "request" not in line  # full logging is off by default


async def test_full_logging_redacts_keys_and_image_bytes(
    local_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.2")
    caplog.set_level("INFO", logger="vidgate.access")
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    async with serving(local_root, request_logging=True) as gw:
        created = await gw.client.post("/key/generate", json={"key_alias": "k"}, headers=auth(MASTER))
        key = created.json()["key"]
        await gw.client.post(
            "/v1/videos",
            json={
                "model": "local-1",
                "prompt": "p",
                "size": "320x180",
                "input_reference": {"image_url": data_url},
            },
            headers={"x-vidgate-api-key": key},
        )
        await gw.client.post(
            "/v1/videos",
            data={"model": "local-1", "prompt": "from a file", "size": "320x180"},
            files={"input_reference": ("f.png", png(), "image/png")},
            headers=auth(key),
        )
    text = caplog.text
    assert MASTER not in text
    assert key not in text
    assert data_url[30:80] not in text
    logged = lines(caplog)
    generate, as_json, as_form = logged[-3:]
    assert generate["request"]["headers"]["authorization"] == "[redacted]"
    assert generate["response"]["body"]["key"] == "[redacted]"
    assert as_json["request"]["headers"]["x-vidgate-api-key"] == "[redacted]"
    assert as_json["request"]["body"]["input_reference"]["image_url"].startswith("[data URL")
    assert as_json["response"]["body"]["object"] == "video"
    assert as_form["request"]["body"]["prompt"] == "from a file"
    assert as_form["request"]["body"]["input_reference"].startswith("[file 'f.png'")


async def test_full_logging_redacts_every_credential_header(
    local_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Proxies and clients carry credentials in more headers than the gateway reads itself."""
    caplog.set_level("INFO", logger="vidgate.access")
    async with serving(local_root, request_logging=True) as gw:
        key = await gw.new_key()
        sent = {
            "proxy-authorization": f"Basic {key}",
            "x-auth-token": "opaque-token-value-1",
            "x-goog-user-project-token": "opaque-token-value-2",
            "x-forwarded-for": "10.0.0.1",
            "x-custom": f"Bearer {key}",
        }
        await gw.client.get("/v1/models", headers={**auth(key), **sent})
    assert key not in caplog.text
    assert "opaque-token-value" not in caplog.text
    headers = lines(caplog)[-1]["request"]["headers"]
    for name in ("proxy-authorization", "x-auth-token", "x-goog-user-project-token", "x-custom"):
        assert headers[name] == "[redacted]", name
    assert headers["x-forwarded-for"] == "10.0.0.1"


async def test_full_logging_redacts_secrets_in_query_strings(
    local_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="vidgate.access")
    async with serving(local_root, request_logging=True) as gw:
        key = await gw.new_key(key_alias="k")
        caplog.clear()
        # Google's clients send the key as ?key= (the Gemini pass-through accepts it).
        polled = await gw.client.get(
            "/gemini/v1beta/models/veo/operations/video_00", params={"key": key, "alt": "json"}
        )
        info = await gw.client.get("/key/info", params={"key": key}, headers=auth(MASTER))
        other = await gw.client.get(
            "/v1/videos", params={"limit": "2", "access_token": "ya29.not-an-sk-token"}, headers=auth(key)
        )
    assert (polled.status_code, info.status_code, other.status_code) == (404, 200, 200)
    text = caplog.text
    assert key not in text
    assert "ya29.not-an-sk-token" not in text
    queries = [line["request"]["query"] for line in lines(caplog)]
    assert queries == ["key=[redacted]&alt=json", "key=[redacted]", "limit=2&access_token=[redacted]"]
