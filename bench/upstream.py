"""A minimal in-memory fake upstream: the direct baseline the gateway benchmarks compare against.

    .venv/bin/python -m bench.upstream --port 9100 [--processing-seconds 3600] [--poll-after-ms 2000]
        [--front raw]

Two front ends under the same uvicorn (uvloop, httptools) the gateway runs on: ``--front starlette``
(default: Starlette routes and JSON responses, as a provider's own minimal API server would be written)
and ``--front raw`` (hand-written ASGI dispatch: what the server stack alone costs). Either way the
direct figures are what a minimal server does on this machine, not what an emulator's validation
costs. It speaks just enough of two wires for the gateway's adapters:

- OpenAI Videos: ``POST /v1/videos`` (JSON), ``GET /v1/videos/{id}`` (``openai-poll-after-ms`` on
  creates and pending polls when ``--poll-after-ms`` is set), ``GET /v1/videos/{id}/content``,
  ``GET /v1/videos?limit=N`` (the newest N jobs).
- Gemini: ``POST /v1beta/models/{model}:predictLongRunning``, ``GET /v1beta/models/{m}/operations/{id}``.

A job is ``in_progress`` until ``--processing-seconds`` after its create, then ``completed`` (at once
when its prompt starts with ``[done]``). Every poll
is counted per job; ``GET /stats`` answers ``{"polls": {id: [t, ...]}, "creates": n}`` (the poller
benchmark reads it). Content is ``--content-file`` once it exists (streamed in 1 MiB reads), else 1 KiB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DONE = "[done]"  # a prompt starting with this completes at once
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(1000)


Reply = tuple[int, Any, list[tuple[bytes, bytes]]]  # status, JSON payload, extra headers


class Upstream:
    """The fake's state and answers, whichever front end (raw ASGI or Starlette) serves them."""

    def __init__(self, processing: float, poll_after_ms: int | None, content_file: str | None) -> None:
        self.processing = processing
        self.poll_after_ms = poll_after_ms
        self.content_file = content_file
        self.jobs: dict[str, tuple[float, str, str]] = {}  # id -> (created, model, prompt)
        self.polls: dict[str, list[float]] = {}
        self.creates = 0

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

    def hint(self, job_id: str) -> list[tuple[bytes, bytes]]:
        """``openai-poll-after-ms`` for a job that will not finish at once (on creates and polls)."""
        if self.poll_after_ms is None or self.jobs[job_id][2].startswith(DONE):
            return []
        return [(b"openai-poll-after-ms", str(self.poll_after_ms).encode())]

    def create_openai(self, body: dict[str, Any]) -> Reply:
        job_id = self._new(body["model"], body.get("prompt", ""))
        return 200, self.video(job_id, False) | {"status": "queued", "progress": 0}, self.hint(job_id)

    def poll_openai(self, job_id: str) -> Reply:
        if job_id not in self.jobs:
            return 404, {"error": {"message": "not found", "code": "video_not_found"}}, []
        done = self._done(job_id)
        return 200, self.video(job_id, done), [] if done else self.hint(job_id)

    def list_openai(self, limit: int) -> Reply:
        """The newest ``limit`` jobs, newest first (the OpenAI list shape; the baseline of a listing)."""
        newest = itertools.islice(reversed(self.jobs), max(1, min(limit, 100)))
        data = [self.video(job_id, False) for job_id in newest]
        last = data[-1]["id"] if data else None
        first = data[0]["id"] if data else None
        return 200, {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": True}, []

    def create_gemini(self, model: str, body: dict[str, Any]) -> Reply:
        job_id = self._new(model, body["instances"][0].get("prompt", ""))
        return 200, {"name": f"models/{model}/operations/{job_id}"}, []

    def poll_gemini(self, name: str) -> Reply:
        job_id = name.rpartition("/")[2]
        if job_id not in self.jobs:
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}, []
        if not self._done(job_id):
            return 200, {"name": name}, []
        uri = f"https://generativelanguage.googleapis.com/v1beta/files/{job_id}:download?alt=media"
        response = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]},
        }
        return 200, {"name": name, "done": True, "response": response}, []

    def stats(self) -> Reply:
        return 200, {"polls": self.polls, "creates": self.creates}, []

    def chunks(self) -> Iterator[bytes]:
        """The video's bytes: ``--content-file`` in 1 MiB reads (page-cached), else a 1 KiB stand-in."""
        if self.content_file is None or not os.path.exists(self.content_file):
            yield MP4
            return
        with open(self.content_file, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    def content_length(self) -> int:
        if self.content_file is None or not os.path.exists(self.content_file):
            return len(MP4)
        return os.path.getsize(self.content_file)


class RawApp:
    """The lean front end: plain ASGI, hand-written dispatch, ``json.dumps``."""

    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        up = self.up
        path: str = scope["path"]
        if scope["method"] == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if path == "/v1/videos":
                return await reply(send, up.create_openai(json.loads(body)))
            if path.startswith("/v1beta/models/") and path.endswith(":predictLongRunning"):
                model = path.removeprefix("/v1beta/models/").removesuffix(":predictLongRunning")
                return await reply(send, up.create_gemini(model, json.loads(body)))
        elif path == "/stats":
            return await reply(send, up.stats())
        elif path == "/v1/videos":
            query = urllib.parse.parse_qs(scope["query_string"].decode())
            return await reply(send, up.list_openai(int(query.get("limit", ["20"])[0])))
        elif path.startswith("/v1/videos/"):
            rest = path.removeprefix("/v1/videos/")
            if rest.endswith("/content"):
                if rest.removesuffix("/content") not in up.jobs:
                    return await reply(send, (404, {"error": {"message": "not found"}}, []))
                length = str(up.content_length()).encode()
                head = [(b"content-type", b"video/mp4"), (b"content-length", length)]
                await send({"type": "http.response.start", "status": 200, "headers": head})
                for chunk in up.chunks():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return
            return await reply(send, up.poll_openai(rest))
        elif path.startswith("/v1beta/models/") and "/operations/" in path:
            return await reply(send, up.poll_gemini(path.removeprefix("/v1beta/")))
        await reply(send, (404, {"error": {"message": f"no route {scope['method']} {path}"}}, []))


async def reply(send: Send, answer: Reply) -> None:
    status, payload, headers = answer
    data = json.dumps(payload).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": data})


def starlette_app(up: Upstream) -> Starlette:
    """The framework front end: Starlette routes, ``JSONResponse`` and ``StreamingResponse``, a bearer
    check, as a provider's own minimal API server would be written."""

    def answer(result: Reply) -> Response:
        status, payload, headers = result
        return JSONResponse(payload, status, headers={k.decode(): v.decode() for k, v in headers})

    def authorized(request: Request) -> bool:
        secret = request.headers.get("authorization", "").removeprefix("Bearer ")
        return bool(secret or request.headers.get("x-goog-api-key"))

    async def create_openai(request: Request) -> Response:
        return answer(up.create_openai(await request.json()))

    async def list_openai(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"error": {"message": "no key"}}, 401)
        return answer(up.list_openai(int(request.query_params.get("limit", "20"))))

    async def poll_openai(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"error": {"message": "no key"}}, 401)
        return answer(up.poll_openai(request.path_params["job_id"]))

    async def content(request: Request) -> Response:
        if request.path_params["job_id"] not in up.jobs:
            return JSONResponse({"error": {"message": "not found"}}, 404)
        headers = {"content-length": str(up.content_length())}
        return StreamingResponse(iterate_in_threadpool(up.chunks()), media_type="video/mp4", headers=headers)

    async def create_gemini(request: Request) -> Response:
        return answer(up.create_gemini(request.path_params["model"], await request.json()))

    async def poll_gemini(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"error": {"code": 401}}, 401)
        params = request.path_params
        return answer(up.poll_gemini(f"models/{params['model']}/operations/{params['op']}"))

    async def stats(request: Request) -> Response:
        return answer(up.stats())

    return Starlette(
        routes=[
            Route("/v1/videos", create_openai, methods=["POST"]),
            Route("/v1/videos", list_openai, methods=["GET"]),
            Route("/v1/videos/{job_id}", poll_openai, methods=["GET"]),
            Route("/v1/videos/{job_id}/content", content, methods=["GET"]),
            Route("/v1beta/models/{model}:predictLongRunning", create_gemini, methods=["POST"]),
            Route("/v1beta/models/{model}/operations/{op}", poll_gemini, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processing-seconds", type=float, default=3600.0)
    parser.add_argument("--poll-after-ms", type=int, default=None)
    parser.add_argument("--content-file", default=None)
    parser.add_argument("--front", choices=("starlette", "raw"), default="starlette")
    args = parser.parse_args()
    up = Upstream(args.processing_seconds, args.poll_after_ms, args.content_file)
    app = starlette_app(up) if args.front == "starlette" else RawApp(up)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
