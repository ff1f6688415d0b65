"""A minimal in-memory fake upstream: the direct baseline the gateway benchmarks compare against.

    .venv/bin/python -m bench.upstream --port 9100 [--processing-seconds 3600] [--poll-after-ms 2000]

A raw ASGI app (no framework) under the same uvicorn (uvloop, httptools) the gateway runs on, so the
direct figures are what a lean server does on this machine, not what an emulator's validation costs. It
speaks just enough of two wires for the gateway's adapters:

- OpenAI Videos: ``POST /v1/videos`` (JSON), ``GET /v1/videos/{id}`` (``openai-poll-after-ms`` on
  creates and pending polls when ``--poll-after-ms`` is set), ``GET /v1/videos/{id}/content``.
- Gemini: ``POST /v1beta/models/{model}:predictLongRunning``, ``GET /v1beta/models/{m}/operations/{id}``.

A job is ``in_progress`` until ``--processing-seconds`` after its create, then ``completed`` (at once
when its prompt starts with ``[done]``). Every poll
is counted per job; ``GET /stats`` answers ``{"polls": {id: [t, ...]}, "creates": n}`` (the poller
benchmark reads it). Content is ``--content-file`` when given (streamed in 1 MiB reads), else 1 KiB.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DONE = "[done]"  # a prompt starting with this completes at once
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(1000)


class Upstream:
    def __init__(self, processing: float, poll_after_ms: int | None, content_file: str | None) -> None:
        self.processing = processing
        self.poll_after_ms = poll_after_ms
        self.content_file = content_file
        self.jobs: dict[str, tuple[float, str, str]] = {}  # id -> (created, model, prompt)
        self.polls: dict[str, list[float]] = {}
        self.creates = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if path == "/v1/videos":
                return await self.create_openai(send, json.loads(body))
            if path.startswith("/v1beta/models/") and path.endswith(":predictLongRunning"):
                model = path.removeprefix("/v1beta/models/").removesuffix(":predictLongRunning")
                return await self.create_gemini(send, model, json.loads(body))
        elif path == "/stats":
            return await reply(send, 200, {"polls": self.polls, "creates": self.creates})
        elif path.startswith("/v1/videos/"):
            rest = path.removeprefix("/v1/videos/")
            if rest.endswith("/content"):
                return await self.content(send, rest.removesuffix("/content"))
            return await self.poll_openai(send, rest)
        elif path.startswith("/v1beta/models/") and "/operations/" in path:
            return await self.poll_gemini(send, path.removeprefix("/v1beta/"))
        await reply(send, 404, {"error": {"message": f"no route {method} {path}"}})

    def _new(self, model: str, prompt: str) -> str:
        job_id = "video_" + secrets.token_hex(16)
        self.jobs[job_id] = (time.time(), model, prompt)
        self.creates += 1
        return job_id

    def _done(self, job_id: str) -> bool:
        self.polls.setdefault(job_id, []).append(time.time())
        created, _, prompt = self.jobs[job_id]
        return prompt.startswith(DONE) or time.time() - created >= self.processing

    def video(self, job_id: str, done: bool) -> dict[str, Any]:
        created, model, prompt = self.jobs[job_id]
        return {
            "id": job_id,
            "object": "video",
            "created_at": int(created),
            "completed_at": int(created + self.processing) if done else None,
            "expires_at": None,
            "error": None,
            "model": model,
            "progress": 100 if done else 50,
            "prompt": prompt,
            "remixed_from_video_id": None,
            "seconds": "4",
            "size": "720x1280",
            "status": "completed" if done else "in_progress",
        }

    async def create_openai(self, send: Send, body: dict[str, Any]) -> None:
        job_id = self._new(body["model"], body.get("prompt", ""))
        created, model, prompt = self.jobs[job_id]
        video = self.video(job_id, False) | {"status": "queued", "progress": 0}
        await reply(send, 200, video, self.hint(job_id))

    async def poll_openai(self, send: Send, job_id: str) -> None:
        if job_id not in self.jobs:
            return await reply(send, 404, {"error": {"message": "not found", "code": "video_not_found"}})
        done = self._done(job_id)
        await reply(send, 200, self.video(job_id, done), [] if done else self.hint(job_id))

    def hint(self, job_id: str) -> list[tuple[bytes, bytes]]:
        """``openai-poll-after-ms`` for a job that will not finish at once (on creates and polls)."""
        if self.poll_after_ms is None or self.jobs[job_id][2].startswith(DONE):
            return []
        return [(b"openai-poll-after-ms", str(self.poll_after_ms).encode())]

    async def create_gemini(self, send: Send, model: str, body: dict[str, Any]) -> None:
        prompt = body["instances"][0].get("prompt", "")
        job_id = self._new(model, prompt)
        await reply(send, 200, {"name": f"models/{model}/operations/{job_id}"})

    async def poll_gemini(self, send: Send, name: str) -> None:
        job_id = name.rpartition("/")[2]
        if job_id not in self.jobs:
            return await reply(send, 404, {"error": {"code": 404, "status": "NOT_FOUND"}})
        if not self._done(job_id):
            return await reply(send, 200, {"name": name})
        uri = f"https://generativelanguage.googleapis.com/v1beta/files/{job_id}:download?alt=media"
        response = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]},
        }
        await reply(send, 200, {"name": name, "done": True, "response": response})

    async def content(self, send: Send, job_id: str) -> None:
        if job_id not in self.jobs:
            return await reply(send, 404, {"error": {"message": "not found"}})
        if self.content_file is None:
            return await reply(send, 200, MP4, [], b"video/mp4")
        size = os.path.getsize(self.content_file)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"video/mp4"), (b"content-length", str(size).encode())],
            }
        )
        with open(self.content_file, "rb") as f:  # noqa: ASYNC230 - a page-cached file, as a lean server reads it
            while chunk := f.read(1 << 20):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def reply(
    send: Send,
    status: int,
    body: Any,
    headers: list[tuple[bytes, bytes]] | None = None,
    media_type: bytes = b"application/json",
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = [(b"content-type", media_type), (b"content-length", str(len(data)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": data})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processing-seconds", type=float, default=3600.0)
    parser.add_argument("--poll-after-ms", type=int, default=None)
    parser.add_argument("--content-file", default=None)
    args = parser.parse_args()
    app = Upstream(args.processing_seconds, args.poll_after_ms, args.content_file)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
