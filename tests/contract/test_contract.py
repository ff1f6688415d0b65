"""One contract every provider passes against its emulator over loopback, through Client and AsyncClient.

Parametrized over every provider package in ``CASES`` (each against its package's emulator) and local
(no emulator: it renders in-process), and over the sync and async clients:

- create -> poll -> download of a decodable MP4 with the requested duration and size;
- every declared operation (remix, list, delete), and UnsupportedOperationError for undeclared ones;
- faults: 429/503 on create are retried honouring Retry-After, a 500 on create is not re-sent, poll and
  download faults are retried, a slow create times out without a second POST, failed and filtered jobs
  surface as ``failed`` with the provider's reason, a bad key is an AuthenticationError, and an
  unsupported value is rejected before any request.

Fault tokens (``[fault:429]`` ...) go in the prompt; each test uses a fresh prompt, because an emulator
counts a create fault per prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tests.support.env import clear_provider_env
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import AsyncClient, Client, Video
from vidgate.catalog import ModelSpec, estimate_cost, open_model
from vidgate.emulators.common import EmulatorSettings
from vidgate.emulators.faults import NAMES
from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    Timeout,
    UnsupportedOperationError,
)
from vidgate.providers.azure import emulator as azure
from vidgate.providers.base import Capability
from vidgate.providers.bfl import emulator as bfl
from vidgate.providers.byteplus import emulator as byteplus
from vidgate.providers.catalogue import find_model
from vidgate.providers.dashscope import emulator as dashscope
from vidgate.providers.fal import emulator as fal
from vidgate.providers.gemini import emulator as gemini
from vidgate.providers.kling import emulator as kling
from vidgate.providers.luma import emulator as luma
from vidgate.providers.minimax import emulator as minimax
from vidgate.providers.openai import emulator as openai
from vidgate.providers.openai_compatible import emulator as openai_compatible
from vidgate.providers.registry import get_spec
from vidgate.providers.replicate import emulator as replicate
from vidgate.providers.runway import emulator as runway
from vidgate.providers.vertex_ai import emulator as vertex
from vidgate.providers.volcengine import emulator as volcengine
from vidgate.providers.xai import emulator as xai
from vidgate.sdk.aclient import AsyncVideos
from vidgate.sdk.client import Videos
from vidgate.sdk.ids import decode

pytestmark = pytest.mark.filterwarnings("ignore::vidgate.LifecycleWarning")

T = TypeVar("T")
KEY = "contract-key"
SLOW_SECONDS = 1.5
PROCESSING_SECONDS = 0.3
MAX_REAL_SLEEP = 0.1
EMULATORS: dict[str, Callable[[EmulatorSettings], Any]] = {
    "openai": openai.create_app,
    "azure": azure.create_app,
    "gemini": gemini.create_app,
    "vertex_ai": vertex.create_app,
    "xai": xai.create_app,
    "dashscope": dashscope.create_app,
    "fal": fal.create_app,
    "replicate": replicate.create_app,
    "luma": luma.create_app,
    "bfl": bfl.create_app,
    "kling": kling.create_app,
    "minimax": minimax.create_app,
    "runway": runway.create_app,
    "volcengine": volcengine.create_app,
    "byteplus": byteplus.create_app,
    "openai_compatible": openai_compatible.create_app,
}


@dataclass(frozen=True)
class Case:
    provider: str
    model: str
    seconds: str
    size: str
    bad_seconds: str  # a duration the model does not offer

    @property
    def http(self) -> bool:
        return self.provider != "local"


CASES = [
    Case("openai", "openai/sora-2", "4", "720x1280", "7"),
    Case("azure", "azure/sora-2", "4", "1280x720", "16"),
    Case("gemini", "gemini/veo-3.1-lite-generate-preview", "4", "1280x720", "5"),
    Case("vertex_ai", "vertex_ai/veo-3.1-fast-generate-001", "4", "1280x720", "5"),
    Case("gemini", "gemini/gemini-omni-1.2-flash", "4", "1280x720", "16"),
    Case("vertex_ai", "vertex_ai/gemini-omni-1.2-flash", "4", "1280x720", "16"),
    Case("kling", "kling/kling-v3-0", "3", "1280x720", "2"),
    Case("minimax", "minimax/MiniMax-H3-Max", "5", "854x480", "4"),
    Case("runway", "runway/gen4.5", "2", "1280x720", "11"),
    Case("volcengine", "volcengine/doubao-seedance-2-0-260128", "4", "864x496", "3"),
    Case("byteplus", "byteplus/dreamina-seedance-2-0-fast-260128", "4", "864x496", "3"),
    Case("local", "local/local-1", "2", "320x180", "9"),
    Case("xai", "xai/grok-imagine-video", "2", "848x480", "16"),
    Case("dashscope", "dashscope/wan3.0-video", "5", "832x480", "7"),
    Case("fal", "fal/luma/agent/ray/v3.2/text-to-video", "5", "960x540", "7"),
    Case("replicate", "replicate/google/veo-3.1", "4", "1280x720", "5"),
    Case("luma", "luma/ray-3.2", "5", "960x540", "7"),
    Case("bfl", "bfl/flux-3-video", "5", "1280x720", "4"),
    # an open model namespace: any model, any WxH, whole seconds up to catalog.validate.OPEN_MAX_SECONDS
    Case("openai_compatible", "openai_compatible/Wan-AI/Wan2.2-T2V-A14B", "2", "320x180", "9999"),
]


def row(model: str) -> ModelSpec:
    """The catalogue row, or the one an open-namespace provider builds for a model it lacks."""
    found = find_model(model)
    if found is not None:
        return found
    provider, _, name = model.partition("/")
    spec = get_spec(provider)
    assert spec.open_models
    return open_model(provider, name, features=spec.open_features)


def credentials(case: Case, url: str | None, key: str = KEY) -> dict[str, Any]:
    if case.provider in ("openai", "openai_compatible"):
        return {"api_key": key, "api_base": f"{url}/v1"}
    if case.provider == "azure":
        return {"api_key": key, "api_base": url, "api_version": "preview"}
    if case.provider in ("gemini", "fal", "replicate"):
        return {"api_key": key, "api_base": url}
    if case.provider == "xai":
        return {"api_key": key, "api_base": f"{url}/v1"}
    if case.provider == "dashscope":
        return {"api_key": key, "api_base": f"{url}/api/v1"}
    if case.provider == "luma":
        return {"api_key": key, "api_base": f"{url}/v1"}
    if case.provider == "bfl":
        return {"api_key": key, "api_base": url}
    if case.provider == "vertex_ai":
        return {"api_base": url, "vertex_project": "contract", "vertex_access_token": key}
    if case.provider == "kling":  # the access key; the secret key comes from KLING_SECRET_KEY
        return {"api_key": key, "api_base": url}
    if case.provider in ("minimax", "runway"):
        return {"api_key": key, "api_base": url}
    if case.provider in ("volcengine", "byteplus"):
        return {"api_key": key, "api_base": f"{url}/api/v3"}
    return {}


@dataclass
class Api:
    """One provider through one client kind, with every HTTP request and every pause recorded."""

    case: Case
    kind: str  # "sync" | "async"
    url: str | None
    requests: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    # Pauses are recorded as asked (Retry-After, poll hints) but kept short: the emulators count
    # faults per request, not per second, so waiting the full time would prove nothing more.
    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(min(seconds, MAX_REAL_SLEEP))

    async def _asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(min(seconds, MAX_REAL_SLEEP))

    def _record(self, request: httpx.Request) -> None:
        self.requests.append(f"{request.method} {request.url.path}")

    async def _arecord(self, request: httpx.Request) -> None:
        self._record(request)

    def call(
        self, action: Callable[[Videos], T], aaction: Callable[[AsyncVideos], Awaitable[T]], **overrides: Any
    ) -> T:
        """``action(client.videos)`` (sync) or ``await aaction(client.videos)`` (async), on a fresh client."""
        options = {**credentials(self.case, self.url), **overrides}
        timeout = options.pop("timeout", 30.0)  # a supplied http_client carries its own timeout
        if self.kind == "sync":
            http = httpx.Client(timeout=timeout, event_hooks={"request": [self._record]})
            with Client(http_client=http, sleep=self._sleep, **options) as client:
                try:
                    return action(client.videos)
                finally:
                    http.close()

        async def run() -> T:
            async with (
                httpx.AsyncClient(timeout=timeout, event_hooks={"request": [self._arecord]}) as http,
                AsyncClient(http_client=http, sleep=self._asleep, **options) as client,
            ):
                return await aaction(client.videos)

        return asyncio.run(run())

    # The operations, each as one call (so sync and async tests read the same).
    def create(self, prompt: str, **kwargs: Any) -> Video:
        c = self.case
        args = {"seconds": c.seconds, "size": c.size, **kwargs}
        overrides = args.pop("client", {})
        return self.call(
            lambda v: v.create(c.model, prompt, **args),
            lambda v: v.create(c.model, prompt, **args),
            **overrides,
        )

    def wait(self, video_id: str, seen: list[Video] | None = None) -> Video:
        log = seen if seen is not None else []
        return self.call(
            lambda v: v.wait(video_id, timeout=60, on_progress=log.append),
            lambda v: v.wait(video_id, timeout=60, on_progress=log.append),
        )

    def retrieve(self, video_id: str) -> Video:
        return self.call(lambda v: v.retrieve(video_id), lambda v: v.retrieve(video_id))

    def download(self, video_id: str, dest: Path) -> Path:
        return self.call(
            lambda v: v.stream_content(video_id, dest), lambda v: v.stream_content(video_id, dest)
        )

    def content(self, video_id: str) -> bytes:
        return bytes(self.call(lambda v: v.content(video_id), lambda v: v.content(video_id)))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_env(monkeypatch)
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)  # Kling signs its JWT with it (the emulator's key)
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", str(PROCESSING_SECONDS))


@pytest.fixture(scope="module")
def servers(render_cache: Path) -> Iterator[dict[str, str]]:
    settings = EmulatorSettings(
        api_key=KEY,
        processing_seconds=PROCESSING_SECONDS,
        poll_after_ms=100,
        slow_seconds=SLOW_SECONDS,
        cache_dir=render_cache,
    )
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(live_server(make(settings))) for name, make in EMULATORS.items()}


@pytest.fixture(params=CASES, ids=[c.model.replace("/", "-") for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    value: Case = request.param
    return value


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, case: Case, servers: dict[str, str]) -> Api:
    return Api(case, request.param, servers.get(case.provider))


def prompt(tag: str = "") -> str:
    """A fault token needs a fresh prompt (faults are counted per prompt); a plain prompt is reused so the
    emulators' render cache serves it."""
    return f"a contract cat {uuid.uuid4().hex[:8]} {tag}" if tag else "a contract cat"


