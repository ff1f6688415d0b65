"""Signed media links: minted only for the caller's own video, serve it with HTTP Range without the
key, and stop working when tampered with, expired, or the owning key is blocked or deleted."""

from __future__ import annotations

import time

import pytest
from tests.server.conftest import MASTER, Served, auth

from vidgate.server.redaction import redact_query
from vidgate.server.ui import media


async def _link(served: Served, secret: str, video_id: str, variant: str = "video") -> str:
    reply = await served.client.post(
        "/ui/media", json={"video_id": video_id, "variant": variant}, headers=auth(secret)
    )
    assert reply.status_code == 200, reply.text
    url: str = reply.json()["url"]
    assert url.startswith("/ui/media?token=")
    assert secret not in url
    return url


async def _finished(served: Served, secret: str) -> str:
    video = await served.create(secret)
    done = await served.wait_done(secret, video["id"])
    assert done["status"] == "completed"
    video_id: str = video["id"]
    return video_id


async def test_a_link_serves_ranges_without_the_key(served: Served) -> None:
    secret = await served.new_key()
    video_id = await _finished(served, secret)
    whole = await served.client.get(f"/v1/videos/{video_id}/content", headers=auth(secret))
    url = await _link(served, secret, video_id)
    part = await served.client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    assert part.headers["content-type"] == "video/mp4"
    full = await served.client.get(url)
    assert full.content == whole.content
    thumb = await served.client.get(await _link(served, secret, video_id, "thumbnail"))
    assert thumb.headers["content-type"] == "image/webp"


async def test_only_the_owner_or_the_master_key_can_mint_a_link(served: Served) -> None:
    owner = await served.new_key()
    other = await served.new_key()
    video_id = await _finished(served, owner)
    reply = await served.client.post("/ui/media", json={"video_id": video_id}, headers=auth(other))
    assert (reply.status_code, reply.json()["error"]["code"]) == (404, "video_not_found")
    # The master key is the operator: its admin gallery plays every owner's videos.
    operator = await served.client.post("/ui/media", json={"video_id": video_id}, headers=auth(MASTER))
    assert operator.status_code == 200
    assert (await served.client.get(operator.json()["url"])).headers["content-type"] == "video/mp4"
    unauthenticated = await served.client.post("/ui/media", json={"video_id": video_id})
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"video_id": "video_x", "variant": "poster"}, "variant"),
        ({"video_id": 7}, "video_id"),
        ({}, "video_id"),
        ({"video_id": "video_x", "expires_at": 9999999999}, "expires_at"),
    ],
)
async def test_bad_input_is_a_400_naming_it(served: Served, body: dict[str, object], param: str) -> None:
    secret = await served.new_key()
    reply = await served.client.post("/ui/media", json=body, headers=auth(secret))
    assert (reply.status_code, reply.json()["error"]["param"]) == (400, param)


async def test_a_tampered_or_expired_link_is_a_404(served: Served) -> None:
    secret = await served.new_key()
    video_id = await _finished(served, secret)
    url = await _link(served, secret, video_id)
    payload, _, mac = url.removeprefix("/ui/media?token=").partition(".")
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    for bad in (f"{payload}.{flipped}", payload, "x.y", "....", "%00", "é.é"):
        reply = await served.client.get("/ui/media", params={"token": bad})
        assert reply.status_code in (400, 404), bad
    key = media.signing_key(MASTER)
    record = await served.stores.keys.list()
    expired = media.mint(key, video_id, "video", record[0].id, int(time.time()) - 1)
    reply = await served.client.get("/ui/media", params={"token": expired})
    assert (reply.status_code, reply.json()["error"]["code"]) == (404, "link_expired")
    forged = media.mint(b"another gateway" * 2, video_id, "video", record[0].id, int(time.time()) + 60)
    assert (await served.client.get("/ui/media", params={"token": forged})).status_code == 404
    assert (await served.client.get("/ui/media")).status_code == 404


@pytest.mark.parametrize("change", ["block", "delete"])
async def test_a_link_dies_with_its_key(served: Served, change: str) -> None:
    secret = await served.new_key()
    video_id = await _finished(served, secret)
    url = await _link(served, secret, video_id)
    assert (await served.client.get(url)).status_code == 200
    if change == "block":
        body: dict[str, object] = {"key": secret, "blocked": True}
        reply = await served.client.post("/key/update", json=body, headers=auth(MASTER))
    else:
        reply = await served.client.post("/key/delete", json={"keys": [secret]}, headers=auth(MASTER))
    assert reply.status_code == 200
    assert (await served.client.get(url)).status_code == 404


def test_the_token_never_reaches_a_log() -> None:
    assert redact_query("token=abc.def") == "token=[redacted]"


def test_the_signing_key_is_derived_from_the_master_key() -> None:
    assert media.signing_key("sk-a") == media.signing_key("sk-a") != media.signing_key("sk-b")
    assert media.signing_key(None) == media.signing_key(None)  # this process's random key
