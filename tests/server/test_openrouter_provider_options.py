"""``POST /v1/videos`` with OpenRouter's ``provider.options``: the serving provider's entry reaches it in
the body (an ``openai_compatible`` emulator echoes what arrived), other providers' entries do not, and a
reserved name, a field also in ``extra_body`` or a wrong shape is a 400 before any upstream call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, Served, auth
from tests.server.test_openrouter import custom
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.openai_compatible.emulator import CompatOptions
from vidgate.providers.openai_compatible.emulator import create_app as emulator_app


@pytest.fixture(scope="module")
def upstream(render_cache: Path) -> Iterator[tuple[str, Any]]:
    settings = EmulatorSettings(
        api_key=None, processing_seconds=0.3, poll_after_ms=20, cache_dir=render_cache
    )
    app = emulator_app(settings, CompatOptions())
    with live_server(app) as url:
        yield url + "/v1", app


@pytest.fixture
async def gateway(upstream: tuple[str, Any]) -> AsyncIterator[Served]:
    config = {
        "model_list": [
            {
                "model_name": "wan",
                "litellm_params": {
                    "model": "openai_compatible/Wan-AI/Wan2.2-T2V-A14B-Diffusers",
                    "api_base": upstream[0],
                    "output_cost_per_second": 0.05,
                    "sizes": ["320x180"],
                    "seconds": [1, 2],
                },
            }
        ],
        "general_settings": {"master_key": MASTER},
    }
    async with custom(config) as served:
        yield served


def arrived(app: Any, prompt: str) -> list[dict[str, Any]]:
    return [job.extra["fields"] for job in app.state.store.jobs.values() if job.prompt == prompt]


async def create(served: Served, prompt: str, **body: Any) -> httpx.Response:
    return await served.client.post(
        "/v1/videos",
        json={"model": "wan", "prompt": prompt, "seconds": "1", "size": "320x180", **body},
        headers=auth(MASTER),
    )


async def test_the_serving_providers_options_reach_it_and_no_other_providers(
    gateway: Served, upstream: tuple[str, Any]
) -> None:
    reply = await create(
        gateway,
        "a heron, with options",
        provider={
            "options": {
                "openai_compatible": {"num_inference_steps": "12", "guidance_scale": "4.5"},
                "fal": {"enable_safety_checker": "false"},
            },
            "order": ["fal"],  # routing preferences are ignored: the deployment decides
        },
        extra_body={"lora": "ink"},
    )
    assert reply.status_code == 200, reply.text
    assert arrived(upstream[1], "a heron, with options") == [
        {"lora": "ink", "num_inference_steps": "12", "guidance_scale": "4.5"}
    ]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        # a name the gateway validates and prices, through the side door: refused like in extra_body
        (
            {"provider": {"options": {"openai_compatible": {"num_frames": "241"}}}},
            "provider.options.openai_compatible.num_frames",
            "reserved_parameter",
        ),
        (
            {"provider": {"options": {"openai_compatible": {"Seconds": "8"}}}},
            "provider.options.openai_compatible.Seconds",
            "reserved_parameter",
        ),
        # the same field in extra_body and in the options: never a silent pick
        (
            {"extra_body": {"steps": "4"}, "provider": {"options": {"openai_compatible": {"steps": "8"}}}},
            "provider.options.openai_compatible.steps",
            "conflicting_parameters",
        ),
        (
            {"provider": {"options": {"openai_compatible": "steps=8"}}},
            "provider.options.openai_compatible",
            None,
        ),
        ({"provider": "openai_compatible"}, "provider", "invalid_type"),
    ],
)
async def test_refused_before_any_upstream_call(
    gateway: Served, upstream: tuple[str, Any], body: dict[str, Any], param: str, code: str | None
) -> None:
    prompt = f"refused {param} {code}"
    reply = await create(gateway, prompt, **body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert arrived(upstream[1], prompt) == []
