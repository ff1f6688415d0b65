"""``POST /v1/videos`` in OpenRouter's shape (as LiteLLM 1.110.2 and OpenRouter clients send it; LiteLLM is
not installed here, so httpx sends its JSON), as form fields too, and ``GET /v1/videos/models``."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, Served, auth
from tests.server.test_videos import png

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

PNG_URL = "data:image/png;base64," + base64.b64encode(png()).decode()
SECRET = "whsec_" + base64.b64encode(b"sixteen byte key").decode()


def frame(url: str, frame_type: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "frame_type": frame_type}


@asynccontextmanager
async def custom(data: dict[str, Any]) -> AsyncIterator[Served]:
    stores = MemoryStores()
    app = create_app(parse_config(data, environ={}), stores=stores, run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Served(app=app, client=client, stores=stores)


def local(local_root: Path, **params: Any) -> dict[str, Any]:
    return {
        "model_name": "local-1",
        "litellm_params": {"model": "local/local-1", "api_base": str(local_root), **params},
    }


async def post(served: Served, body: dict[str, Any]) -> httpx.Response:
    return await served.client.post(
        "/v1/videos", json={"model": "local-1", "prompt": "a red fox", **body}, headers=auth(MASTER)
    )


def error_of(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 400, reply.text
    error: dict[str, Any] = reply.json()["error"]
    return error


async def test_duration_resolution_and_aspect_ratio_pick_seconds_and_size(served: Served) -> None:
    reply = await post(served, {"duration": 2, "resolution": "360p", "aspect_ratio": "9:16"})
    assert reply.status_code == 200, reply.text
    video = reply.json()
    assert (video["seconds"], video["size"]) == ("2", "360x640")
    assert video["usage"]["cost"] == pytest.approx(0.2)  # 2 s x $0.1 (the deployment's price)
    assert "x-vidgate-dropped-params" not in reply.headers


async def test_the_same_fields_as_form_fields(served: Served) -> None:
    reply = await served.client.post(
        "/v1/videos",
        data={"model": "local-1", "prompt": "a fox", "duration": "3", "resolution": "180p"},
        headers=auth(MASTER),
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["seconds"], reply.json()["size"]) == ("3", "320x180")
    form_frames = await served.client.post(
        "/v1/videos",
        data={
            "model": "local-1",
            "prompt": "a fox",
            "size": "320x180",
            "seconds": "1",
            "frame_images[0][type]": "image_url",
            "frame_images[0][image_url][url]": PNG_URL,
            "frame_images[0][frame_type]": "first_frame",
        },
        headers=auth(MASTER),
    )
    assert form_frames.status_code == 200, form_frames.text


async def test_a_first_frame_is_the_input_reference(served: Served) -> None:
    reply = await post(
        served, {"seconds": "1", "size": "320x180", "frame_images": [frame(PNG_URL, "first_frame")]}
    )
    assert reply.status_code == 200, reply.text
    bad = error_of(
        await post(served, {"frame_images": [frame("data:image/png;base64,bm90IGFuIGltYWdl", "first_frame")]})
    )
    assert bad["param"] == "input_reference"  # the bytes are checked as any first frame is


async def test_what_the_model_cannot_honour_is_a_400_naming_it(served: Served) -> None:
    both = [frame(PNG_URL, "first_frame"), frame(PNG_URL, "last_frame")]
    error = error_of(await post(served, {"frame_images": both}))
    assert (error["param"], error["code"]) == ("frame_images", "unsupported_parameter")
    refs = [{"type": "image_url", "image_url": {"url": PNG_URL}}]
    assert error_of(await post(served, {"input_references": refs}))["param"] == "input_references"
    assert error_of(await post(served, {"generate_audio": True}))["param"] == "generate_audio"
    error = error_of(await post(served, {"resolution": "4k"}))
    assert error["message"] == (
        "Invalid value: '4k'. Supported values are: '180p', '360p', '480p', '720p', and '1080p'."
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"seconds": "4", "duration": 8}, ("seconds", "duration")),
        ({"size": "1280x720", "aspect_ratio": "9:16"}, ("size", "aspect_ratio")),
        ({"size": "1280x720", "resolution": "1080p"}, ("size", "resolution")),
        (
            {"input_reference": {"image_url": PNG_URL}, "frame_images": [frame(PNG_URL, "first_frame")]},
            ("input_reference", "frame_images"),
        ),
        (
            {
                "frame_images": [frame(PNG_URL, "first_frame")],
                "input_references": [{"image_url": {"url": PNG_URL}}],
            },
            ("frame_images", "input_references"),
        ),
        (
            {"frame_images": [frame(PNG_URL, "last_frame"), frame(PNG_URL, "last_frame")]},
            ("frame_images[1].frame_type",),
        ),
    ],
)
async def test_conflicts_are_400s_naming_both_params(
    served: Served, body: dict[str, Any], named: tuple[str, ...]
) -> None:
    error = error_of(await post(served, body))
    for name in named:
        assert f"'{name}'" in error["message"]


async def test_drop_params_drops_and_says_which_in_a_header(local_root: Path) -> None:
    data = {
        "model_list": [local(local_root)],
        "general_settings": {"master_key": MASTER},
        "litellm_settings": {"drop_params": True},
    }
    async with custom(data) as served:
        reply = await post(served, {"seconds": "1", "size": "320x180", "generate_audio": False, "seed": 3})
        assert reply.status_code == 200, reply.text
        assert reply.headers["x-vidgate-dropped-params"] == "generate_audio"
        error = error_of(await post(served, {"resolution": "4k"}))  # a value is never dropped
        assert error["param"] == "resolution"


async def test_callback_url_needs_a_signing_secret_and_a_public_host(
    served: Served, local_root: Path
) -> None:
    error = error_of(await post(served, {"callback_url": "https://hooks.example.com/v"}))
    assert (error["param"], error["code"]) == ("callback_url", "callbacks_not_enabled")
    data = {
        "model_list": [local(local_root)],
        "general_settings": {"master_key": MASTER, "webhook_secret": SECRET},
    }
    async with custom(data) as signed:
        error = error_of(await post(signed, {"callback_url": "http://169.254.169.254/latest"}))
        assert (error["param"], error["code"]) == ("callback_url", "invalid_callback_url")
        ok = await post(
            signed, {"seconds": "1", "size": "320x180", "callback_url": "https://hooks.example.com/v"}
        )
        assert ok.status_code == 200, ok.text
        job = await signed.stores.jobs.get(ok.json()["id"])
        assert job is not None
        assert job.callback_url == "https://hooks.example.com/v"


async def test_videos_models_lists_the_keys_models_with_their_capabilities(served: Served) -> None:
    videos_models = await served.client.get("/v1/videos/models", headers=auth(MASTER))
    assert videos_models.status_code == 200
    models = await served.client.get("/v1/models", headers=auth(MASTER))
    assert videos_models.json() == models.json()
    by_id = {m["id"]: m for m in videos_models.json()["data"]}
    assert set(by_id) == {"local-1", "local-free"}
    one = by_id["local-1"]
    assert one["supported_sizes"] == [
        "1280x720",
        "720x1280",
        "1920x1080",
        "1080x1920",
        "640x360",
        "360x640",
        "320x180",
        "480x480",
    ]
    assert one["supported_resolutions"] == ["180p", "360p", "480p", "720p", "1080p"]
    assert one["supported_aspect_ratios"] == ["16:9", "9:16", "1:1"]
    assert one["supported_durations"] == [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20]
    assert one["pricing"]["per_second"]["720p"] == "0.1"  # the deployment's output_cost_per_second
    assert by_id["local-free"]["pricing"]["per_second"]["720p"] == "0"  # the catalogue row's 0.0
    assert one["pricing_skus"]["per-video-second-1080p"] == "0.1"
    key = await served.new_key(models=["local-free"])
    limited = await served.client.get("/v1/videos/models", headers=auth(key))
    assert [m["id"] for m in limited.json()["data"]] == ["local-free"]
    assert (await served.client.get("/v1/videos/models")).status_code == 401


async def test_a_video_id_route_still_answers_beside_videos_models(served: Served) -> None:
    missing = await served.client.get("/v1/videos/video_" + "0" * 32, headers=auth(MASTER))
    assert missing.status_code == 404
    deleted = await served.client.delete("/v1/videos/models", headers=auth(MASTER))
    assert deleted.status_code == 404  # DELETE still reaches the video route: no video 'models'


@pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
async def test_the_official_openai_sdk_sends_them_through_extra_body(served: Served) -> None:
    """openai's videos.create sends multipart: extra_body's lists of objects arrive flattened with
    brackets (``frame_images[][image_url][url]``), and read as the JSON body would."""
    video = await served.sdk(MASTER).videos.create(
        model="local-1",
        prompt="a fox",
        extra_body={
            "duration": 2,
            "resolution": "360p",
            "aspect_ratio": "16:9",
            "frame_images": [frame(PNG_URL, "first_frame")],
        },
    )
    assert (video.seconds, video.size) == ("2", "640x360")