def http_only(case: Case) -> None:
    if not case.http:
        pytest.skip("the local provider makes no HTTP calls: transport faults do not apply")


# ---- the main path ------------------------------------------------------------------------------


def test_create_poll_download(api: Api, tmp_path: Path) -> None:
    case = api.case
    video = api.create(prompt())
    ref = decode(video.id)
    assert ref is not None
    assert ref.provider == case.provider
    assert video.status in ("queued", "in_progress")
    assert (video.size, video.seconds) == (case.size, case.seconds)
    spec = row(case.model)
    assert video.usage is not None
    if spec.open_sizes:  # a model no catalogue lists has no price outside a gateway deployment
        assert video.usage.cost is None
    else:
        expected_cost = float(estimate_cost(spec, seconds=float(case.seconds), size=case.size))
        assert video.usage.cost == pytest.approx(expected_cost)

    seen: list[Video] = []
    done = api.wait(video.id, seen)
    assert (done.status, done.progress) == ("completed", 100)
    assert seen[-1].status == "completed"
    assert [v.progress for v in seen] == sorted(v.progress for v in seen)
    assert done.usage is not None
    assert done.usage.duration_seconds == float(case.seconds)

    path = api.download(done.id, tmp_path / "video.mp4")
    info = probe(path)
    assert f"{info.width}x{info.height}" == case.size
    assert info.duration == pytest.approx(float(case.seconds), abs=0.05)
    assert info.codec == "h264"
    assert api.retrieve(video.id).status == "completed"  # the id alone finds the video again


