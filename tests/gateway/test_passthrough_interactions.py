"""The Interactions pass-through use cases (Gemini Omni): the token reservation and the settled charge,
ownership of interactions and of ``previous_interaction_id``, cancel and delete with the money given
back, failures, idempotency, and the unknown-outcome rule; against the emulators over loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.google_gateway import GEMINI_KEY, MASTER, omni_config
from tests.support.google_gateway import google_emulators as emulators_for
from tests.support.media import probe

from vidgate.errors import APIError, BadRequestError, BudgetExceededError, NotFoundError
from vidgate.gateway.auth import Principal
from vidgate.gateway.config import parse_config
from vidgate.gateway.passthrough import GooglePassthrough
from vidgate.gateway.service import GatewayService
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner
from vidgate.worker.poller import Poller

FORMAT = {"type": "video", "aspect_ratio": "9:16", "resolution": "360p", "duration": "3s"}
# gemini-omni-1.2-flash at $12 per 1M output tokens: a 3 s video reserves 5,792 x 3 tokens and the
# emulator reports 5,760 x 3.
RESERVED_3S = 208_512
SETTLED_3S = 207_360
# gemini-omni-1.2-flash's longest duration at its default tier is 15 s: the bound of a body without a
# duration is the model's default, 8 s (5,792 x 8 tokens).
RESERVED_8S = 556_032
# Follow-ups (same row): reserved at 5,792 tokens per second, settled at the emulator's 5,760.
RESERVED_4S, SETTLED_4S = 278_016, 276_480
RESERVED_7S, SETTLED_7S = 486_528, 483_840
SETTLED_8S = 552_960
RESERVED_10S, SETTLED_10S = 695_040, 691_200
NO_DURATION = {"type": "video", "aspect_ratio": "9:16", "resolution": "360p"}


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with emulators_for(render_cache) as urls:
        yield urls


@pytest.fixture
async def api(emulators: tuple[str, str]) -> AsyncIterator[GooglePassthrough]:
    runner = AsyncRunner()
    yield GooglePassthrough(GatewayService(omni_config(*emulators), MemoryStores(), runner))
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


def body(prompt: str = "a red fox", **fields: Any) -> dict[str, Any]:
    return {"model": "omni", "input": prompt, "background": True, "response_format": FORMAT, **fields}


async def until_done(
    api: GooglePassthrough, p: Principal, surface: str, interaction_id: str
) -> dict[str, Any]:
    for _ in range(400):
        found = await api.get_interaction(p, surface, interaction_id)
        if found["status"] not in ("queued", "in_progress"):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{interaction_id} never finished")


async def test_reserves_the_token_bound_and_settles_the_reported_usage_once(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    uri = {**FORMAT, "delivery": "uri"}
    created, model_name = await api.start_interaction(p, "gemini", body(response_format=uri))
    assert (created["status"], model_name) == ("queued", "omni")
    assert created["id"].startswith("video_")
    assert await money(api, p) == (0, RESERVED_3S)
    done = await until_done(api, p, "gemini", created["id"])
    assert done["usage"]["total_output_tokens"] == 5760 * 3
    for _ in range(5):  # polls are never charged
        assert (await api.get_interaction(p, "gemini", created["id"]))["status"] == "completed"
    assert await money(api, p) == (SETTLED_3S, 0)
    job = await api.service.stores.jobs.get(created["id"])
    assert job is not None
    assert (job.api_surface, job.cost_micros, job.native_id.startswith("interactions/")) == (
        "gemini",
        SETTLED_3S,
        True,
    )
    file_id = done["output_video"]["uri"].rpartition("/")[2].removesuffix(":download?alt=media")
    stream = await api.open_file(p, "gemini", file_id, None)
    data = b"".join([chunk async for chunk in stream.chunks])
    assert (probe(data).width, probe(data).height) == (360, 640)


async def test_no_duration_reserves_the_models_default(api: GooglePassthrough) -> None:
    p = await key(api)
    await api.start_interaction(p, "gemini", {"model": "omni", "input": "a fox", "background": True})
    assert await money(api, p) == (0, RESERVED_8S)


async def test_budget_and_validation_stop_before_the_provider(api: GooglePassthrough) -> None:
    poor = await key(api, max_budget=0.1)
    with pytest.raises(BudgetExceededError):
        await api.start_interaction(poor, "gemini", body())
    with pytest.raises(BadRequestError) as bad:
        await api.start_interaction(poor, "gemini", body(response_format={**FORMAT, "duration": "99s"}))
    assert bad.value.param == "response_format.duration"
    with pytest.raises(BadRequestError) as veo:  # a Veo model is no interaction
        await api.start_interaction(poor, "gemini", body(model="veo-fast"))
    assert veo.value.param == "model"
    with pytest.raises(NotFoundError):  # a Vertex deployment is not served on the Gemini routes
        await api.start_interaction(poor, "gemini", body(model="omni-vertex"))
    assert await money(api, poor) == (0, 0)
    assert (await api.service.list_videos(poor, after=None, limit=10, order="asc")).data == []


async def test_only_the_owner_reads_cancels_deletes_or_continues(api: GooglePassthrough) -> None:
    owner, other = await key(api), await key(api)
    created, _ = await api.start_interaction(owner, "gemini", body())
    done = await until_done(api, owner, "gemini", created["id"])
    for call in (api.get_interaction, api.cancel_interaction, api.delete_interaction):
        with pytest.raises(NotFoundError):
            await call(other, "gemini", created["id"])
    with pytest.raises(NotFoundError):
        await api.start_interaction(other, "gemini", body(previous_interaction_id=created["id"]))
    with pytest.raises(NotFoundError):  # a Gemini job is not a Vertex interaction
        await api.get_interaction(owner, "vertex_ai", created["id"])
    with pytest.raises(NotFoundError):  # nor an operation
        await api.operation(owner, "gemini", f"models/omni/operations/{created['id']}")
    veo, _ = await api.start(owner, "gemini", "veo-fast", {"instances": [{"prompt": "x"}]}, resource="m")
    with pytest.raises(NotFoundError):  # a Veo operation is not an interaction
        await api.get_interaction(owner, "gemini", veo["name"].rpartition("/")[2])
    assert done["status"] == "completed"


async def test_an_edit_continues_the_callers_interaction_on_its_deployment(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    source, _ = await api.start_interaction(p, "gemini", body())
    with pytest.raises(BadRequestError) as early:  # not finished yet
        await api.start_interaction(p, "gemini", body("night", previous_interaction_id=source["id"]))
    assert early.value.param == "previous_interaction_id"
    await until_done(api, p, "gemini", source["id"])
    edit = {"model": "omni", "input": "make it night", "background": True}
    edit["previous_interaction_id"] = source["id"]
    edited, _ = await api.start_interaction(p, "gemini", edit)
    assert edited["previous_interaction_id"] == source["id"]
    done = await until_done(api, p, "gemini", edited["id"])
    assert done["response_format"]["duration"] == "3s"  # the source's format, as the API keeps it
    job = await api.service.stores.jobs.get(edited["id"])
    assert job is not None
    assert (job.remixed_from, job.seconds, job.size) == (source["id"], "3", "360x640")
    assert await money(api, p) == (2 * SETTLED_3S, 0)


async def finished(api: GooglePassthrough, p: Principal, raw: dict[str, Any]) -> str:
    created, _ = await api.start_interaction(p, "gemini", raw)
    assert (await until_done(api, p, "gemini", created["id"]))["status"] == "completed"
    return str(created["id"])


def follow_up(previous: str, task: str | None = None, **fields: Any) -> dict[str, Any]:
    raw = {"model": "omni", "input": "make it night", "background": True, "previous_interaction_id": previous}
    if task is not None:
        raw["generation_config"] = {"video_config": {"task": task}}
    return {**raw, **fields}


async def test_an_edit_refuses_a_duration_other_than_its_sources_length(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    source = await finished(api, p, body(response_format={**FORMAT, "duration": "10s"}))
    assert await money(api, p) == (SETTLED_10S, 0)
    short = follow_up(source, "edit", response_format={**FORMAT, "duration": "3s"})
    with pytest.raises(BadRequestError) as bad:  # the provider would make (and bill) all 10 s
        await api.start_interaction(p, "gemini", short)
    assert bad.value.param == "response_format.duration"
    assert "10s" in bad.value.message
    assert await money(api, p) == (SETTLED_10S, 0)
    same = follow_up(source, "edit", response_format={**FORMAT, "duration": "10s"})
    edited, _ = await api.start_interaction(p, "gemini", same)
    assert await money(api, p) == (SETTLED_10S, RESERVED_10S)
    # Without a task (a "conversational edit"): the API may keep the source's 10 s, the emulator makes
    # the 3 s asked for. The bound covers 10 s; the usage the provider reports settles it.
    loose, _ = await api.start_interaction(
        p, "gemini", follow_up(source, response_format={**FORMAT, "duration": "3s"})
    )
    assert await money(api, p) == (SETTLED_10S, 2 * RESERVED_10S)
    assert (await until_done(api, p, "gemini", loose["id"]))["usage"]["total_output_tokens"] == 5760 * 3
    await until_done(api, p, "gemini", edited["id"])
    assert await money(api, p) == (2 * SETTLED_10S + SETTLED_3S, 0)


async def test_an_edit_is_priced_at_its_sources_length(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    source = await finished(api, p, body(response_format={**FORMAT, "duration": "10s"}))
    edited, _ = await api.start_interaction(
        p, "gemini", follow_up(source, "edit", response_format=NO_DURATION)
    )
    assert await money(api, p) == (SETTLED_10S, RESERVED_10S)  # not the model's default 8 s
    done = await until_done(api, p, "gemini", edited["id"])
    assert done["usage"]["total_output_tokens"] == 5760 * 10
    assert await money(api, p) == (2 * SETTLED_10S, 0)


async def test_an_edit_of_an_extension_is_priced_at_the_whole_clip(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    source = await finished(api, p, body())
    extended = await finished(
        api, p, follow_up(source, "extend", response_format={**FORMAT, "duration": "4s"})
    )
    assert await money(api, p) == (SETTLED_3S + SETTLED_4S, 0)  # an extension bills the added 4 s
    edited, _ = await api.start_interaction(p, "gemini", follow_up(extended, "edit"))
    assert await money(api, p) == (SETTLED_3S + SETTLED_4S, RESERVED_7S)  # the 3 s source + 4 s
    done = await until_done(api, p, "gemini", edited["id"])
    assert done["usage"]["total_output_tokens"] == 5760 * 7
    assert await money(api, p) == (SETTLED_3S + SETTLED_4S + SETTLED_7S, 0)
    job = await api.service.stores.jobs.get(edited["id"])
    assert job is not None
    assert (job.task, job.seconds) == ("edit", "7")


@pytest.mark.parametrize("task", ["extend", None])
async def test_a_follow_up_without_a_format_takes_its_sources_format(
    api: GooglePassthrough, render_cache: Path, task: str | None
) -> None:
    """The source's ``response_format`` (here none: the model's default 8 s) is what the provider
    reuses, not the source's length (a 3 s edit of an uploaded clip)."""
    from vidgate.render import RenderSpec, render

    clip = render(RenderSpec(prompt="clip", seconds=3, width=640, height=360), cache_dir=render_cache)
    data = base64.b64encode(clip.video.read_bytes()).decode("ascii")
    p = await key(api, max_budget=5)
    edit = {
        "model": "omni",
        "input": [{"type": "text", "text": "make it red"}, {"type": "video", "data": data}],
        "background": True,
        "generation_config": {"video_config": {"task": "edit"}},
    }
    source = await finished(api, p, edit)
    spent, _ = await money(api, p)
    extended, _ = await api.start_interaction(p, "gemini", follow_up(source, task))
    assert await money(api, p) == (spent, RESERVED_8S)
    done = await until_done(api, p, "gemini", extended["id"])
    assert done["usage"]["total_output_tokens"] == 5760 * 8
    assert await money(api, p) == (spent + SETTLED_8S, 0)


