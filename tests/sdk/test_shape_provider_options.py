"""OpenRouter's ``provider.options`` in vidgate's own SDK: in direct mode the entry of the model's
provider goes into ``extra_body`` through the adapter's reserved-name check (other providers' entries
are ignored); a gateway gets the field as given."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.sdk.test_proxy import Gateway

from vidgate import Client
from vidgate.errors import BadRequestError


@pytest.fixture(autouse=True)
def _fast_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0")


def test_direct_mode_checks_the_models_providers_options_and_ignores_the_others() -> None:
    with Client() as client:
        video = client.videos.create(
            "local/local-1",
            "a kite",
            seconds="1",
            size="320x180",
            provider={"options": {"fal": {"steps": 30}}},
        )
        assert video.status in ("queued", "in_progress", "completed")
        with pytest.raises(BadRequestError) as reserved:
            client.videos.create(
                "local/local-1", "a kite", provider={"options": {"local": {"durationSeconds": 8}}}
            )
        assert reserved.value.param == "provider.options.local.durationSeconds"
        with pytest.raises(BadRequestError) as shape:
            client.videos.create("local/local-1", "a kite", provider={"options": {"local": 8}})
        assert shape.value.param == "provider.options.local"


def test_a_gateway_gets_the_field_as_given() -> None:
    gateway = Gateway()
    http = httpx.Client(transport=httpx.MockTransport(gateway))
    provider: dict[str, Any] = {"options": {"vertex_ai": {"enhancePrompt": True}}, "sort": "price"}
    with Client(api_key="k", api_base="http://gw:4000", http_client=http, gateway=True) as client:
        client.videos.create("veo", "a fox", provider=provider)
    assert json.loads(gateway.requests[0].content) == {
        "model": "veo",
        "prompt": "a fox",
        "provider": provider,
    }
