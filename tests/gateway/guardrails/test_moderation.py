"""The openai_moderation guardrail against a real HTTP server speaking OpenAI's moderation API."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from tests.support.moderation_server import Moderation, moderation_server

from vidgate.gateway.guardrails.base import GuardInput
from vidgate.gateway.guardrails.moderation import ModerationError, build
from vidgate.types import ImageInput


@pytest.fixture(scope="module")
def server() -> Iterator[Moderation]:
    with moderation_server() as state:
        yield state


@pytest.fixture(autouse=True)
def _reset(server: Moderation) -> None:
    server.requests.clear()
    server.flag_images = False
    server.fail_with = None


def _subject(*texts: str, images: tuple[ImageInput, ...] = ()) -> GuardInput:
    return GuardInput(
        mode="pre_call",
        model="m",
        texts=tuple(("prompt", t) for t in texts),
        images=tuple(("input_reference", i) for i in images),
    )


async def test_text_is_sent_in_openais_shape_and_a_flag_refuses(server: Moderation) -> None:
    guard = build({"api_base": f"{server.url}/v1", "api_key": "sk-moderation-secret"})
    try:
        verdict = await guard.check(_subject("a violent storm"))
        assert (verdict.allowed, verdict.param) == (False, "prompt")
        assert verdict.reason == "flagged by content moderation (violence)"
        headers, body = server.requests[0]
        assert headers["authorization"] == "Bearer sk-moderation-secret"
        assert body == {
            "model": "omni-moderation-latest",
            "input": [{"type": "text", "text": "a violent storm"}],
        }
        assert (await guard.check(_subject("a calm lake"))).allowed
    finally:
        await guard.aclose()


async def test_images_go_as_data_urls_one_per_request(server: Moderation) -> None:
    guard = build({"api_base": f"{server.url}/v1", "model": "self-hosted-mod"})
    first = ImageInput(data=b"\x89PNG-first", mime_type="image/png")
    second = ImageInput(url="https://images.example/b.jpg")
    by_id = ImageInput(file_id="file-abc")  # nothing the endpoint can fetch: not sent
    try:
        assert (await guard.check(_subject("a cat", images=(first, second, by_id)))).allowed
        bodies = [body for _, body in server.requests]
        encoded = base64.b64encode(b"\x89PNG-first").decode()
        assert bodies == [
            {
                "model": "self-hosted-mod",
                "input": [
                    {"type": "text", "text": "a cat"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
                ],
            },
            {
                "model": "self-hosted-mod",
                "input": [{"type": "image_url", "image_url": {"url": "https://images.example/b.jpg"}}],
            },
        ]
        assert "authorization" not in server.requests[0][0]  # no api_key: no header
        server.flag_images = True
        verdict = await guard.check(_subject("a cat", images=(first,)))
        assert (verdict.allowed, verdict.reason) == (False, "flagged by content moderation (sexual)")
    finally:
        await guard.aclose()


async def test_only_the_configured_categories_refuse(server: Moderation) -> None:
    guard = build({"api_base": f"{server.url}/v1", "categories": ["sexual"]})
    try:
        assert (await guard.check(_subject("a violent storm"))).allowed
    finally:
        await guard.aclose()


async def test_an_error_answer_raises(server: Moderation) -> None:
    guard = build({"api_base": f"{server.url}/v1"})
    server.fail_with = 500
    try:
        with pytest.raises(ModerationError, match="moderation endpoint answered 500"):
            await guard.check(_subject("a cat"))
    finally:
        await guard.aclose()
