"""Key headers, and every error rendered in OpenAI's envelope with the right status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.server.conftest import MASTER, Served, auth, serving

from vidgate.server.auth import secret_from

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": "Bearer sk-a"}, "sk-a"),
        ({"authorization": "bearer   sk-a "}, "sk-a"),
        ({"x-vidgate-api-key": "sk-b"}, "sk-b"),
        ({"x-litellm-api-key": "Bearer sk-c"}, "sk-c"),
        ({"x-vidgate-api-key": "sk-v", "authorization": "Bearer sk-other"}, "sk-v"),
        ({"authorization": "Bearer "}, None),
        ({}, None),
    ],
)
def test_secret_from_headers(headers: dict[str, str], expected: str | None) -> None:
    assert secret_from(headers) == expected


@pytest.mark.parametrize("header", ["authorization", "x-vidgate-api-key", "x-litellm-api-key"])
async def test_each_key_header_authenticates(served: Served, header: str) -> None:
    key = await served.new_key()
    value = f"Bearer {key}" if header == "authorization" else key
    reply = await served.client.get("/v1/models", headers={header: value})
    assert reply.status_code == 200


async def test_missing_wrong_and_revoked_keys_answer_401(served: Served) -> None:
    missing = await served.client.get("/v1/videos")
    assert missing.status_code == 401
    assert envelope(missing.json())["code"] == "missing_api_key"
    wrong = await served.client.get("/v1/videos", headers=auth("sk-not-a-real-key-123"))
    assert wrong.status_code == 401
    assert envelope(wrong.json())["code"] == "invalid_api_key"
    assert "sk-not-a-real-key-123" not in wrong.text
    key = await served.new_key()
    assert (await served.client.get("/v1/videos", headers=auth(key))).status_code == 200
    await served.client.post("/key/delete", json={"keys": [key]}, headers=auth(MASTER))
    assert (await served.client.get("/v1/videos", headers=auth(key))).status_code == 401


async def test_sdk_sees_authentication_and_not_found_errors(served: Served) -> None:
    with pytest.raises(openai.AuthenticationError):
        await served.sdk("sk-wrong-key-0000000").videos.list()
    key = await served.new_key()
    with pytest.raises(openai.NotFoundError):
        await served.sdk(key).videos.retrieve("video_" + "f" * 32)


async def test_unknown_route_and_wrong_method_use_the_envelope(served: Served) -> None:
    unknown = await served.client.get("/v1/nothing-here")
    assert unknown.status_code == 404
    assert envelope(unknown.json())["code"] == "unknown_url"
    wrong_method = await served.client.put("/v1/videos")
    assert wrong_method.status_code == 405
    assert envelope(wrong_method.json())["type"] == "invalid_request_error"


async def test_an_unexpected_failure_is_a_500_envelope_without_details(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await served.new_key()
    service = served.app.state.vidgate.service

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database exploded: password=hunter2")

    monkeypatch.setattr(service, "list_videos", broken)
    reply = await served.client.get("/v1/videos", headers=auth(key))
    assert reply.status_code == 500
    error = envelope(reply.json())
    assert error["type"] == "server_error"
    assert "hunter2" not in reply.text
    assert reply.headers["x-request-id"]


async def test_rate_limit_answers_429_with_retry_after(served: Served) -> None:
    key = await served.new_key(rpm_limit=1)
    await served.create(key)
    limited = await served.client.post(
        "/v1/videos",
        json={"model": "local-1", "prompt": "p", "seconds": "1", "size": "320x180"},
        headers=auth(key),
    )
    assert limited.status_code == 429
    assert envelope(limited.json())["type"] == "rate_limit_error"
    assert int(limited.headers["retry-after"]) >= 1


async def test_over_budget_answers_429_saying_so(served: Served) -> None:
    key = await served.new_key(max_budget=0.25)  # two 1 s videos at $0.10/s
    await served.create(key)
    await served.create(key)
    over = await served.client.post(
        "/v1/videos",
        json={"model": "local-1", "prompt": "p", "seconds": "1", "size": "320x180"},
        headers=auth(key),
    )
    assert over.status_code == 429
    assert "budget" in envelope(over.json())["message"].lower()


async def test_over_budget_is_not_retried_by_the_official_sdk(served: Served) -> None:
    """The openai package retries every 429 (twice by default) unless told not to: a budget does not
    free itself in a second, so each retry would only count against the key's rate limit again."""
    key = await served.new_key(max_budget=0.05)  # less than one 1 s video at $0.10/s
    sent: list[str] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request.url.path)

    client = openai.AsyncOpenAI(
        base_url="http://gateway.test/v1",
        api_key=key,
        http_client=httpx.AsyncClient(  # type: ignore[arg-type]  # openai types it as httpx2's client
            transport=httpx.ASGITransport(app=served.app),
            base_url="http://gateway.test",
            event_hooks={"request": [count]},
        ),
        max_retries=2,
    )
    with pytest.raises(openai.RateLimitError) as raised:
        await client.videos.create(model="local-1", prompt="p", seconds="1", size="320x180")  # type: ignore[arg-type]
    assert raised.value.response.headers["x-should-retry"] == "false"
    assert sent == ["/v1/videos"]


async def test_a_body_over_the_limit_answers_413(local_root: Path) -> None:
    async with serving(local_root, max_body_bytes=1024) as small:
        key = await small.new_key()
        declared = await small.client.post("/v1/videos", content=b"{" + b" " * 2000 + b"}", headers=auth(key))
        assert declared.status_code == 413
        assert envelope(declared.json())["code"] == "body_too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(4):
                yield b" " * 600

        streamed = await small.client.post("/v1/videos", content=chunks(), headers=auth(key))
        assert streamed.status_code == 413, streamed.text
        assert (await small.client.get("/v1/videos", headers=auth(key))).status_code == 200
