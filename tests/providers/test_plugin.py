"""The one-folder proof: ``tests/fixtures/acme_video`` (a provider package outside ``src/``) gets config
validation, the SDK, the gateway, the catalogue, pricing, lifecycle, ``vidgate models`` and
``vidgate emulate`` with no change anywhere in vidgate.

It is installed the way ``pip`` would: a ``*.dist-info`` whose ``entry_points.txt`` registers
``acme = acme_video:SPEC`` in the ``vidgate.providers`` group, found on ``sys.path`` by
``importlib.metadata``. Prices below are written out by hand from ``acme_video/models.yaml``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live import live_server
from tests.support.media import probe
from typer.testing import CliRunner

from vidgate import Client
from vidgate.cli.emulate import emulated, env_hint
from vidgate.cli.main import app as cli
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.providers import registry
from vidgate.providers.catalogue import find_model
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

PLUGIN_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "acme_video"
MASTER = "sk-plugin-test-master"
KEY = "acme-secret"


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    dist = tmp_path / "site" / "acme_video-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-video\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[vidgate.providers]\nacme = acme_video:SPEC\n")
    monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry.reset()
    yield
    registry.reset()
    for name in [m for m in sys.modules if m == "acme_video" or m.startswith("acme_video.")]:
        del sys.modules[name]


@pytest.fixture
def emulator(acme: None, render_cache: Path) -> Iterator[str]:
    spec = registry.get_spec("acme")
    factory = spec.emulator_factory()
    assert factory is not None
    with live_server(factory(EmulatorSettings(api_key=KEY, cache_dir=render_cache, poll_after_ms=20))) as url:
        yield url


# ---- registry, catalogue, config -------------------------------------------------------------------


@pytest.mark.usefixtures("acme")
def test_registered_like_any_provider() -> None:
    assert "acme" in registry.provider_names()
    assert registry.get_spec("acme_video").name == "acme"  # its alias
    assert registry.split_model("acme/acme-1") == ("acme", "acme-1")
    row = find_model("acme/acme-1")
    assert row is not None
    assert row.price_per_video == row.price_per_input["image"] / 2  # 0.01 and 0.02 in models.yaml
    assert "acme" in emulated()
    hint = env_hint(registry.get_spec("acme"), "http://h:1", "k")
    assert hint == ["ACME_API_BASE=http://h:1", "ACME_API_KEY=k"]


@pytest.mark.usefixtures("acme")
def test_config_is_validated_by_the_plugins_own_model() -> None:
    entry = {"model_name": "acme", "litellm_params": {"model": "acme/acme-1", "acme_region": "us-2"}}
    config = parse_config({"model_list": [entry]}, environ={"ACME_API_KEY": "from-env"})
    creds = config.deployments[0].credentials
    assert (creds.api_key, creds.extra_headers["x-acme-region"]) == ("from-env", "us-2")

    with pytest.raises(ConfigError) as missing:
        parse_config({"model_list": [entry]}, environ={})
    assert str(missing.value) == (
        "model_list[0].litellm_params.api_key: the acme provider needs an Acme key (or set ACME_API_KEY)"
    )
    # A setting another provider has is still unknown to Acme: its own model lists what it knows.
    foreign = {"model_name": "acme", "litellm_params": {"model": "acme/acme-1", "vertex_project": "p"}}
    with pytest.raises(ConfigError) as unknown:
        parse_config({"model_list": [foreign]}, environ={"ACME_API_KEY": "k"})
    assert str(unknown.value) == (
        "model_list[0].litellm_params.vertex_project: unknown setting for provider 'acme' "
        "(known: api_key, api_base, acme_region)"
    )
    from acme_video.config import AcmeConfig

    assert AcmeConfig.secret_fields() == frozenset({"api_key"})


@pytest.mark.usefixtures("acme")
def test_vidgate_models_lists_the_plugin_and_active_leaves_out_the_retired() -> None:
    every = CliRunner().invoke(cli, ["models", "--provider", "acme", "--json"])
    assert every.exit_code == 0, every.output
    rows = {row["id"]: row for row in json.loads(every.output)["data"]}
    assert set(rows) == {"acme/acme-1", "acme/acme-tokens", "acme/acme-0"}
    assert rows["acme/acme-0"]["lifecycle"] == "retired"
    assert rows["acme/acme-0"]["successor"] == "acme/acme-1"
    assert rows["acme/acme-tokens"]["price_per_output_token"] == 0.00001
    active = CliRunner().invoke(cli, ["models", "--provider", "acme", "--active", "--json"])
    assert {row["id"] for row in json.loads(active.output)["data"]} == {"acme/acme-1", "acme/acme-tokens"}
    table = CliRunner().invoke(cli, ["models", "--provider", "acme"], env={"COLUMNS": "250"})
    assert "$10.00/1M output tokens" in table.output
    assert "+$0.02/input image" in table.output


# ---- SDK -------------------------------------------------------------------------------------------


def test_sdk_creates_polls_and_downloads(emulator: str) -> None:
    with Client(api_key=KEY, api_base=emulator) as client:
        video = client.videos.create("acme/acme-1", "a red fox", seconds="2", size="320x180")
        done = client.videos.wait(video.id, timeout=30, poll_interval=0.01)
        assert done.status == "completed"
        data = client.videos.content(video.id)
    assert probe(data.content).width == 320


def test_sdk_missing_key_names_the_plugins_env_var(acme: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidgate.errors import AuthenticationError

    monkeypatch.delenv("ACME_API_KEY", raising=False)
    with Client() as client, pytest.raises(AuthenticationError, match="ACME_API_KEY"):
        client.videos.create("acme/acme-1", "a red fox", seconds="2")


# ---- gateway ---------------------------------------------------------------------------------------


def _config(url: str) -> Any:
    def entry(name: str, model: str, **extra: Any) -> dict[str, Any]:
        params = {"model": f"acme/{model}", "api_key": KEY, "api_base": url, **extra}
        return {"model_name": name, "litellm_params": params}

    return parse_config(
        {
            "model_list": [
                entry("acme-1", "acme-1"),
                entry("acme-tokens", "acme-tokens"),
                entry("acme-0", "acme-0"),
                entry("acme-0-kept", "acme-0", allow_retired=True),
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )


@pytest.fixture
async def gateway(emulator: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_config(emulator), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _new_key(client: httpx.AsyncClient) -> str:
    reply = await client.post("/key/generate", json={}, headers=_auth(MASTER))
    assert reply.status_code == 200, reply.text
    return str(reply.json()["key"])


async def _spend(client: httpx.AsyncClient, key: str) -> tuple[float, int]:
    info = await client.get("/key/info", params={"key": key}, headers=_auth(MASTER))
    logs = await client.get("/spend/logs", headers=_auth(MASTER))
    return info.json()["info"]["spend"], len(logs.json())


async def _run(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await client.post("/v1/videos", json=body, headers=_auth(key))
    assert reply.status_code == 200, reply.text
    video: dict[str, Any] = reply.json()
    for _ in range(200):
        polled = await client.get(f"/v1/videos/{video['id']}", headers=_auth(key))
        video = polled.json()
        if video["status"] in ("completed", "failed"):
            return video
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish within 200 polls")


async def test_gateway_reserves_the_bound_and_settles_reported_tokens(gateway: httpx.AsyncClient) -> None:
    key = await _new_key(gateway)
    body = {"model": "acme-tokens", "prompt": "a red fox", "seconds": "2", "size": "320x180"}
    reply = await gateway.post("/v1/videos", json=body, headers=_auth(key))
    assert reply.status_code == 200, reply.text
    # Reserved: 2500 tokens/s x 2 s = 5000 tokens x $0.00001 = $0.05.
    assert reply.json()["usage"]["cost"] == 0.05
    done = await _run(gateway, key, body)
    assert done["status"] == "completed"
    # The emulator reports 1000 tokens/s x 2 s = 2000 tokens: $0.02.
    assert done["usage"]["cost"] == 0.02
    assert not done["usage"]["cost_is_estimate"]
    content = await gateway.get(f"/v1/videos/{done['id']}/content", headers=_auth(key))
    assert content.status_code == 200
    assert probe(content.content).width == 320


async def test_gateway_prices_per_second_input_and_flat(gateway: httpx.AsyncClient) -> None:
    key = await _new_key(gateway)
    body = {"model": "acme-1", "prompt": "a red fox", "seconds": "2", "size": "320x180"}
    done = await _run(gateway, key, body)
    # $0.05/s x 2 s + $0.01 per video = $0.11.
    assert done["usage"]["cost"] == 0.11
    spend, logs = await _spend(gateway, key)
    assert (spend, logs) == (0.11, 1)


async def test_gateway_refuses_a_retired_model_unless_kept(gateway: httpx.AsyncClient) -> None:
    key = await _new_key(gateway)
    body = {"model": "acme-0", "prompt": "a red fox", "seconds": "1", "size": "320x180"}
    reply = await gateway.post("/v1/videos", json=body, headers=_auth(key))
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["code"], error["param"]) == ("model_retired", "model")
    assert error["message"] == (
        "Model 'acme-0' (acme/acme-0) was retired on 2025-06-01. Use 'acme/acme-1' instead."
    )
    kept = await _run(gateway, key, {**body, "model": "acme-0-kept"})
    assert kept["status"] == "completed"
