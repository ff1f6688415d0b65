"""Issue 7 item 6: operator details (deployment id, the tail of the operator's key, the upstream URL and
its ``?key=``) never reach a caller; the caller gets a generic message with the request id, and the
operator's log has the detail, redacted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.server.redaction import redact_detail
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy

MASTER = "sk-exposure-master-0000"
OPERATOR_KEY = "sk-proj-operatorsecretwxyz"
ECHO = (
    "Incorrect API key provided: sk-proj-****wxyz. You can find your API key at https://platform.openai.com."
)
GEMINI_BASE = "https://gen.test/root?key=AIzaOperatorSecret123456"


def _upstream(request: httpx.Request) -> httpx.Response:
    if request.url.host == "gen.test":
        raise httpx.ConnectError(f"connection refused: {request.url}", request=request)
    if request.url.host == "boom.test":
        return httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})
    return httpx.Response(401, json={"error": {"message": ECHO, "type": "invalid_request_error"}})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    entries: list[dict[str, Any]] = [
        {
            "model_name": "sora-2",
            "litellm_params": {"model": "openai/sora-2", "allow_retired": True, "api_key": OPERATOR_KEY},
            "model_info": {"id": "dep-openai-secret-id"},
        },
        {
            "model_name": "sora-boom",
            "litellm_params": {
                "model": "openai/sora-2",
                "allow_retired": True,
                "api_key": OPERATOR_KEY,
                "api_base": "https://boom.test/v1",
            },
        },
        {
            "model_name": "veo",
            "litellm_params": {
                "model": "gemini/veo-3.0-fast-generate-001",
                "allow_retired": True,
                "api_key": "g-key",
                "api_base": GEMINI_BASE,
            },
            "model_info": {"id": "dep-gemini-secret-id"},
        },
    ]
    config = parse_config({"model_list": entries, "general_settings": {"master_key": MASTER}}, environ={})
    runner = AsyncRunner(httpx.AsyncClient(transport=httpx.MockTransport(_upstream)), retry=RetryPolicy(0))
    app = create_app(config, stores=MemoryStores(), runner=runner, run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http
    await runner.aclose()


def _no_operator_details(text: str) -> None:
    for secret in ("dep-openai-secret-id", "dep-gemini-secret-id", "wxyz", "gen.test", "AIza", "key="):
        assert secret not in text, secret


async def test_a_provider_refusing_the_gateways_key_is_generic_for_the_caller(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)  # every logger: the gateway's own warnings are redacted too
    reply = await client.post(
        "/v1/videos", json={"model": "sora-2", "prompt": "x"}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    assert reply.status_code == 502
    error = reply.json()["error"]
    assert error["code"] == "upstream_authentication_failed"
    assert "gateway's credentials" in error["message"]
    assert reply.headers["x-request-id"] in error["message"]
    _no_operator_details(reply.text)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert reply.headers["x-request-id"] in logged
    assert "dep-openai-secret-id" in logged  # the operator's own log names the deployment
    assert "wxyz" not in logged  # but never the key


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/videos", {"model": "veo", "prompt": "x"}),
        ("/gemini/v1beta/models/veo:predictLongRunning", {"instances": [{"prompt": "x"}]}),
    ],
)
async def test_a_connection_error_never_shows_the_upstream_url(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str, body: dict[str, Any]
) -> None:
    caplog.set_level(logging.ERROR, logger="vidgate.server")
    reply = await client.post(path, json=body, headers={"Authorization": f"Bearer {MASTER}"})
    assert reply.status_code == 502
    assert reply.headers["x-request-id"] in reply.json()["error"]["message"]
    _no_operator_details(reply.text)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "gen.test" in logged  # the operator sees where it failed
    assert "AIzaOperatorSecret" not in logged


async def test_an_unknown_outcome_tells_the_caller_what_happens_to_the_job(client: httpx.AsyncClient) -> None:
    """A 500 on create: the job may exist upstream, so it is looked for and charged if found; the caller
    is told that, not that its reservation was released."""
    auth = {"Authorization": f"Bearer {MASTER}"}
    reply = await client.post("/v1/videos", json={"model": "sora-boom", "prompt": "x"}, headers=auth)
    assert reply.status_code == 502
    error = reply.json()["error"]
    assert error["code"] == "upstream_outcome_unknown"
    assert "if found, the video appears in your list and is charged as usual" in error["message"]
    assert "released" not in error["message"]
    listed = (await client.get("/v1/videos", headers=auth)).json()["data"]
    assert [v["status"] for v in listed] == ["queued"]  # its write-ahead record, left to the poller


def test_redaction_removes_key_material() -> None:
    text = redact_detail(f"{ECHO} POST {GEMINI_BASE}/v1beta ... Bearer ya29.token-value sk-abc123456789")
    assert "wxyz" not in text
    assert "AIza" not in text
    assert "ya29.token" not in text
    assert "sk-abc" not in text
