"""Polls of finished work answered before routing (``server/express.py``): a video's status and a Gemini
done operation, with the same reply, log line and metrics as the route's, and only when the answer is
certain; everything else goes the normal way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, Served, auth, serving
from tests.server.test_gemini_routes import FAST, done, goog, veo
from tests.support.google_gateway import MASTER as GOOGLE_MASTER
from tests.support.google_gateway import google_config, google_emulators

from vidgate.server.app import create_app
from vidgate.server.express import Answer, Express, Lane
from vidgate.store.memory import MemoryStores


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with google_emulators(render_cache) as urls:
        yield urls


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the express lanes answered (patched before the app is built, which takes the method)."""
    seen: list[str] = []
    original = Express.answer

    def spy(self: Express, scope: Any, log: Any) -> Answer | None:
        answer = original(self, scope, log)
        if answer is not None:
            seen.append(scope["path"])
        return answer

    monkeypatch.setattr(Express, "answer", spy)
    return seen


def _comparable(reply: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in reply.headers.multi_items() if k != "x-request-id"]
    return reply.status_code, reply.content, headers


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "vidgate.access"]


async def _finished(served: Served) -> tuple[str, str]:
    secret = await served.new_key(key_alias="poller")
    video = await served.create(secret)
    await served.wait_done(secret, video["id"])
    return secret, video["id"]


async def test_a_finished_poll_is_answered_as_the_route_answers_it(
    local_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    answered: list[str],
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    caplog.set_level("INFO", logger="vidgate.access")
    async with serving(local_root) as served:
        secret, vid = await _finished(served)
        assert answered == []  # polls until done went the normal way (the last one filled the cache)
        routed = await served.client.get(f"/v1/videos/{vid}", params={"x": ""}, headers=auth(secret))
        assert routed.status_code == 200  # a query string: the route answers, from the same cache
        caplog.clear()
        express = await served.client.get(f"/v1/videos/{vid}", headers=auth(secret))
        assert answered == [f"/v1/videos/{vid}"]
        assert _comparable(express) == _comparable(routed)
        assert re.fullmatch(r"[0-9a-f]{24}", express.headers["x-request-id"])
        assert express.json()["status"] == "completed"
        [line] = _access_lines(caplog)
        assert line["route"] == "/v1/videos/{video_id}"
        assert line["status"] == 200
        assert line["key_alias"] == "poller"
        assert line["video_id"] == vid
        assert line["model"] == "local-1"
        assert line["cost"] == pytest.approx(0.1)  # 1 s at the test's 0.1 USD/s
        unversioned = await served.client.get(f"/videos/{vid}", headers=auth(MASTER))
        assert answered == [f"/v1/videos/{vid}"]  # the master key's own cache entry is not filled yet
        assert unversioned.status_code == 200
        await served.client.get(f"/videos/{vid}", headers=auth(MASTER))
        assert answered[-1] == f"/videos/{vid}"
        before = await _polls_counted(served)
        await served.client.get(f"/v1/videos/{vid}", headers=auth(secret))
        assert await _polls_counted(served) == before + 1


async def test_with_full_request_logging_an_express_reply_is_logged_whole(
    local_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    answered: list[str],
) -> None:
    """``request_logging`` captures bodies: the express reply goes through the capturing wrappers,
    asked once, and its access line carries the reply's body as any route's does."""
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    caplog.set_level("INFO", logger="vidgate.access")
    async with serving(local_root, request_logging=True) as served:
        secret, vid = await _finished(served)
        caplog.clear()
        express = await served.client.get(f"/v1/videos/{vid}", headers=auth(secret))
        assert answered == [f"/v1/videos/{vid}"]
        [line] = _access_lines(caplog)
        assert line["route"] == "/v1/videos/{video_id}"
        assert line["key_alias"] == "poller"
        assert line["response"]["body"] == express.json()
        assert line["response"]["body"]["status"] == "completed"


async def _polls_counted(served: Served) -> float:
    text = (await served.client.get("/metrics")).text
    pattern = r'vidgate_requests_total\{method="GET",route="/v1/videos/\{video_id\}",status="200"\} (\S+)'
    found = re.search(pattern, text)
    assert found is not None, text
    return float(found.group(1))


async def test_anything_uncertain_goes_the_normal_way(
    local_root: Path, monkeypatch: pytest.MonkeyPatch, answered: list[str]
) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    async with serving(local_root) as served:
        secret, vid = await _finished(served)
        other = await served.new_key()
        wrong = await served.client.get(f"/v1/videos/{vid}", headers=auth("sk-not-a-key-at-all"))
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"
        missing = await served.client.get(f"/v1/videos/{vid}")
        assert missing.status_code == 401
        foreign = await served.client.get(f"/v1/videos/{vid}", headers=auth(other))
        assert foreign.status_code == 404  # another owner's video: not in the cache under that key
        head = await served.client.head(f"/v1/videos/{vid}", headers=auth(secret))
        assert head.status_code == 200
        assert answered == []
        deleted = await served.client.delete(f"/v1/videos/{vid}", headers=auth(secret))
        assert deleted.status_code == 200
        gone = await served.client.get(f"/v1/videos/{vid}", headers=auth(secret))
        assert gone.status_code == 404
        assert answered == []


async def test_a_done_gemini_operation_is_answered_as_the_route_answers_it(
    emulators: tuple[str, str], caplog: pytest.LogCaptureFixture, answered: list[str]
) -> None:
    caplog.set_level("INFO", logger="vidgate.access")
    app = create_app(google_config(*emulators), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            reply = await client.post("/key/generate", json={"key_alias": "veo"}, headers=auth(GOOGLE_MASTER))
            secret = reply.json()["key"]
            name = (await client.post(FAST, json=veo("a wren"), headers=goog(secret))).json()["name"]
            await done(client, secret, name)
            assert answered == []  # until done (and once more, to fill the cache) the route answered
            routed = await client.get(f"/gemini/v1beta/{name}", params={"x": ""}, headers=goog(secret))
            caplog.clear()
            express = await client.get(f"/gemini/v1beta/{name}", headers=goog(secret))
            assert answered == [f"/gemini/v1beta/{name}"]
            assert _comparable(express) == _comparable(routed)
            assert express.json()["done"] is True
            [line] = _access_lines(caplog)
            assert line["route"] == "/gemini/{version}/models/{model}/operations/{operation}"
            assert line["key_alias"] == "veo"
            assert line["video_id"] == name.rpartition("/")[2]
            bearer = await client.get(f"/gemini/v1beta/{name}", headers=auth(secret))
            assert _comparable(bearer) == _comparable(routed)
            assert len(answered) == 2  # the gateway's own header works too
            other = name.replace("models/veo-fast/", "models/veo-3.0-fast-generate-001/")
            renamed = await client.get(f"/gemini/v1beta/{other}", headers=goog(secret))
            assert renamed.json()["name"] == other  # not cached under that name: the route answers
            wrong = await client.get(f"/gemini/v9/{name}", headers=goog(secret))
            assert wrong.status_code == 404
            assert len(answered) == 2


def test_lanes_take_plain_placeholders_only() -> None:
    with pytest.raises(ValueError, match="plain"):
        Express([Lane("/gemini/{version}/models/{model}:predictLongRunning", lambda *_: None)], [])
