"""Client behaviour that needs no emulator: validation before any request, retries, polling, streaming."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.google_token_server import CLIENT_EMAIL, service_account_file, token_server

from vidgate import Client
from vidgate.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
    Timeout,
    UnsupportedOperationError,
)
from vidgate.providers.base import Credentials, Download, Flow
from vidgate.providers.registry import get_provider
from vidgate.providers.vertex_ai import auth as google_auth
from vidgate.sdk.ids import VideoRef, decode, encode

Handler = Callable[[httpx.Request], httpx.Response]
pytestmark = pytest.mark.filterwarnings("ignore::vidgate.LifecycleWarning")


def video_json(status: str = "queued", progress: int = 0, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": "video_abc",
        "object": "video",
        "model": "sora-2",
        "status": status,
        "progress": progress,
        "created_at": 1700000000,
        "completed_at": None,
        "expires_at": None,
        "prompt": "a cat",
        "size": "720x1280",
        "seconds": "4",
        "remixed_from_video_id": None,
        "error": None,
    }
    body.update(extra)
    return body


class Recorder:
    """A MockTransport that answers from a script and records every request it saw."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def client_for(recorder: Recorder | Handler, sleeps: list[float] | None = None, **kwargs: object) -> Client:
    pauses = sleeps if sleeps is not None else []
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return Client(
        api_key="sk-test",
        api_base="https://api.test/v1",
        http_client=http,
        sleep=pauses.append,
        **kwargs,  # type: ignore[arg-type]
    )


def ok(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


# ---- validation before network ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param", "text"),
    [
        ({"seconds": "7"}, "seconds", "Supported values are: '4', '8', '12', '16', and '20'"),
        ({"size": "1920x1080"}, "size", "'720x1280' and '1280x720'"),
        ({"negative_prompt": "blur"}, "negative_prompt", "does not support"),
        ({"seed": 3}, "seed", "does not support"),
        ({"fps": 24}, "fps", "Unknown parameter 'fps'"),
        ({"input_reference": "http://insecure/cat.png"}, "input_reference", "https://"),
        ({"input_reference": "/no/such/file.jpg"}, "input_reference", "names no existing file"),
        ({"prompt": ""}, "prompt", "Missing required parameter"),
    ],
)
def test_invalid_values_are_rejected_before_any_request(
    kwargs: dict[str, object], param: str, text: str
) -> None:
    recorder = Recorder()
    args: dict[str, object] = {"prompt": "a cat", **kwargs}
    with client_for(recorder) as client, pytest.raises(BadRequestError) as info:
        client.videos.create("openai/sora-2", **args)  # type: ignore[arg-type]
    assert info.value.param == param
    assert text in info.value.message
    assert recorder.requests == []


def test_missing_key_is_reported_before_any_request() -> None:
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    with Client(http_client=http) as client, pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        client.videos.create("openai/sora-2", "a cat")
    assert recorder.requests == []


def test_undeclared_operations_fail_before_any_request() -> None:
    recorder = Recorder()
    gemini_id = encode(
        VideoRef("gemini", "veo-3.1-generate-preview", "models/veo-3.1-generate-preview/operations/x")
    )
    with client_for(recorder) as client:
        with pytest.raises(UnsupportedOperationError, match="does not support 'remix'"):
            client.videos.remix(gemini_id, "again")
        with pytest.raises(UnsupportedOperationError, match="'delete'"):
            client.videos.delete(gemini_id)
        with pytest.raises(UnsupportedOperationError, match="'list'"):
            client.videos.list("gemini/veo-3.1-generate-preview")
        with pytest.raises(BadRequestError) as info:
            client.videos.content(gemini_id, variant="poster")
        assert info.value.param == "variant"
    assert recorder.requests == []


# ---- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_create_is_retried_on_429_and_503_honouring_retry_after(status: int) -> None:
    recorder = Recorder(
        httpx.Response(status, json={"error": {"message": "busy"}}, headers={"retry-after": "3"}),
        ok(video_json()),
    )
    sleeps: list[float] = []
    with client_for(recorder, sleeps) as client:
        video = client.videos.create("openai/sora-2", "a cat")
    assert video.status == "queued"
    assert len(recorder.requests) == 2
    assert sleeps == [3.0]


def test_retry_after_ms_wins_over_backoff() -> None:
    recorder = Recorder(
        httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after-ms": "250"}),
        ok(video_json()),
    )
    sleeps: list[float] = []
    with client_for(recorder, sleeps) as client:
        client.videos.create("openai/sora-2", "a cat")
    assert sleeps == [0.25]


