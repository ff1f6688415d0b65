"""Guardrails through the HTTP API: a refusal is a 400 ``content_policy_violation`` naming the guard,
with nothing reserved, charged or sent upstream; post-call guardrails fail a finished job uncharged."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.server.conftest import MASTER, PRICE_PER_SECOND, auth
from tests.support.counting import Counting
from tests.support.guards import guard_plugin
from tests.support.live import live_server
from tests.support.moderation_server import Moderation, moderation_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.openai.emulator import create_app as openai_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

UPSTREAM_KEY = "sk-upstream-guard-test"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Counting]]:
    settings = EmulatorSettings(
        api_key=UPSTREAM_KEY, processing_seconds=0.2, poll_after_ms=50, cache_dir=tmp_path_factory.mktemp("c")
    )
    counting = Counting(openai_emulator(settings))
    with live_server(counting) as url:
        yield url, counting


@pytest.fixture(scope="module")
def moderation() -> Iterator[Moderation]:
    with moderation_server() as state:
        yield state


@pytest.fixture(autouse=True)
def _reset(moderation: Moderation) -> None:
    moderation.requests.clear()
    moderation.flag_images = False
    moderation.fail_with = None


def _config(local_root: Path, emulator_url: str, guardrails: list[dict[str, Any]]) -> Any:
    return parse_config(
        {
            "model_list": [
                {
                    "model_name": "sora-2",
                    "litellm_params": {
                        "model": "openai/sora-2",
                        "allow_retired": True,
                        "api_key": UPSTREAM_KEY,
                        "api_base": f"{emulator_url}/v1",
                    },
                },
                {
                    "model_name": "local-1",
                    "litellm_params": {
                        "model": "local/local-1",
                        "api_base": str(local_root),
                        "output_cost_per_second": PRICE_PER_SECOND,
                    },
                },
            ],
            "general_settings": {"master_key": MASTER},
            "guardrails": guardrails,
        },
        environ={},
    )


@asynccontextmanager
async def _gateway(config: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def _key(client: httpx.AsyncClient, **fields: Any) -> str:
    reply = await client.post("/key/generate", json={"max_budget": 10, **fields}, headers=auth(MASTER))
    assert reply.status_code == 200, reply.text
    secret: str = reply.json()["key"]
    return secret


async def _money(client: httpx.AsyncClient, secret: str) -> tuple[float, float]:
    info = (await client.get("/key/info", headers=auth(secret))).json()["info"]
    return info["spend"], info["reserved"]


SORA = {"model": "sora-2", "seconds": "4", "size": "720x1280"}
NO_BRANDS = {
    "guardrail_name": "no-brands",
    "litellm_params": {"guardrail": "blocklist", "mode": "pre_call", "default_on": True,
                       "blocked_words": ["acme", "globex"]},
}  # fmt: skip


async def test_a_blocked_word_in_any_form_is_refused_before_anything_is_spent(
    local_root: Path, emulator: tuple[str, Counting]
) -> None:
    url, inbox = emulator
    async with _gateway(_config(local_root, url, [NO_BRANDS])) as client:
        key = await _key(client)
        inbox.requests.clear()
        for prompt in (
            "an ACME rocket",
            "an ａｃｍｅ rocket",
            "an а\u200bcme rocket",
            "the g.l.o.b.e.x tower",
        ):
            reply = await client.post("/v1/videos", json={**SORA, "prompt": prompt}, headers=auth(key))
            assert reply.status_code == 400, (prompt, reply.text)
            assert reply.json() == {
                "error": {
                    "message": "Your request was refused by the guardrail 'no-brands': the prompt contains a "
                    "blocked term.",
                    "type": "content_policy_violation",
                    "param": "prompt",
                    "code": "content_policy_violation",
                }
            }
        assert inbox.requests == []  # the provider never heard of them
        assert await _money(client, key) == (0.0, 0.0)
        listed = (await client.get("/v1/videos", headers=auth(key))).json()
        assert listed["data"] == []
        metrics = (await client.get("/metrics", headers=auth(MASTER))).text
        assert (
            'vidgate_guardrail_decisions_total{decision="refused",guardrail="no-brands",mode="pre_call"} 4.0'
            in (metrics)
        )
        fine = await client.post("/v1/videos", json={**SORA, "prompt": "a calm lake"}, headers=auth(key))
        assert fine.status_code == 200, fine.text
        assert ("POST", "/v1/videos") in inbox.requests
        assert await _money(client, key) == (0.0, 0.4)  # sora-2: $0.10/s x 4 s reserved


async def test_moderation_refuses_flagged_text_and_images_and_fails_closed(
    local_root: Path, emulator: tuple[str, Counting], moderation: Moderation
) -> None:
    url, inbox = emulator
    guard = {
        "guardrail_name": "moderation",
        "litellm_params": {
            "guardrail": "openai_moderation",
            "mode": "pre_call",
            "default_on": True,
            "api_base": f"{moderation.url}/v1",
            "api_key": "sk-moderation-key-for-tests",
        },
    }
    async with _gateway(_config(local_root, url, [guard])) as client:
        key = await _key(client)
        inbox.requests.clear()
        reply = await client.post("/v1/videos", json={**SORA, "prompt": "a violent storm"}, headers=auth(key))
        assert reply.status_code == 400
        assert reply.json()["error"]["message"] == (
            "Your request was refused by the guardrail 'moderation': "
            "flagged by content moderation (violence)."
        )
        moderation.flag_images = True
        image = io.BytesIO()
        Image.new("RGB", (320, 180), (200, 40, 40)).save(image, format="PNG")
        with_image = await client.post(
            "/v1/videos",
            data={"model": "local-1", "prompt": "a cat", "seconds": "1", "size": "320x180"},
            files={"input_reference": ("f.png", image.getvalue(), "image/png")},
            headers=auth(key),
        )
        assert with_image.status_code == 400, with_image.text
        sent = moderation.requests[-1][1]["input"]
        assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")
        moderation.flag_images = False
        moderation.fail_with = 503
        down = await client.post("/v1/videos", json={**SORA, "prompt": "a calm lake"}, headers=auth(key))
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "guardrail_unavailable"
        assert inbox.requests == []
        assert await _money(client, key) == (0.0, 0.0)


async def test_keys_opt_in_and_out_by_name(
    local_root: Path, emulator: tuple[str, Counting], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator
    no_fox = {"guardrail_name": "no-fox", "litellm_params": {"guardrail": "no_word", "word": "fox"}}
    with guard_plugin(tmp_path / "site", monkeypatch):
        config = _config(local_root, url, [NO_BRANDS, no_fox])
    async with _gateway(config) as client:
        strict = await _key(client, guardrails=["no-fox"], metadata={"team": "a"})  # LiteLLM's key field
        info = (await client.get("/key/info", headers=auth(strict))).json()["info"]
        assert info["metadata"] == {"team": "a", "guardrails": ["no-fox"]}
        relaxed = await _key(client, metadata={"disable_global_guardrails": True})
        plain = await _key(client)
        body = {"model": "local-1", "seconds": "1", "size": "320x180"}
        fox = await client.post("/v1/videos", json={**body, "prompt": "a red fox"}, headers=auth(strict))
        assert fox.status_code == 400
        assert "'no-fox'" in fox.json()["error"]["message"]
        assert (
            await client.post("/v1/videos", json={**body, "prompt": "a red fox"}, headers=auth(plain))
        ).status_code == 200
        acme = await client.post("/v1/videos", json={**body, "prompt": "an acme fox"}, headers=auth(relaxed))
        assert acme.status_code == 200
        # a guardrail no one configured: a 400 naming it, not a key that silently runs nothing
        master = {"Authorization": f"Bearer {MASTER}"}
        for fields, param in (
            ({"guardrails": ["no-fox", "no-fax"]}, "guardrails[1]"),
            ({"metadata": {"guardrails": ["nofox"]}}, "metadata.guardrails[0]"),
        ):
            typo = await client.post("/key/generate", json=fields, headers=master)
            assert typo.status_code == 400
            error = typo.json()["error"]
            assert (error["param"], error["code"]) == (param, "invalid_value")
            assert "(configured: no-brands, no-fox)" in error["message"]
        fixed = await client.post("/key/update", json={"key": strict, "guardrails": ["nope"]}, headers=master)
        assert fixed.status_code == 400
        info = (await client.get("/key/info", headers=auth(strict))).json()["info"]
        assert info["metadata"]["guardrails"] == ["no-fox"]


async def test_a_post_call_refusal_fails_the_job_and_releases_its_money(
    local_root: Path, emulator: tuple[str, Counting], moderation: Moderation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    url, _ = emulator
    guard = {
        "guardrail_name": "output-check",
        "litellm_params": {
            "guardrail": "openai_moderation",
            "mode": "post_call",
            "default_on": True,
            "api_base": f"{moderation.url}/v1",
        },
    }
    async with _gateway(_config(local_root, url, [guard])) as client:
        key = await _key(client)
        body = {"model": "local-1", "prompt": "a quiet street", "seconds": "1", "size": "320x180"}
        moderation.flag_images = True
        created = await client.post("/v1/videos", json=body, headers=auth(key))
        assert created.status_code == 200, created.text
        assert moderation.requests == []  # nothing checked before the output exists
        video = created.json()
        for _ in range(200):
            video = (await client.get(f"/v1/videos/{video['id']}", headers=auth(key))).json()
            if video["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.05)
        assert video["status"] == "failed"
        assert video["error"]["code"] == "content_policy_violation"
        assert "'output-check'" in video["error"]["message"]
        items = moderation.requests[-1][1]["input"]
        assert items[0] == {"type": "text", "text": "a quiet street"}
        assert items[1]["image_url"]["url"].startswith("data:image/")  # the output's thumbnail
        assert await _money(client, key) == (0.0, 0.0)
        content = await client.get(f"/v1/videos/{video['id']}/content", headers=auth(key))
        assert content.status_code == 404
        moderation.flag_images = False
        fine = (await client.post("/v1/videos", json=body, headers=auth(key))).json()
        for _ in range(200):
            fine = (await client.get(f"/v1/videos/{fine['id']}", headers=auth(key))).json()
            if fine["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.05)
        assert fine["status"] == "completed"
        assert await _money(client, key) == (0.1, 0.0)  # $0.10/s x 1 s, charged once
