"""Finished videos' status polls answered before routing (``server/express.py``): the same reply, log
line and metrics as the route's, and only when the answer is certain; everything else goes the normal way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, Served, auth, serving

from vidgate.server.express import FinishedPolls


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the express lane answered (before the app is built, which takes the method)."""
    seen: list[str] = []
    original = FinishedPolls.answer

    def spy(self: FinishedPolls, scope: Any, log: Any) -> Any:
        answer = original(self, scope, log)
        if answer is not None:
            seen.append(scope["path"])
        return answer

    monkeypatch.setattr(FinishedPolls, "answer", spy)
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