def test_a_500_on_create_is_not_retried() -> None:
    recorder = Recorder(httpx.Response(500, json={"error": {"message": "oops", "type": "server_error"}}))
    sleeps: list[float] = []
    with client_for(recorder, sleeps) as client, pytest.raises(InternalServerError, match="oops"):
        client.videos.create("openai/sora-2", "a cat")
    assert len(recorder.requests) == 1
    assert sleeps == []


def test_a_broken_connection_after_sending_a_create_is_not_retried() -> None:
    recorder = Recorder(httpx.ReadError("connection reset"))
    with client_for(recorder) as client, pytest.raises(APIConnectionError):
        client.videos.create("openai/sora-2", "a cat")
    assert len(recorder.requests) == 1


def test_a_create_that_never_left_is_retried() -> None:
    recorder = Recorder(httpx.ConnectError("refused"), ok(video_json()))
    with client_for(recorder) as client:
        assert client.videos.create("openai/sora-2", "a cat").status == "queued"
    assert len(recorder.requests) == 2


def test_status_polls_are_retried_on_500() -> None:
    vid = encode(VideoRef("openai", "sora-2", "video_abc"))
    recorder = Recorder(
        httpx.Response(500, json={"error": {"message": "x"}}), ok(video_json("in_progress", 40))
    )
    with client_for(recorder) as client:
        assert client.videos.retrieve(vid).progress == 40
    assert len(recorder.requests) == 2


def test_max_retries_bounds_the_attempts() -> None:
    busy = httpx.Response(429, json={"error": {"message": "busy"}}, headers={"retry-after": "0"})
    recorder = Recorder(busy, busy)
    with client_for(recorder, max_retries=1) as client, pytest.raises(RateLimitError):
        client.videos.create("openai/sora-2", "a cat")
    assert len(recorder.requests) == 2


# ---- results ----------------------------------------------------------------------------------------


def test_create_returns_a_self_describing_id_and_a_cost_estimate() -> None:
    recorder = Recorder(ok(video_json(size="1280x720", seconds="8")))
    with client_for(recorder) as client:
        video = client.videos.create("openai/sora-2-pro", "a cat", seconds="8", size="1280x720", user="u1")
    ref = decode(video.id)
    assert ref == VideoRef("openai", "sora-2-pro", "video_abc", "8", "1280x720", 1700000000)
    assert video.usage is not None
    assert (video.usage.duration_seconds, video.usage.cost, video.usage.cost_is_estimate) == (8.0, 2.4, True)
    sent = json.loads(recorder.requests[0].content)
    assert sent == {
        "model": "sora-2-pro",
        "prompt": "a cat",
        "seconds": "8",
        "size": "1280x720",
        "user": "u1",
    }
    assert recorder.requests[0].headers["authorization"] == "Bearer sk-test"


def test_extra_headers_and_extra_body_reach_the_wire() -> None:
    recorder = Recorder(ok(video_json()))
    with client_for(recorder, extra_headers={"X-Client": "c"}) as client:
        client.videos.create(
            "openai/sora-2", "a cat", extra_body={"quality": "hd"}, extra_headers={"X-Call": "1"}
        )
    request = recorder.requests[0]
    assert (request.headers["x-client"], request.headers["x-call"]) == ("c", "1")
    assert json.loads(request.content)["quality"] == "hd"


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("openai/sora-2", "seconds"),
        ("openai/sora-2", "model"),
        ("gemini/veo-3.0-generate-001", "durationSeconds"),
    ],
)
def test_extra_body_cannot_override_a_validated_field(model: str, key: str) -> None:
    """Issue 7: the SDK refuses, before any request, an extra_body key that would change what it priced."""
    recorder = Recorder()
    with client_for(recorder) as client, pytest.raises(BadRequestError) as info:
        client.videos.create(model, "a cat", extra_body={key: "20"})
    assert info.value.param == f"extra_body.{key}"
    assert recorder.requests == []


def test_foreign_id_with_model_and_usage_only_when_completed() -> None:
    recorder = Recorder(ok(video_json("in_progress", 50)), ok(video_json("completed", 100)))
    with client_for(recorder) as client:
        running = client.videos.retrieve("video_abc", model="openai/sora-2")
        done = client.videos.retrieve("video_abc", model="openai/sora-2")
    assert str(recorder.requests[0].url) == "https://api.test/v1/videos/video_abc"
    assert running.usage is None
    assert done.usage is not None
    assert done.usage.cost == pytest.approx(0.4)
    assert decode(done.id) is not None


