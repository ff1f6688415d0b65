"""``POST /provider_callbacks/{id}``: unauthenticated, so the delivery is read only up to 4 MiB."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.server.conftest import Served

from vidgate.server.routes.provider_callbacks import MAX_CALLBACK_BYTES

UNKNOWN = "/provider_callbacks/video_" + "0" * 32 + "?token=guessed"


async def test_a_small_delivery_for_no_known_job_is_a_404(served: Served) -> None:
    reply = await served.client.post(UNKNOWN, content=b'{"id": "x"}')
    assert reply.status_code == 404


async def test_a_delivery_declared_larger_than_the_bound_is_refused_unread(served: Served) -> None:
    reply = await served.client.post(
        UNKNOWN, content=b"x" * (MAX_CALLBACK_BYTES + 1), headers={"content-type": "application/json"}
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "body_too_large"


async def test_a_streamed_delivery_past_the_bound_is_refused(served: Served) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(5):
            yield b"x" * (1024 * 1024)

    reply = await served.client.post(UNKNOWN, content=chunks())
    assert reply.status_code == 413
    assert MAX_CALLBACK_BYTES == 4 * 1024 * 1024  # the documented bound: 5 MiB is past it


async def test_a_token_given_twice_is_a_400_not_the_last_one_taken(served: Served) -> None:
    reply = await served.client.post(UNKNOWN + "&token=again", content=b'{"id": "x"}')
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "duplicate_parameter"
    assert reply.json()["error"]["param"] == "token"
