"""Issue 7 items 3, 4 and 7: malformed input on every route is a 4xx in the route's own error envelope,
never a 5xx, and nothing is stored or sent for it.

One table of requests runs against the in-process app on SQLite and, with the NUL and number cases
that reach the database, on PostgreSQL (text PostgreSQL cannot store: NUL, lone surrogates; numbers
beyond 64 bits). Every provider deployment answers through a recording MockTransport, which must see
no request at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner, RetryPolicy

MASTER = "sk-malformed-master-0000"
MAX_BODY = 256 * 1024
GEMINI = "/gemini/v1beta/models/veo-g:predictLongRunning"
VERTEX = "/vertex_ai/v1/projects/p/locations/us-central1/publishers/google/models/veo-v:predictLongRunning"
HUGE = "9" * 5000  # beyond Python's 4,300-digit int() limit
BIG = str(2**70)


@dataclass
class Case:
    method: str
    path: str
    status: int
    param: str | None = None
    json: Any = None
    content: bytes | None = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    master: bool = False

    @property
    def google(self) -> bool:
        return self.path.startswith(("/gemini", "/vertex_ai"))


def _create(**fields: Any) -> dict[str, Any]:
    return {"model": "local-1", "prompt": "a fox", "seconds": "1", "size": "320x180", **fields}


def _veo(**parameters: Any) -> dict[str, Any]:
    return {"instances": [{"prompt": "a fox"}], "parameters": {"durationSeconds": 4, **parameters}}


# Requests whose bad part would otherwise reach the database (or a provider): the PostgreSQL run too.
STORED_CASES: list[Case] = [
    Case("POST", "/v1/videos", 400, "prompt", json=_create(prompt="a\x00b")),
    Case("POST", "/v1/videos", 400, "prompt", data={**_create(prompt="a\x00b")}),
    Case("POST", "/v1/videos", 400, "user", json=_create(user="u\x00")),
    Case("POST", "/v1/videos", 400, "extra_body.x", json=_create(extra_body={"x": "\x00"})),
    Case("POST", "/v1/videos", 400, None, content=b'{"model":"local-1","prompt":"\\ud800"}'),
    Case("POST", "/v1/videos/video_a%00b/remix", 400, "video_id", json={"prompt": "x"}),
    Case("POST", "/v1/videos/video_ab/remix", 400, "prompt", json={"prompt": "x\x00"}),
    Case("GET", "/v1/videos?after=video_%00", 400, "after"),
    Case("GET", "/v1/videos/video_%00", 400, "video_id"),
    Case("DELETE", "/v1/videos/video_%00", 400, "video_id"),
    Case("GET", "/v1/videos/video_%00/content", 400, "video_id"),
    Case("POST", "/videos/status", 400, "video_id", json={"video_id": "v\x00"}),
    Case("POST", "/key/generate", 400, "key_alias", json={"key_alias": "a\x00"}, master=True),
    Case("POST", "/key/generate", 400, "metadata.team", json={"metadata": {"team": "\x00"}}, master=True),
    Case("POST", "/key/generate", 400, "metadata.a\x00", json={"metadata": {"a\x00": 1}}, master=True),
    Case("POST", "/key/generate", 400, "rpm_limit", json={"rpm_limit": 2**70}, master=True),
    Case(
        "POST",
        "/key/generate",
        400,
        "max_parallel_requests",
        json={"max_parallel_requests": 2**40},
        master=True,
    ),
    Case("POST", "/key/generate", 400, "max_budget", json={"max_budget": 1e30}, master=True),
    Case("POST", "/key/generate", 400, "max_budget", json={"max_budget": "inf"}, master=True),
    Case("POST", "/key/generate", 400, "max_budget", json={"max_budget": "nan"}, master=True),
    Case("POST", "/key/generate", 400, "max_budget", json={"max_budget": "1e30"}, master=True),
    Case(
        "POST",
        "/key/generate",
        400,
        "budget_duration",
        json={"budget_duration": "99999999999999999999d"},
        master=True,
    ),
    Case("POST", "/key/generate", 400, "budget_duration", json={"budget_duration": "²d"}, master=True),
    Case("POST", "/key/generate", 400, "budget_duration", json={"budget_duration": "9999999d"}, master=True),
    Case("GET", "/key/info?key=%00", 400, "key", master=True),
    Case("GET", f"/spend/logs?start_date={BIG}", 400, "start_date", master=True),
    Case("GET", "/spend/logs?start_date=²", 400, "start_date", master=True),
    Case("GET", f"/spend/logs?end_date={HUGE}", 400, "end_date", master=True),
    Case("GET", "/spend/logs?api_key=%00", 400, "api_key", master=True),
    Case("POST", GEMINI, 400, "prompt", json={"instances": [{"prompt": "a\x00"}]}),
    Case("POST", GEMINI, 400, "parameters.seed", json=_veo(seed="x\x00")),
    Case("POST", VERTEX, 400, "prompt", json={"instances": [{"prompt": "a\x00"}]}),
    Case("GET", "/gemini/v1beta/models/veo-g/operations/video_%00", 400, "operation"),
]

NUMBER_CASES: list[Case] = [
    Case("GET", "/v1/videos?limit=²", 400, "limit"),
    Case("GET", "/v1/videos?limit=٣", 400, "limit"),
    Case("GET", f"/v1/videos?limit={HUGE}", 400, "limit"),
    Case("GET", f"/v1/videos?limit={BIG}", 400, "limit"),
    Case("POST", "/v1/videos", 400, "seconds", json=_create(seconds="²")),
    Case("POST", "/v1/videos", 400, "seconds", json=_create(seconds=HUGE)),
    Case("POST", "/v1/videos", 400, "seconds", json=_create(seconds=int(BIG))),
    Case("POST", "/v1/videos", 400, "seed", data={**_create(), "seed": "²"}),
    Case("POST", "/v1/videos", 400, "seed", data={**_create(), "seed": HUGE}),
    Case("POST", "/v1/videos", 400, "n", data={**_create(), "n": BIG}),
    Case("POST", "/v1/videos", 400, "seed", json=_create(seed=int(BIG))),
    Case("GET", "/spend/logs?limit=²", 400, "limit", master=True),
    Case("GET", "/spend/logs?limit=", 400, "limit", master=True),  # empty is not absent, as on /v1/videos
    Case("GET", f"/spend/logs?limit={HUGE}", 400, "limit", master=True),
    Case("POST", GEMINI, 400, "durationSeconds", json=_veo(durationSeconds="²")),
    Case("POST", GEMINI, 400, "durationSeconds", json=_veo(durationSeconds=HUGE)),
    Case("POST", GEMINI, 400, "sampleCount", json=_veo(sampleCount=BIG)),
    Case("POST", VERTEX, 400, "seed", json=_veo(seed=int(BIG))),
]

EMPTY_CASES: list[Case] = [
    Case("POST", "/v1/videos", 400, "model", json=_create(model="")),
    Case("POST", "/v1/videos", 400, "model", data={**_create(model="")}),
    Case("POST", "/v1/videos", 400, "size", json=_create(size="")),
    Case("POST", "/v1/videos", 400, "seconds", json=_create(seconds="")),
    Case("POST", "/v1/videos", 400, "prompt", json=_create(prompt="")),
    Case("POST", GEMINI, 400, "aspectRatio", json=_veo(aspectRatio="")),
    Case("POST", VERTEX, 400, "resolution", json=_veo(resolution=" ")),
    Case("POST", GEMINI, 400, "durationSeconds", json=_veo(durationSeconds="")),
]

# Item 1 over HTTP: extra_body (JSON, or bracketed form fields) never overrides a validated field.
BYPASS_CASES: list[Case] = [
    Case(
        "POST",
        "/v1/videos",
        400,
        "extra_body.model",
        json=_create(extra_body={"model": "local-free", "seconds": "20", "size": "1280x720"}),
    ),
    Case("POST", "/v1/videos", 400, "extra_body.seconds", data={**_create(), "extra_body[seconds]": "20"}),
    Case(
        "POST",
        "/v1/videos",
        400,
        "extra_body.durationSeconds",
        json=_create(extra_body={"durationSeconds": 8}),
    ),
    Case("POST", GEMINI, 400, "parameters.duration_seconds", json=_veo(duration_seconds=8)),
    Case("POST", VERTEX, 400, "parameters.numberOfVideos", json=_veo(numberOfVideos=4)),
]

FRAMEWORK_CASES: list[Case] = [
    Case("GET", "/nope", 404),
    Case("GET", "/v1/nope", 404),
    Case("PUT", "/v1/videos", 405),
    Case("DELETE", "/v1/models", 405),
    Case("POST", "/v1/videos", 400, content=b"{", headers={"content-type": "application/json"}),
    Case("POST", "/v1/videos", 400, content=b"[1]", headers={"content-type": "application/json"}),
    Case("POST", "/v1/videos", 400, content=b"hello", headers={"content-type": "text/plain"}),
    Case("POST", "/v1/videos", 400, content=b"\xff\xfe", headers={"content-type": "application/json"}),
    Case("POST", "/v1/videos", 400, content=b"x", headers={"content-type": "multipart/form-data"}),
    Case("POST", "/v1/videos", 413, content=b"{" + b" " * MAX_BODY + b"}"),
    Case("POST", "/key/generate", 400, content=b"{", master=True),
    Case("POST", GEMINI, 400, content=b"{"),
    Case("POST", GEMINI, 400, json=[1]),
    Case("POST", VERTEX, 400, content=b"not json"),
    Case("GET", "/gemini/v1beta/nope", 404),
    Case("OPTIONS", GEMINI, 405),
    Case("OPTIONS", VERTEX, 405),
    Case("POST", GEMINI, 413, content=b"{" + b" " * MAX_BODY + b"}"),
    Case("DELETE", "/vertex_ai/v1/nope", 404),
]


def _deep(head: str, depth: int = 995) -> bytes:
    """A JSON body whose ``head`` field nests ``depth`` objects (orjson reads up to 1,024 levels)."""
    return (head + '{"a":' * depth + "1" + "}" * depth + "}").encode()


_DEEP_VIDEO = '{"model":"local-1","prompt":"a fox","seconds":"1","size":"320x180","extra_body":'
# Nested past ``inputs.MAX_DEPTH`` (64): refused at the 64th level. The recursive check was a 500 from
# about 990 levels (RecursionError) on every route reading a JSON or form body.
DEEP_CASES: list[Case] = [
    Case("POST", "/v1/videos", 400, "extra_body" + ".a" * 63, content=_deep(_DEEP_VIDEO)),
    Case(
        "POST",
        "/v1/videos",
        400,
        "extra_body" + ".a" * 63,
        data={**_create(), "extra_body" + "[a]" * 1100: "x"},
    ),
    Case("POST", "/key/generate", 400, "metadata" + ".a" * 63, content=_deep('{"metadata":'), master=True),
    Case("POST", GEMINI, 400, None, content=_deep('{"instances":[{"prompt":"a fox"}],"parameters":')),
]

ALL_CASES = STORED_CASES + NUMBER_CASES + EMPTY_CASES + BYPASS_CASES + FRAMEWORK_CASES + DEEP_CASES


class Upstream:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(500, json={"error": {"message": "no upstream call was expected"}})


def _config(local_root: Path, database_url: str) -> Any:
    entries = [
        {
            "model_name": "local-1",
            "litellm_params": {
                "model": "local/local-1",
                "api_base": str(local_root),
                "output_cost_per_second": 0.1,
            },
        },
        {
            "model_name": "veo-g",
            "litellm_params": {
                "model": "gemini/veo-3.0-fast-generate-001",
                "allow_retired": True,
                "api_key": "g-up",
            },
        },
        {
            "model_name": "veo-v",
            "litellm_params": {
                "model": "vertex_ai/veo-3.0-generate-001",
                "allow_retired": True,
                "vertex_project": "p",
                "vertex_location": "us-central1",
                "access_token": "ya29.t",
            },
        },
    ]
    return parse_config(
        {
            "model_list": entries,
            "general_settings": {"master_key": MASTER, "database_url": database_url},
        },
        environ={},
    )


@dataclass
class App:
    client: httpx.AsyncClient
    upstream: Upstream
    user_key: str


@asynccontextmanager
async def _serving(local_root: Path, database_url: str, content: Path) -> AsyncIterator[App]:
    upstream = Upstream()
    runner = AsyncRunner(httpx.AsyncClient(transport=httpx.MockTransport(upstream)), retry=RetryPolicy(0))
    stores = await open_stores(database_url, None, content)
    app = create_app(
        _config(local_root, database_url),
        stores=stores,
        runner=runner,
        run_worker=False,
        max_body_bytes=MAX_BODY,
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                reply = await client.post(
                    "/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"}
                )
                assert reply.status_code == 200, reply.text
                yield App(client, upstream, reply.json()["key"])
    finally:
        await runner.aclose()
        await stores.close()


async def _fire(app: App, case: Case) -> httpx.Response:
    secret = MASTER if case.master else app.user_key
    headers = {"Authorization": f"Bearer {secret}", **case.headers}
    return await app.client.request(
        case.method,
        case.path,
        json=case.json,
        content=case.content,
        data=case.data,
        files=case.files,
        headers=headers,
    )


def _check(case: Case, reply: httpx.Response) -> None:
    assert reply.status_code == case.status, (case, reply.text[:500])
    error = reply.json()["error"]
    if case.google:
        assert error["code"] == case.status
        assert error["message"]
        assert error["status"]
    else:
        assert set(error) == {"message", "type", "param", "code"}
        assert error["message"]
        if case.param is not None:
            assert error["param"] == case.param, error


async def _jobs(app: App) -> list[Any]:
    reply = await app.client.get("/v1/videos", headers={"Authorization": f"Bearer {app.user_key}"})
    assert reply.status_code == 200
    data: list[Any] = reply.json()["data"]
    return data


@pytest.fixture
async def sqlite_app(local_root: Path, tmp_path: Path) -> AsyncIterator[App]:
    async with _serving(local_root, f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", tmp_path / "c") as app:
        yield app


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: f"{c.method} {c.path[:40]} {c.param}")
async def test_every_malformed_request_is_refused_in_its_envelope(sqlite_app: App, case: Case) -> None:
    reply = await _fire(sqlite_app, case)
    _check(case, reply)
    assert sqlite_app.upstream.sent == []
    assert await _jobs(sqlite_app) == []


@pytest.fixture
async def pg_app(fresh_pg_url: str, local_root: Path, tmp_path: Path) -> AsyncIterator[App]:
    async with _serving(local_root, fresh_pg_url, tmp_path / "c") as app:
        yield app


@pytest.mark.postgres
async def test_postgresql_refuses_what_it_cannot_store_with_a_400(pg_app: App) -> None:
    """One database for the whole table (creating one per case would dominate the run)."""
    for case in STORED_CASES + NUMBER_CASES + EMPTY_CASES + BYPASS_CASES:
        _check(case, await _fire(pg_app, case))
    assert pg_app.upstream.sent == []
    assert await _jobs(pg_app) == []