def test_declared_operations(api: Api) -> None:
    case = api.case
    spec = row(case.model)
    declared = {c for c in (Capability.REMIX, Capability.LIST, Capability.DELETE) if spec.has(c.value)}
    video = api.create(prompt())
    api.wait(video.id)
    ops: dict[Capability, Callable[[], Any]] = {
        Capability.REMIX: lambda: api.call(
            lambda v: v.remix(video.id, "the same cat, remixed"),
            lambda v: v.remix(video.id, "the same cat, remixed"),
        ),
        Capability.LIST: lambda: api.call(
            lambda v: v.list(case.model, limit=100), lambda v: v.list(case.model, limit=100)
        ),
        Capability.DELETE: lambda: api.call(lambda v: v.delete(video.id), lambda v: v.delete(video.id)),
    }
    for capability, run in ops.items():
        if capability in declared:
            continue
        before = len(api.requests)
        with pytest.raises(UnsupportedOperationError, match=capability.value):
            run()
        assert len(api.requests) == before
    if Capability.REMIX in declared:
        remix = ops[Capability.REMIX]()
        assert remix.remixed_from_video_id == video.id
        assert api.wait(remix.id).status == "completed"
    if Capability.LIST in declared:
        listed = ops[Capability.LIST]()
        native = {decode(v.id).native_id for v in listed.data if decode(v.id)}  # type: ignore[union-attr]
        assert decode(video.id).native_id in native  # type: ignore[union-attr]
    if Capability.DELETE in declared:
        deleted = ops[Capability.DELETE]()
        assert (deleted.id, deleted.deleted) == (video.id, True)
        # delete is a cancel: a finished job stays readable upstream
        if case.provider in ("fal", "replicate", "dashscope"):
            assert api.retrieve(video.id).status == "completed"
        else:
            with pytest.raises(NotFoundError):
                api.retrieve(video.id)


