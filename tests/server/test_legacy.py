"""The seed documents' older endpoints: /videos/generations, /status, /retrieval, /remix."""

from __future__ import annotations

from tests.server.conftest import Served, auth
from tests.server.test_videos import png


async def test_generation_status_retrieval_and_remix(served: Served) -> None:
    key = await served.new_key()
    created = await served.client.post(
        "/videos/generations",
        json={"model": "local-1", "prompt": "a cat with yarn", "seconds": "1", "size": "320x180"},
        headers=auth(key),
    )
    assert created.status_code == 200, created.text
    video_id = created.json()["id"]
    status = await served.client.post(
        "/videos/status", json={"video_id": video_id, "model": "local-1"}, headers=auth(key)
    )
    assert status.status_code == 200
    assert status.json()["id"] == video_id
    await served.wait_done(key, video_id)
    retrieved = await served.client.post(
        "/videos/retrieval", json={"video_id": video_id, "model": "local-1"}, headers=auth(key)
    )
    assert retrieved.status_code == 200
    assert retrieved.headers["content-type"] == "video/mp4"
    assert retrieved.content[4:8] == b"ftyp"
    remixed = await served.client.post(
        "/videos/remix", json={"video_id": video_id, "prompt": "make it jump"}, headers=auth(key)
    )
    assert remixed.status_code == 200, remixed.text
    assert remixed.json()["remixed_from_video_id"] == video_id
    as_form = await served.client.post(
        "/videos/remix",
        data={"video_id": video_id, "model": "local-1", "prompt": "higher"},
        headers=auth(key),
    )
    assert as_form.status_code == 200, as_form.text


async def test_legacy_errors_name_the_param(served: Served) -> None:
    key = await served.new_key()
    missing = await served.client.post("/videos/status", json={"model": "local-1"}, headers=auth(key))
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "video_id"
    unknown = await served.client.post(
        "/videos/retrieval", json={"video_id": "video_x", "colour": "red"}, headers=auth(key)
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "colour"
    video = await served.create(key)
    await served.wait_done(key, video["id"])
    # Seed 003's curl sends seconds and an image with a remix: a remix keeps the source's, so it is refused.
    seed_style = await served.client.post(
        "/videos/remix",
        data={"video_id": video["id"], "model": "local-1", "prompt": "jump", "seconds": "8"},
        files={"input_reference": ("image.jpg", png(), "image/png")},
        headers=auth(key),
    )
    assert seed_style.status_code == 400
    assert seed_style.json()["error"]["param"] in ("seconds", "input_reference")


async def test_model_on_a_follow_up_must_be_a_string(served: Served) -> None:
    """Found by schemathesis: ``"model": {}`` was ignored (the document says a string); now a 400."""
    key = await served.new_key()
    video = await served.create(key)
    for path, extra in (
        ("/videos/status", {}),
        ("/v1/videos/retrieval", {}),
        ("/videos/remix", {"prompt": "again"}),
    ):
        reply = await served.client.post(
            path, json={"video_id": video["id"], "model": {}, **extra}, headers=auth(key)
        )
        assert reply.status_code == 400, (path, reply.text)
        error = reply.json()["error"]
        assert (error["param"], error["code"]) == ("model", "invalid_type")