def test_list_encodes_ids_and_decodes_the_cursor() -> None:
    page = {
        "object": "list",
        "data": [video_json(id="video_1"), video_json(id="video_2", model="sora-2-pro")],
        "first_id": "video_1",
        "last_id": "video_2",
        "has_more": True,
    }
    recorder = Recorder(ok(page), ok({**page, "data": [], "has_more": False}))
    with client_for(recorder) as client:
        first = client.videos.list("openai/sora-2", limit=2)
        client.videos.list("openai/sora-2", after=first.last_id, order="asc")
    assert [decode(v.id).native_id for v in first.data] == ["video_1", "video_2"]  # type: ignore[union-attr]
    assert decode(first.data[1].id).model == "sora-2-pro"  # type: ignore[union-attr]
    assert (first.first_id, first.last_id, first.has_more) == (first.data[0].id, first.data[1].id, True)
    assert recorder.requests[1].url.params["after"] == "video_2"
    assert recorder.requests[1].url.params["order"] == "asc"


# ---- wait -------------------------------------------------------------------------------------------


def test_wait_reports_progress_and_honours_the_poll_hint() -> None:
    recorder = Recorder(
        ok(video_json("queued", 0), {"openai-poll-after-ms": "1500"}),
        ok(video_json("in_progress", 60)),
        ok(video_json("completed", 100)),
    )
    sleeps: list[float] = []
    seen: list[tuple[str, int]] = []
    vid = encode(VideoRef("openai", "sora-2", "video_abc"))
    with client_for(recorder, sleeps) as client:
        done = client.videos.wait(vid, on_progress=lambda v: seen.append((v.status, v.progress)))
    assert done.status == "completed"
    assert seen == [("queued", 0), ("in_progress", 60), ("completed", 100)]
    assert sleeps == [1.5, 0.75]  # the hint, then the backoff (0.5 s x 1.5)


def test_wait_poll_interval_is_never_faster_than_the_hint() -> None:
    recorder = Recorder(
        ok(video_json("queued"), {"openai-poll-after-ms": "2000"}),
        ok(video_json("in_progress", 10)),
        ok(video_json("failed", 0, error={"code": "moderation_blocked", "message": "blocked"})),
    )
    sleeps: list[float] = []
    with client_for(recorder, sleeps) as client:
        done = client.videos.wait(encode(VideoRef("openai", "sora-2", "video_abc")), poll_interval=0.1)
    assert sleeps == [2.0, 0.1]
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code == "moderation_blocked"


def test_wait_times_out_with_the_last_status() -> None:
    recorder = Recorder(ok(video_json("in_progress", 30)))
    with client_for(recorder) as client, pytest.raises(Timeout, match="in_progress, 30%"):
        client.videos.wait(encode(VideoRef("openai", "sora-2", "video_abc")), timeout=0)


# ---- streaming --------------------------------------------------------------------------------------

BIG = 48 * 1024 * 1024
CHUNK = 1024 * 1024