async def test_a_remix_of_an_extension_is_priced_at_the_whole_clip(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    source = await finished(api, p, body())
    extended = await finished(
        api, p, follow_up(source, "extend", response_format={**FORMAT, "duration": "4s"})
    )
    remix = await api.service.remix_video(p, extended, "make it night")
    assert await money(api, p) == (SETTLED_3S + SETTLED_4S, RESERVED_7S)
    done = await until_done(api, p, "gemini", remix.id)
    assert done["usage"]["total_output_tokens"] == 5760 * 7
    assert await money(api, p) == (SETTLED_3S + SETTLED_4S + SETTLED_7S, 0)


async def test_cancel_and_delete_give_the_reservation_back(api: GooglePassthrough) -> None:
    p = await key(api, max_budget=5)
    created, _ = await api.start_interaction(p, "gemini", body("a slow cat"))
    cancelled = await api.cancel_interaction(p, "gemini", created["id"])
    assert cancelled["status"] == "cancelled"
    assert await money(api, p) == (0, 0)
    running, _ = await api.start_interaction(p, "gemini", body("another cat"))
    assert await api.delete_interaction(p, "gemini", running["id"]) == {}
    with pytest.raises(NotFoundError):
        await api.get_interaction(p, "gemini", running["id"])
    assert await money(api, p) == (0, 0)
    listed = await api.service.list_videos(p, after=None, limit=10, order="asc")
    assert [v.id for v in listed.data] == [created["id"]]


@pytest.mark.parametrize(
    ("prompt", "status"), [("a fox [fault:fail]", "failed"), ("a fox [fault:filtered]", "failed")]
)
async def test_a_failed_interaction_is_not_charged(api: GooglePassthrough, prompt: str, status: str) -> None:
    p = await key(api, max_budget=5)
    created, _ = await api.start_interaction(p, "gemini", body(prompt))
    done = await until_done(api, p, "gemini", created["id"])
    assert done["status"] == status
    assert done["errors"][0]["message"]
    assert "output_video" not in done
    assert await money(api, p) == (0, 0)


async def test_vertex_inline_video_from_the_provider_then_the_content_store(api: GooglePassthrough) -> None:
    p = await key(api)
    created, _ = await api.start_interaction(
        p, "vertex_ai", body(model="omni-vertex", response_format={**FORMAT, "delivery": "inline"})
    )
    done = await until_done(api, p, "vertex_ai", created["id"])
    assert done["output_video"]["mime_type"] == "video/mp4"
    assert done["output_video"]["data"]
    await Poller(api.service, worker_id="w").run_once()  # fetches the video into the content store
    job = await api.service.stores.jobs.get(created["id"])
    assert job is not None
    assert job.content_stored
    again = await api.get_interaction(p, "vertex_ai", created["id"])
    assert again["output_video"]["data"] == done["output_video"]["data"]


async def test_idempotency_key_on_interactions(api: GooglePassthrough) -> None:
    p = await key(api)
    first, _ = await api.start_interaction(p, "gemini", body(), idempotency_key="i-1")
    again, model_name = await api.start_interaction(p, "gemini", body(), idempotency_key="i-1")
    assert (again["id"], model_name) == (first["id"], "omni")
    with pytest.raises(APIError) as reused:
        await api.start_interaction(p, "gemini", body("another"), idempotency_key="i-1")
    assert reused.value.status_code == 422
    assert await money(api, p) == (0, RESERVED_3S)


async def test_an_answer_without_an_id_is_an_unknown_outcome_given_back_by_the_poller() -> None:
    requests: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"status": "in_progress"})

    params = {"model": "gemini/gemini-omni-1.2-flash", "api_key": GEMINI_KEY, "api_base": "http://gemini"}
    config = parse_config(
        {
            "model_list": [{"model_name": "omni", "litellm_params": params}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    runner = AsyncRunner(httpx.AsyncClient(transport=httpx.MockTransport(provider)))
    api = GooglePassthrough(GatewayService(config, MemoryStores(), runner))
    try:
        p = await key(api, max_budget=5)
        with pytest.raises(APIError) as caught:
            await api.start_interaction(p, "gemini", body())
        assert (caught.value.status_code, caught.value.code) == (502, "upstream_outcome_unknown")
        assert await money(api, p) == (0, RESERVED_3S)  # held until the poller resolves it
        await Poller(api.service, worker_id="w").run_once()
        assert await money(api, p) == (0, 0)
        assert [r.url.path for r in requests] == ["/v1/interactions"]
    finally:
        await runner.aclose()
