"""The Gemini/Vertex pass-through use cases: the Google body checked against the catalogue, the exact
reservation, ownership, operations in Google's shape, and files; against the emulators over loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.genai._transformers import t_file_name
from tests.support.google_gateway import GEMINI_KEY, MASTER, google_config, google_emulators
from tests.support.images import image_bytes
from tests.support.media import probe

from vidgate.catalog import to_micros
from vidgate.errors import APIError, BadRequestError, BudgetExceededError, NotFoundError, RateLimitError
from vidgate.gateway.auth import Principal
from vidgate.gateway.config import parse_config
from vidgate.gateway.passthrough import GooglePassthrough
from vidgate.gateway.records import JobRecord
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers._google_wire import native as shapes
from vidgate.providers._google_wire.native import Surface
from vidgate.providers._google_wire.passthrough import NativeRequest, read_native_body
from vidgate.providers.catalogue import find_model
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.types import ImageInput
from vidgate.worker.poller import Poller

PNG = base64.b64encode(image_bytes(64, 36, "png")).decode("ascii")


def spec(model_id: str) -> Any:
    found = find_model(model_id)
    assert found is not None
    return found


def body(prompt: str | None = "a red fox", **parameters: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {} if prompt is None else {"prompt": prompt}
    return {"instances": [instance], "parameters": parameters}


def usd(value: float) -> int:
    return round(value * 1_000_000)


# ---- the body, checked against the catalogue (no I/O) -------------------------------------------


def test_defaults_are_veos_own() -> None:
    req = shapes.check_request(spec("gemini/veo-3.0-generate-preview"), read_native_body(body(), "gemini"))
    assert (req.seconds, req.size, req.n) == (8, "1280x720", 1)


@pytest.mark.parametrize(
    ("model", "params", "field", "words"),
    [
        ("gemini/veo-3.0-generate-preview", {"durationSeconds": 20}, "durationSeconds", "between 8 and 8"),
        ("gemini/veo-3.0-fast-generate-001", {"durationSeconds": 5}, "durationSeconds", "4, 6, 8"),
        ("gemini/veo-3.0-fast-generate-001", {"durationSeconds": 4.5}, "durationSeconds", "TYPE_INT32"),
        (
            "gemini/veo-3.1-generate-preview",
            {"resolution": "1080p", "durationSeconds": 4},
            "durationSeconds",
            "8",
        ),
        ("gemini/veo-3.0-fast-generate-001", {"aspectRatio": "1:1"}, "aspectRatio", "16:9, 9:16"),
        (
            "gemini/veo-3.0-fast-generate-001",
            {"aspectRatio": "9:16", "resolution": "1080p"},
            "resolution",
            "720p",
        ),
        ("gemini/veo-2.0-generate-001", {"resolution": "720p"}, "resolution", "isn't supported"),
        ("gemini/veo-2.0-generate-001", {"sampleCount": 3}, "sampleCount", "between 1 and 2"),
        ("gemini/veo-2.0-generate-001", {"sampleCount": True}, "sampleCount", "TYPE_INT32"),
        (
            "gemini/veo-3.0-fast-generate-001",
            {"personGeneration": "everyone"},
            "personGeneration",
            "allow_all",
        ),
        ("gemini/veo-3.0-fast-generate-001", {"generateAudio": False}, "generateAudio", "generateAudio"),
    ],
)
def test_bad_parameters_name_the_google_field(
    model: str, params: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        shapes.check_request(spec(model), read_native_body(body(**params), "gemini"))
    assert caught.value.param == field
    assert words in caught.value.message


def test_image_makes_the_prompt_optional() -> None:
    native = read_native_body(
        {"instances": [{"image": {"bytesBase64Encoded": PNG, "mimeType": "image/png"}}]}, "gemini"
    )
    req = shapes.check_request(spec("gemini/veo-3.0-fast-generate-001"), native)
    assert req.input_reference is not None
    with pytest.raises(BadRequestError) as caught:
        shapes.check_request(spec("gemini/veo-3.0-fast-generate-001"), NativeRequest(prompt="  "))
    assert caught.value.param == "prompt"


def test_video_extension_is_refused_with_a_reason() -> None:
    native = NativeRequest(prompt="more", has_video=True)
    with pytest.raises(BadRequestError, match="price") as caught:
        shapes.check_request(spec("gemini/veo-3.1-generate-preview"), native)
    assert caught.value.param == "video"


def test_native_body_shapes() -> None:
    inline = {"inlineData": {"data": PNG, "mimeType": "image/png"}}
    assert read_native_body({"instances": [{"prompt": "p", "image": inline}]}, "gemini").image is not None
    gcs = {"gcsUri": "gs://b/in.png", "mimeType": "image/png"}
    read_image = read_native_body({"instances": [{"prompt": "p", "image": gcs}]}, "vertex_ai").image
    assert read_image == ImageInput(url="gs://b/in.png", mime_type="image/png")
    cases: list[tuple[Any, str]] = [
        ([], "body"),
        ({"instances": []}, "instances"),
        ({"instances": [{"prompt": "a"}, {"prompt": "b"}]}, "instances"),
        ({"instances": [{"prompt": 3}]}, "prompt"),
        ({"instances": [{"prompt": "a"}], "parameters": [1]}, "parameters"),
        ({"instances": [{"prompt": "a", "image": gcs}]}, "image"),
        (
            {"instances": [{"prompt": "a", "image": {"bytesBase64Encoded": "%%%", "mimeType": "image/png"}}]},
            "image",
        ),
        ({"instances": [{"prompt": "a"}], "webhookConfig": {"uris": ["https://x"]}}, "webhookConfig"),
        # Google's JSON parser reads the proto's own snake_case name as the field too.
        ({"instances": [{"prompt": "a"}], "webhook_config": {"uris": ["https://x"]}}, "webhook_config"),
    ]
    for raw, field in cases:
        with pytest.raises(BadRequestError) as caught:
            read_native_body(raw, "gemini")
        assert caught.value.param == field, raw


# ---- file ids and operations (no I/O) ------------------------------------------------------------


def test_file_ids_are_what_google_genai_extracts() -> None:
    job_id = "video_" + "0123456789abcdef" * 2
    uri = shapes.file_uri(job_id, 1)
    assert uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    assert t_file_name(uri) == shapes.file_id(job_id, 1)  # the SDK's own extraction
    assert shapes.parse_file_id(t_file_name(uri)) == shapes.FileRef(job_id, 1)
    for junk in ("", "abc", "0123456789ABCDEF" * 2 + "s0", "0123456789abcdef" * 2, "../etc"):
        assert shapes.parse_file_id(junk) is None


def _job(**fields: Any) -> JobRecord:
    base: dict[str, Any] = {
        "id": "video_" + "ab" * 16,
        "owner_key_id": "key_1",
        "model_name": "veo-fast",
        "deployment_id": "dep",
        "provider": "gemini",
        "native_id": "models/veo/operations/x",
        "status": "completed",
        "created_at": 1,
        "size": "1280x720",
        "seconds": "4",
    }
    return JobRecord(**{**base, **fields})


def test_operations_in_google_shape() -> None:
    name = "models/veo-fast/operations/video_x"
    assert shapes.gemini_operation(_job(status="in_progress"), name) == {"name": name, "done": False}
    two = {
        "response": {
            "generateVideoResponse": {
                "generatedSamples": [{"video": {"uri": "u1"}}, {"video": {"uri": "u2"}}]
            }
        }
    }
    done = shapes.gemini_operation(_job(native_payload=two), name)
    uris = [s["video"]["uri"] for s in done["response"]["generateVideoResponse"]["generatedSamples"]]
    assert uris == [shapes.file_uri("video_" + "ab" * 16, i) for i in range(2)]
    failed = shapes.gemini_operation(_job(status="failed", error_code="timeout", error_message="late"), name)
    assert failed["error"] == {"code": 4, "message": "late"}
    native_error = {"error": {"code": 13, "message": "internal"}}
    assert (
        shapes.gemini_operation(_job(status="failed", native_payload=native_error), name)["error"]["code"]
        == 13
    )
    blocked = shapes.gemini_operation(
        _job(status="failed", error_code="moderation_blocked", error_message="no"), name
    )
    assert blocked["response"]["generateVideoResponse"] == {
        "raiMediaFilteredCount": 1,
        "raiMediaFilteredReasons": ["no"],
    }
    vertex = shapes.vertex_operation(_job(), "projects/p/x/operations/video_x", [{"gcsUri": "gs://b/o"}])
    assert vertex["response"]["videos"] == [{"gcsUri": "gs://b/o"}]


# ---- against the emulators -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with google_emulators(render_cache) as urls:
        yield urls


@pytest.fixture
async def api(emulators: tuple[str, str]) -> AsyncIterator[GooglePassthrough]:
    runner = AsyncRunner()
    service = GatewayService(google_config(*emulators), MemoryStores(), runner)
    yield GooglePassthrough(service)
    await runner.aclose()


async def key(api: GooglePassthrough, **fields: Any) -> Principal:
    master = await api.service.authenticate(MASTER)
    secret, _ = await api.service.generate_key(master, **fields)
    return await api.service.authenticate(secret)


async def money(api: GooglePassthrough, p: Principal) -> tuple[int, int]:
    """(spend, reserved) in micro-USD."""
    assert p.key is not None
    record = await api.service.stores.keys.get(p.key.id)
    assert record is not None
    return record.spend_micros, record.reserved_micros


async def until_done(api: GooglePassthrough, p: Principal, surface: Any, name: str) -> dict[str, Any]:
    for _ in range(400):
        op = await api.operation(p, surface, name)
        if op["done"]:
            return op
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never finished")


async def read_all(api: GooglePassthrough, p: Principal, file_id: str) -> bytes:
    stream = await api.open_file(p, "gemini", file_id, None)
    return b"".join([chunk async for chunk in stream.chunks])


async def test_reserves_the_exact_price_and_charges_once(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=10)
    op, _ = await api.start(p, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
    assert op["name"].startswith("models/veo-fast/operations/video_")
    assert await money(api, p) == (0, to_micros(spec("gemini/veo-3.0-fast-generate-001").prices["720p"] * 4))
    done = await until_done(api, p, "gemini", op["name"])
    for _ in range(10):  # polls are never charged
        assert await api.operation(p, "gemini", op["name"]) == done
    assert await money(api, p) == (usd(0.15 * 4), 0)
    logs = await api.service.stores.ledger.spend_logs(
        key_id=p.key.id if p.key else None, start=None, end=None, limit=10
    )
    assert [(e.job_id, e.cost_micros) for e in logs] == [(op["name"].rpartition("/")[2], usd(0.6))]
    uri = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    video = await read_all(api, p, t_file_name(uri))
    assert probe(video).duration == pytest.approx(4, abs=0.1)


async def test_default_duration_is_reserved(api: GooglePassthrough) -> None:
    p = await key(api)
    await api.start(
        p, "gemini", "veo-3.0-generate-preview", body(), resource="models/veo-3.0-generate-preview"
    )
    assert await money(api, p) == (0, usd(0.75 * 8))


async def test_every_sample_is_priced_and_downloadable(api: GooglePassthrough) -> None:
    p = await key(api)
    op, _ = await api.start(
        p, "gemini", "veo-2", body(durationSeconds=5, sampleCount=2), resource="models/veo-2"
    )
    assert await money(api, p) == (0, usd(0.35 * 5 * 2))
    done = await until_done(api, p, "gemini", op["name"])
    samples = done["response"]["generateVideoResponse"]["generatedSamples"]
    ids = [t_file_name(s["video"]["uri"]) for s in samples]
    assert len(set(ids)) == 2
    first, second = [await read_all(api, p, i) for i in ids]
    assert probe(first).frames > 0
    assert probe(second).frames > 0
    assert first != second
    with pytest.raises(NotFoundError):
        await api.open_file(p, "gemini", ids[0][:-1] + "2", None)
    assert await money(api, p) == (usd(3.5), 0)


async def test_only_the_owner_sees_operations_and_files(api: GooglePassthrough) -> None:
    owner, other = await key(api), await key(api)
    op, _ = await api.start(owner, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
    done = await until_done(api, owner, "gemini", op["name"])
    file_id = t_file_name(done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"])
    with pytest.raises(NotFoundError):
        await api.operation(other, "gemini", op["name"])
    with pytest.raises(NotFoundError):
        await api.open_file(other, "gemini", file_id, None)
    with pytest.raises(NotFoundError):
        await api.operation(owner, "gemini", "models/veo-fast/operations/video_" + "0" * 32)
    with pytest.raises(NotFoundError):  # a Gemini job is not a Vertex operation
        await api.operation(owner, "vertex_ai", op["name"])


async def test_model_names_public_or_the_providers_own(api: GooglePassthrough) -> None:
    limited = await key(api, models=["veo-fast"])
    for model in ("veo-fast", "veo-3.0-fast-generate-001"):
        op, _ = await api.start(limited, "gemini", model, body(durationSeconds=4), resource=f"models/{model}")
        job = await api.service.stores.jobs.get(op["name"].rpartition("/")[2])
        assert job is not None
        assert (job.model_name, job.api_surface) == ("veo-fast", "gemini")
    refused: list[tuple[str, Surface]] = [
        ("veo-3", "gemini"),
        ("veo-3.0-generate-preview", "gemini"),
        ("veo-fast", "vertex_ai"),
        ("nope", "gemini"),
    ]
    for model, surface in refused:
        with pytest.raises(NotFoundError):
            await api.start(limited, surface, model, body(), resource=f"models/{model}")
    anyone = await key(api)
    others: list[tuple[str, Surface]] = [
        ("sora-2", "gemini"),
        ("veo-vertex", "gemini"),
        ("veo-3", "vertex_ai"),
    ]
    for model, surface in others:
        with pytest.raises(NotFoundError):
            await api.start(anyone, surface, model, body(), resource=f"models/{model}")


@pytest.mark.parametrize(
    ("prompt", "expect"), [("[fault:filtered] a fox", "filtered"), ("[fault:fail] a fox", "error")]
)
async def test_failed_or_filtered_releases_the_reservation(
    api: GooglePassthrough, prompt: str, expect: str
) -> None:
    p = await key(api, max_budget=1)
    op, _ = await api.start(
        p, "gemini", "veo-fast", body(prompt, durationSeconds=4), resource="models/veo-fast"
    )
    done = await until_done(api, p, "gemini", op["name"])
    if expect == "filtered":
        result = done["response"]["generateVideoResponse"]
        assert result["raiMediaFilteredCount"] == 1
        assert "generatedSamples" not in result
    else:
        assert isinstance(done["error"]["code"], int)
        assert done["error"]["message"]
    assert await money(api, p) == (0, 0)


async def test_budget_rate_and_validation_stop_before_the_provider(api: GooglePassthrough) -> None:
    poor = await key(api, max_budget=0.5)
    with pytest.raises(BudgetExceededError):
        await api.start(poor, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
    with pytest.raises(BadRequestError):
        await api.start(poor, "gemini", "veo-fast", body(durationSeconds=9), resource="models/veo-fast")
    assert await money(api, poor) == (0, 0)
    assert (await api.service.list_videos(poor, after=None, limit=10, order="asc")).data == []
    slow = await key(api, rpm_limit=1)
    await api.start(slow, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
    with pytest.raises(RateLimitError):
        await api.start(slow, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")


async def test_jobs_cross_surfaces(api: GooglePassthrough) -> None:
    p = await key(api)
    video = await api.service.create_video(p, CreateVideo(model="veo-fast", prompt="a fox", seconds="4"))
    name = f"models/veo-fast/operations/{video.id}"
    done = await until_done(api, p, "gemini", name)
    file_id = t_file_name(done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"])
    assert probe(await read_all(api, p, file_id)).frames > 0
    op, _ = await api.start(
        p, "gemini", "veo-fast", body("a cat", durationSeconds=4), resource="models/veo-fast"
    )
    listed = await api.service.list_videos(p, after=None, limit=10, order="asc")
    assert [v.id for v in listed.data] == [video.id, op["name"].rpartition("/")[2]]
    assert (listed.data[1].prompt, listed.data[1].seconds, listed.data[1].model) == ("a cat", "4", "veo-fast")


async def test_vertex_returns_videos_inline(api: GooglePassthrough) -> None:
    p = await key(api)
    resource = "projects/mine/locations/europe-west4/publishers/google/models/veo-vertex"
    op, _ = await api.start(
        p, "vertex_ai", "veo-vertex", body(durationSeconds=4, sampleCount=2), resource=resource
    )
    assert op["name"].startswith(resource + "/operations/video_")
    assert await money(api, p) == (0, usd(0.10 * 4 * 2))
    done = await until_done(api, p, "vertex_ai", op["name"])
    videos = done["response"]["videos"]
    assert [v["mimeType"] for v in videos] == ["video/mp4", "video/mp4"]
    assert all(probe(base64.b64decode(v["bytesBase64Encoded"])).frames > 0 for v in videos)
    assert await money(api, p) == (usd(0.8), 0)


async def test_vertex_single_video_comes_from_the_content_store(api: GooglePassthrough) -> None:
    p = await key(api)
    resource = "publishers/google/models/veo-vertex"
    op, _ = await api.start(p, "vertex_ai", "veo-vertex", body(durationSeconds=4), resource=resource)
    live = (await until_done(api, p, "vertex_ai", op["name"]))["response"]["videos"][0]
    job_id = op["name"].rpartition("/")[2]
    stored = b"stored copy"

    async def chunks() -> AsyncIterator[bytes]:
        yield stored

    await api.service.stores.content.put(job_id, "video", chunks(), "video/mp4")
    job = await api.service.stores.jobs.get(job_id)
    assert job is not None
    job.content_stored = True
    assert await api.service.stores.jobs.save(job)
    again = (await api.operation(p, "vertex_ai", op["name"]))["response"]["videos"]
    assert probe(base64.b64decode(live["bytesBase64Encoded"])).frames > 0
    assert again == [{"bytesBase64Encoded": base64.b64encode(stored).decode(), "mimeType": "video/mp4"}]


async def test_vertex_storage_uri_outputs_stay_gcs(api: GooglePassthrough) -> None:
    p = await key(api)
    resource = "publishers/google/models/veo-vertex"
    req = body(durationSeconds=4, storageUri="gs://team-bucket/out")
    op, _ = await api.start(p, "vertex_ai", "veo-vertex", req, resource=resource)
    done = await until_done(api, p, "vertex_ai", op["name"])
    [video] = done["response"]["videos"]
    assert video["gcsUri"].startswith("gs://team-bucket/out/")
    assert "bytesBase64Encoded" not in video


def _two_deployments(gemini_url: str) -> GatewayService:
    """``veo-fast`` twice on the same Gemini emulator: a create tried on both would succeed on the second."""
    params = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_key": GEMINI_KEY,
        "api_base": gemini_url,
    }
    config = parse_config(
        {
            "model_list": [
                {"model_name": "veo-fast", "litellm_params": params, "model_info": {"id": "first"}},
                {"model_name": "veo-fast", "litellm_params": params, "model_info": {"id": "second"}},
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    return GatewayService(config, MemoryStores(), AsyncRunner(retry=RetryPolicy(max_retries=0)))


async def test_passthrough_falls_back_only_on_a_definite_refusal(emulators: tuple[str, str]) -> None:
    service = _two_deployments(emulators[0])
    api = GooglePassthrough(service)
    p = await key(api, max_budget=10)
    made, _ = await api.start(
        p, "gemini", "veo-fast", body("a fox [fault:503]", durationSeconds=4), resource="m"
    )
    assert made["name"].startswith("m/operations/video_")  # the 503 was a refusal: the other one made it
    with pytest.raises(APIError) as caught:
        await api.start(p, "gemini", "veo-fast", body("a fox [fault:500]", durationSeconds=4), resource="m")
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_outcome_unknown")
    listed = await service.list_videos(p, after=None, limit=10, order="asc")
    made_id, unknown_id = (v.id for v in listed.data)  # no job made elsewhere; the unknown one waits
    assert made_id == made["name"].rpartition("/")[2]
    await Poller(service, worker_id="w").run_once()  # Gemini cannot list: the unknown create is failed
    unknown = await service.stores.jobs.get(unknown_id)
    assert unknown is not None
    assert (unknown.status, unknown.error_code) == ("failed", "upstream_outcome_unknown")
    assert await money(api, p) == (0, usd(0.15 * 4))  # only the job that exists holds a reservation
    await service.runner.aclose()


async def test_an_answer_without_an_operation_name_gives_the_admission_back() -> None:
    """A provider that answers the create without naming an operation: the outcome is unknown (502), the
    gateway does not try elsewhere, and the poller's next round gives the caller their budget and slot
    back (the job cannot be found: Gemini cannot list)."""
    requests: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={})

    params = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_key": GEMINI_KEY,
        "api_base": "http://gemini",
    }
    config = parse_config(
        {
            "model_list": [{"model_name": "veo-fast", "litellm_params": params}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    runner = AsyncRunner(httpx.AsyncClient(transport=httpx.MockTransport(provider)))
    api = GooglePassthrough(GatewayService(config, MemoryStores(), runner))
    p = await key(api, max_budget=10, max_parallel_requests=1)
    poller = Poller(api.service, worker_id="w")
    for _ in range(2):  # the second attempt proves the concurrency slot came back too
        with pytest.raises(APIError) as caught:
            await api.start(p, "gemini", "veo-fast", body(durationSeconds=4), resource="m")
        assert (caught.value.status_code, caught.value.code) == (502, "upstream_outcome_unknown")
        assert await money(api, p) == (0, usd(0.15 * 4))  # held until the poller resolves it
        await poller.run_once()
        assert await money(api, p) == (0, 0)
    assert len(requests) == 2
    listed = await api.service.list_videos(p, after=None, limit=10, order="asc")
    assert [(v.status, v.error.code if v.error else None) for v in listed.data] == [
        ("failed", "upstream_outcome_unknown")
    ] * 2
    await runner.aclose()


async def test_deployment_rpm_applies_to_the_pass_through_as_to_create(emulators: tuple[str, str]) -> None:
    gemini_url, _ = emulators
    params = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "api_key": GEMINI_KEY,
        "api_base": gemini_url,
        "allow_retired": True,
    }
    config = parse_config(
        {
            "model_list": [{"model_name": "veo-fast", "litellm_params": {**params, "rpm": 2}}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    runner = AsyncRunner()
    api = GooglePassthrough(GatewayService(config, MemoryStores(), runner))
    try:
        p = await key(api)
        await api.start(p, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
        await api.service.create_video(p, CreateVideo(model="veo-fast", prompt="a fox", seconds="4"))
        with pytest.raises(RateLimitError) as caught:
            await api.start(p, "gemini", "veo-fast", body(durationSeconds=4), resource="models/veo-fast")
        assert caught.value.code == "deployment_rate_limited"
        listed = await api.service.list_videos(p, after=None, limit=10, order="asc")
        assert len(listed.data) == 2
        assert await money(api, p) == (0, 1_200_000)  # two 4 s videos at $0.15/s, still running
    finally:
        await runner.aclose()


async def test_idempotency_key_on_predict_long_running(api: GooglePassthrough) -> None:
    p = await key(api)
    fast = body(durationSeconds=4)
    first, _ = await api.start(p, "gemini", "veo-fast", fast, resource="models/veo-fast")
    op, _ = await api.start(p, "gemini", "veo-fast", fast, resource="models/veo-fast", idempotency_key="i-1")
    again, model_name = await api.start(
        p, "gemini", "veo-fast", fast, resource="models/veo-fast", idempotency_key="i-1"
    )
    assert (again, model_name) == (op, "veo-fast")
    assert op != first
    with pytest.raises(APIError) as reused:
        await api.start(
            p,
            "gemini",
            "veo-fast",
            body(durationSeconds=6),
            resource="models/veo-fast",
            idempotency_key="i-1",
        )
    assert reused.value.status_code == 422
    listed = await api.service.list_videos(p, after=None, limit=10, order="asc")
    assert len(listed.data) == 2
    assert await money(api, p) == (0, 1_200_000)  # two 4 s videos at $0.15/s reserved, not three