def _big_file(path: Path) -> Path:
    block = os.urandom(CHUNK)
    with path.open("wb") as f:
        for _ in range(BIG // CHUNK):
            f.write(block)
    return path


def _peak_while(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_stream_content_of_a_large_local_file_uses_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _big_file(tmp_path / "big.mp4")

    def download(native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        return Download(media_type="video/mp4", produce=lambda: source)
        yield  # pragma: no cover

    monkeypatch.setattr(get_provider("local"), "download", download)
    dest = tmp_path / "out.mp4"
    with Client() as client:
        peak = _peak_while(
            lambda: client.videos.stream_content(encode(VideoRef("local", "local-1", "job")), dest)
        )
    assert dest.stat().st_size == BIG
    assert dest.read_bytes()[:CHUNK] == source.read_bytes()[:CHUNK]
    assert not (tmp_path / "out.mp4.part").exists()
    assert peak < BIG // 16, f"peak {peak} bytes while streaming {BIG}"


def test_stream_content_over_http_uses_bounded_memory(tmp_path: Path) -> None:
    block = os.urandom(CHUNK)

    def body() -> Iterator[bytes]:
        for _ in range(BIG // CHUNK):
            yield block

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/videos/video_abc/content"
        return httpx.Response(200, content=body(), headers={"content-type": "video/mp4"})

    dest = tmp_path / "out.mp4"
    with client_for(handler) as client:
        peak = _peak_while(
            lambda: client.videos.stream_content(encode(VideoRef("openai", "sora-2", "video_abc")), dest)
        )
    assert dest.stat().st_size == BIG
    assert peak < BIG // 16, f"peak {peak} bytes while streaming {BIG}"


def test_a_failed_stream_leaves_no_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": "Video is not ready yet."}})

    dest = tmp_path / "out.mp4"
    with client_for(handler) as client, pytest.raises(Exception, match="not ready"):
        client.videos.stream_content(encode(VideoRef("openai", "sora-2", "video_abc")), dest)
    assert list(tmp_path.iterdir()) == []


def test_content_returns_bytes_with_content_and_media_type() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["variant"] == "thumbnail"
        return httpx.Response(200, content=b"RIFF0000WEBP", headers={"content-type": "image/webp"})

    with client_for(handler) as client:
        data = client.videos.content(encode(VideoRef("openai", "sora-2", "video_abc")), variant="thumbnail")
    assert data == b"RIFF0000WEBP"
    assert data.content == b"RIFF0000WEBP"
    assert data.media_type == "image/webp"


# ---- vertex credentials -----------------------------------------------------------------------------


def test_vertex_without_a_token_asks_google_auth_just_before_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real google-auth: application-default credentials from a service-account key file, whose
    token endpoint is a loopback server; the token it grants is the Bearer of the Vertex call."""
    monkeypatch.setattr(google_auth, "_DEFAULT", google_auth.TokenSource())  # nothing cached by earlier tests
    operation = (
        "projects/p/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/op1"
    )
    recorder = Recorder(ok({"name": operation}), ok({"name": operation + "b"}))
    with token_server() as tokens:
        key_file = service_account_file(tmp_path, tokens.token_uri)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        http = httpx.Client(transport=httpx.MockTransport(recorder))
        with Client(http_client=http, vertex_project="p") as client:
            assert tokens.grants == []  # nothing asked before the call
            video = client.videos.create("vertex_ai/veo-3.1-fast-generate-001", "a cat", seconds="4")
            client.videos.create("vertex_ai/veo-3.1-fast-generate-001", "a dog", seconds="4")
    assert len(tokens.grants) == 1  # the second call reused the cached, still valid token
    assert tokens.grants[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = tokens.claims()
    assert (claims["iss"], claims["scope"]) == (CLIENT_EMAIL, google_auth.CLOUD_PLATFORM_SCOPE)
    assert [r.headers["authorization"] for r in recorder.requests] == [f"Bearer {tokens.issued[0]}"] * 2
    assert recorder.requests[0].url.host == "us-central1-aiplatform.googleapis.com"
    assert decode(video.id) == VideoRef(
        "vertex_ai",
        "veo-3.1-fast-generate-001",
        operation,
        "4",
        "1280x720",
        decode(video.id).created_at,  # type: ignore[union-attr]
    )


def test_vertex_without_any_credentials_fails_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real google-auth, pointed at a key file that does not exist: no request is sent."""
    monkeypatch.setattr(google_auth, "_DEFAULT", google_auth.TokenSource())
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    with (
        Client(http_client=http, vertex_project="p") as client,
        pytest.raises(AuthenticationError, match="VERTEXAI_ACCESS_TOKEN"),
    ):
        client.videos.create("vertex_ai/veo-3.1-fast-generate-001", "a cat", seconds="4")
    assert recorder.requests == []


# ---- where stream_content writes ------------------------------------------------------------------


def test_stream_content_to_a_missing_directory_fails_before_any_request(tmp_path: Path) -> None:
    recorder = Recorder()
    vid = encode(VideoRef("openai", "sora-2", "video_abc"))
    with client_for(recorder) as client:
        with pytest.raises(FileNotFoundError, match=r"directory .*nodir.* does not exist") as info:
            client.videos.stream_content(vid, tmp_path / "nodir" / "out.mp4")
        assert ".part" not in str(info.value)
        with pytest.raises(IsADirectoryError, match="is a directory"):
            client.videos.stream_content(vid, tmp_path)
        (tmp_path / "file").write_bytes(b"x")
        with pytest.raises(NotADirectoryError, match="not a directory"):
            client.videos.stream_content(vid, tmp_path / "file" / "out.mp4")
    assert recorder.requests == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("model", "kwargs", "param"),
    [
        ("gemini/veo-2.0-generate-001", {"negative_prompt": 3}, "negative_prompt"),
        ("vertex_ai/veo-3.1-generate-001", {"generate_audio": "no"}, "generate_audio"),
    ],
)
def test_provider_params_of_the_wrong_type_are_rejected_before_any_request(
    model: str, kwargs: dict[str, object], param: str
) -> None:
    recorder = Recorder()
    client = client_for(recorder, vertex_project="p", vertex_access_token="t")
    with client, pytest.raises(BadRequestError, match="Invalid type") as info:
        client.videos.create(model, "a cat", **kwargs)  # type: ignore[arg-type]  # wrong types on purpose
    assert info.value.param == param
    assert recorder.requests == []
