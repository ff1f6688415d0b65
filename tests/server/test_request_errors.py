"""Error polish on the gateway: a non-image upload says so, a size mismatch names both sizes, every
missing parameter is reported at once, and model_not_found lists the models the key may use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from tests.server.conftest import MASTER, Served, auth
from tests.support.images import image_bytes

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

BODY = {"model": "local-1", "prompt": "a fox", "seconds": "1", "size": "320x180"}


async def test_a_non_image_input_reference_says_what_it_is(served: Served) -> None:
    for content, what in (
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "it looks like an MP4/MOV video"),
        (b"name,size\ncat,3\n", "it looks like text"),
    ):
        reply = await served.client.post(
            "/v1/videos",
            data=BODY,
            files={"input_reference": ("f.png", content, "image/png")},
            headers=auth(MASTER),
        )
        assert reply.status_code == 400, reply.text
        error = reply.json()["error"]
        assert error["param"] == "input_reference"
        assert error["code"] == "invalid_image_format"
        assert error["message"] == (
            f"Invalid 'input_reference': not a decodable image ({what}); expected a PNG, JPEG or WebP image."
        )
        assert "BytesIO" not in error["message"]


async def test_model_not_found_lists_the_models_the_key_may_use(served: Served) -> None:
    key = await served.new_key(models=["local-free"])
    reply = await served.client.post("/v1/videos", json={**BODY, "model": "sora-2"}, headers=auth(key))
    assert reply.status_code == 404
    assert reply.json()["error"]["message"] == (
        "The model 'sora-2' does not exist or you do not have access to it. "
        "Models available to this key: local-free."
    )


async def _post(model_list: list[dict[str, Any]], **kwargs: Any) -> httpx.Response:
    config = parse_config({"model_list": model_list, "general_settings": {"master_key": MASTER}}, environ={})
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            return await client.post("/v1/videos", headers=auth(MASTER), **kwargs)


async def test_every_missing_parameter_is_reported_at_once() -> None:
    """No model to default to and no prompt: both in one answer, not one per round trip."""
    reply = await _post([], json={"seconds": "4"})
    assert reply.status_code == 400
    assert reply.json()["error"] == {
        "message": "Missing required parameters: 'model', 'prompt'.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "missing_required_parameter",
    }


async def test_an_image_of_another_size_names_both_sizes(tmp_path: Path) -> None:
    """Sora needs the first frame at exactly the video's size: refused before any provider call (the
    deployment's address is closed; reaching it would be a 5xx, not this 400)."""
    sora = {
        "model_name": "sora-2",
        "litellm_params": {"model": "openai/sora-2", "api_key": "sk-x", "api_base": "http://127.0.0.1:9/v1"},
    }
    image = ("frame.png", image_bytes(640, 360, "png"), "image/png")
    reply = await _post(
        [sora], data={"model": "sora-2", "prompt": "p", "size": "1280x720"}, files={"input_reference": image}
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["param"], error["code"]) == ("input_reference", "image_size_mismatch")
    assert error["message"].startswith(
        "Invalid 'input_reference': the image is 640x360 but the requested size is 1280x720;"
    )
