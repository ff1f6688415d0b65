"""Helpers for provider-callback tests: a gateway whose public URL is known before it starts, in front
of an emulator, with the gateway's status polls of each job counted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from tests.support.live import free_port, live_server
from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-provider-callbacks-master"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


def count_polls(app: Any) -> dict[str, int]:
    """Status polls the running gateway ``app`` makes (``ProviderCalls.retrieve``), per native id,
    from now on. Downloads read a job again for a fresh URL through their own flow: not polls."""
    calls = app.state.vidgate.service.calls
    polls: dict[str, int] = {}
    inner = calls.retrieve

    async def retrieve(dep: Any, native_id: str) -> Any:
        polls[native_id] = polls.get(native_id, 0) + 1
        return await inner(dep, native_id)

    calls.retrieve = retrieve
    return polls


@dataclass
class CallbackGateway:
    url: str
    upstream_url: str
    polls: dict[str, int]  # status polls by native id
    app: Any

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {MASTER}"}
        reply = httpx.request(method, self.url + path, headers=headers, **kwargs)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def new_key(self) -> str:
        secret: str = self.admin("POST", "/key/generate", json={})["key"]
        return secret

    def spend(self, key: str) -> float:
        spent: float = self.admin("GET", "/key/info", params={"key": key})["info"]["spend"]
        return spent

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)

    def polls_of(self, task_id: str) -> int:
        """Status polls of the job whose native id holds the provider's ``task_id``."""
        return sum(count for native, count in self.polls.items() if task_id in native)


@contextmanager
def callback_gateway(upstream_app: Any, model_name: str, params: dict[str, Any]) -> Iterator[CallbackGateway]:
    """``upstream_app`` served on loopback and a gateway with one deployment (``params`` plus
    ``api_base`` and ``provider_callbacks: true``) whose public URL is its own."""
    with live_server(upstream_app) as upstream:
        port = free_port()
        entry = {"api_base": upstream, "provider_callbacks": True, **params}
        data = {
            "model_list": [{"model_name": model_name, "litellm_params": entry}],
            "general_settings": {"master_key": MASTER, "public_base_url": f"http://127.0.0.1:{port}"},
        }
        app = create_app(parse_config(data, environ={}), stores=MemoryStores())
        with live_server(app, port=port) as url:
            yield CallbackGateway(url, upstream, count_polls(app), app)


def finished(client: openai.OpenAI, video_id: str) -> Any:
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(POLL_PAUSE)
    raise AssertionError("the video did not finish")


def wait_for(predicate: Any) -> None:
    for _ in range(MAX_POLLS):
        if predicate():
            return
        time.sleep(POLL_PAUSE)
    raise AssertionError("the condition did not come true")