def test_unsupported_value_is_rejected_before_any_request(api: Api) -> None:
    with pytest.raises(BadRequestError) as info:
        api.create(prompt(), seconds=api.case.bad_seconds)
    assert info.value.param == "seconds"
    assert f"'{api.case.bad_seconds}'" in info.value.message
    assert api.requests == []


OUTCOME_FAULTS = ["fail", "filtered"]
CREATE_RETRIED = ["429", "503"]
POLL_RETRIED = ["poll-503", "poll-429", "poll-500", "drop"]
ONE_TEST_EACH = ["500", "download-503", "slow"]  # below: one test each


def test_every_fault_an_emulator_offers_is_exercised_here() -> None:
    """A new fault token fails this until a contract test injects it."""
    exercised = [*OUTCOME_FAULTS, *CREATE_RETRIED, *POLL_RETRIED, *ONE_TEST_EACH]
    assert sorted(exercised) == sorted(NAMES)


@pytest.mark.parametrize("outcome", OUTCOME_FAULTS)
def test_failed_and_filtered_jobs_surface_as_failed_with_the_reason(api: Api, outcome: str) -> None:
    video = api.create(prompt(f"[fault:{outcome}]"))
    done = api.wait(video.id)
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.message
    assert done.usage is None
    if outcome == "filtered":
        assert done.error.code == "moderation_blocked"
    else:
        assert done.error.code != "moderation_blocked"
    with pytest.raises(APIError):
        api.content(video.id)


# ---- transport faults (HTTP providers) ------------------------------------------------------------


def test_bad_key_is_an_authentication_error(api: Api) -> None:
    http_only(api.case)
    wrong = credentials(api.case, api.url, key="wrong-key")
    with pytest.raises(AuthenticationError):
        api.create(prompt(), client=wrong)


@pytest.mark.parametrize("status", CREATE_RETRIED)
def test_create_is_retried_on_429_and_503_honouring_retry_after(api: Api, status: str) -> None:
    http_only(api.case)
    video = api.create(prompt(f"[fault:{status}]"))
    assert video.status in ("queued", "in_progress")
    assert len(api.requests) == 2  # the refused POST, then the accepted one
    assert api.requests[0] == api.requests[1]
    assert api.sleeps == [1.0]  # every emulator answers these with Retry-After: 1


def test_a_500_on_create_is_not_sent_again(api: Api) -> None:
    http_only(api.case)
    with pytest.raises(InternalServerError):
        api.create(prompt("[fault:500]"))
    assert len(api.requests) == 1


@pytest.mark.parametrize("fault", POLL_RETRIED)
def test_poll_faults_are_retried(api: Api, fault: str) -> None:
    http_only(api.case)
    video = api.create(prompt(f"[fault:{fault}]"))
    assert api.wait(video.id).status == "completed"  # without a retry the first poll would raise
    if fault in ("poll-503", "poll-429"):
        assert 1.0 in api.sleeps  # the refused poll's Retry-After


def test_download_faults_are_retried(api: Api) -> None:
    http_only(api.case)
    extra = (
        {"extra_body": {"storageUri": "gs://contract-bucket/out"}} if api.case.provider == "vertex_ai" else {}
    )
    video = api.create(prompt("[fault:download-503]"), **extra)
    api.wait(video.id)
    before = len(api.requests)
    data = api.content(video.id)
    assert probe(data).frames > 0
    downloads = Counter(api.requests[before:])
    assert downloads.most_common(1)[0][1] == 2  # the refused GET was sent once more


def test_a_slow_create_times_out_without_a_second_post(api: Api) -> None:
    http_only(api.case)
    with pytest.raises(Timeout):
        api.create(prompt("[fault:slow]"), client={"timeout": SLOW_SECONDS / 3})
    assert len(api.requests) == 1
