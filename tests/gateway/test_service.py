"""The gateway's use cases on in-memory stores and the local provider (clock moved by hand)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.gateway.harness import Gateway, job_record, local_entries, make_config, make_gateway
from tests.support.guards import configured, guardrails

from vidgate.errors import (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ContentPolicyViolationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from vidgate.gateway.guardrails import GuardInput, Verdict
from vidgate.gateway.records import KeyQuery
from vidgate.gateway.service import CreateVideo
from vidgate.store.factory import open_stores
from vidgate.store.memory import MemoryStores
from vidgate.types import VIDEO_ID_PREFIX

FOX_COST = 0.1  # 1 s at the harness price of $0.10/s


async def _drain(stream_chunks: object) -> bytes:
    return b"".join([c async for c in stream_chunks])  # type: ignore[attr-defined]


# ---- create ------------------------------------------------------------------------------------


async def test_create_returns_a_queued_video_with_an_opaque_id_and_estimate(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    assert video.id.startswith(VIDEO_ID_PREFIX)
    assert len(video.id) == len(VIDEO_ID_PREFIX) + 32
    assert (video.status, video.model, video.size, video.seconds) == ("queued", "local-1", "320x180", "1")
    assert video.usage is not None
    assert (video.usage.duration_seconds, video.usage.cost, video.usage.cost_is_estimate) == (
        1.0,
        FOX_COST,
        True,
    )
    key = await gw.key(alice)
    # a running job holds a slot also on a key without max_parallel_requests (a later limit counts it)
    assert (key.reserved_micros, key.spend_micros, key.active_jobs) == (100_000, 0, 1)


async def test_validation_fails_before_any_provider_call(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    with pytest.raises(BadRequestError) as caught:
        await gw.create(alice, seconds="9")
    assert caught.value.param == "seconds"
    assert "Supported values are" in caught.value.message
    with pytest.raises(BadRequestError) as bad_size:
        await gw.create(alice, size="123x456")
    assert bad_size.value.param == "size"
    with pytest.raises(BadRequestError) as no_prompt:
        await gw.service.create_video(alice, CreateVideo(model="local-1", prompt=None))
    assert no_prompt.value.param == "prompt"
    with pytest.raises(BadRequestError) as unsupported:
        await gw.create(alice, extra={"person_generation": "allow_all"})
    assert unsupported.value.param == "person_generation"
    with pytest.raises(BadRequestError) as unknown:
        await gw.create(alice, extra={"fps": 24})
    assert (unknown.value.param, unknown.value.code) == ("fps", "unknown_parameter")
    assert gw.local.calls["create"] == 0
    key = await gw.key(alice)
    assert key.reserved_micros == 0


async def test_unknown_and_forbidden_models_answer_the_same_404(gw: Gateway) -> None:
    limited = await gw.new_key("limited", models=["local-1"])
    with pytest.raises(NotFoundError) as unknown:
        await gw.create(limited, model="sora-9")
    assert unknown.value.param == "model"
    assert unknown.value.code == "model_not_found"
    gw2_config = make_config(local_entries(gw.root, "local-1", "local-2"))
    gw2 = make_gateway(gw.root, config=gw2_config)
    only_one = await gw2.new_key("only-one", models=["local-1"])
    with pytest.raises(NotFoundError) as forbidden:
        await gw2.create(only_one, model="local-2")
    # local-2 exists but this key may not use it: the same words as an unknown model, and only the
    # models this key may use are listed
    assert forbidden.value.message == (
        "The model 'local-2' does not exist or you do not have access to it. "
        "Models available to this key: local-1."
    )
    assert [m["id"] for m in await gw2.service.list_models(only_one)] == ["local-1"]
    assert [m["id"] for m in await gw2.service.list_models(await gw2.master())] == ["local-1", "local-2"]
    await gw2.close()


async def test_wrong_and_revoked_keys_are_rejected(gw: Gateway) -> None:
    with pytest.raises(AuthenticationError) as missing:
        await gw.service.authenticate(None)
    assert missing.value.code == "missing_api_key"
    with pytest.raises(AuthenticationError) as wrong:
        await gw.service.authenticate("sk-nope-nope-nope-nope")
    assert wrong.value.status_code == 401
    alice = await gw.new_key("alice")
    assert alice.key is not None
    await gw.service.update_key(await gw.master(), alice.key.id, blocked=True)
    with pytest.raises(AuthenticationError, match="revoked"):
        await gw.service.authenticate(gw.keys["alice"])


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"blocked": True}, AuthenticationError),
        ({"max_parallel_requests": 1}, RateLimitError),  # one job already runs
        ({"rpm_limit": 1}, RateLimitError),  # one request already counted this minute
        ({"max_budget": 0.15}, BudgetExceededError),  # 0.1 reserved, 0.1 more asked
    ],
)
async def test_a_key_changed_while_its_request_was_in_flight_starts_nothing_the_change_forbids(
    gw: Gateway, change: dict[str, object], refused: type[Exception]
) -> None:
    """The request authenticated before its body was read and screened; a paid start reads the key as
    it is now, so a key blocked or limited meanwhile is refused as a new request would be."""
    alice = await gw.new_key("alice", max_budget=10, max_parallel_requests=5, rpm_limit=5)
    await gw.create(alice)
    assert alice.key is not None
    await gw.service.update_key(await gw.master(), alice.key.id, **change)
    with pytest.raises(refused):
        await gw.create(alice)  # ``alice``: the principal as it authenticated, before the change
    key = await gw.key(alice)
    assert (key.reserved_micros, key.active_jobs) == (100_000, 1)
    assert gw.local.calls["create"] == 1


async def test_a_limit_set_while_jobs_run_counts_them(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_budget=10)  # no max_parallel_requests
    for _ in range(3):
        await gw.create(alice)
    assert alice.key is not None
    await gw.service.update_key(await gw.master(), alice.key.id, max_parallel_requests=2)
    with pytest.raises(RateLimitError):  # three already run
        await gw.create(alice)
    gw.finish_local_jobs()
    for video in (await gw.service.list_videos(alice, after=None, limit=10, order="desc")).data:
        await gw.service.get_video(alice, video.id)  # each poll finishes its job and frees its slot
    assert (await gw.key(alice)).active_jobs == 0
    await gw.create(alice)


# ---- ownership ---------------------------------------------------------------------------------


async def test_another_keys_video_is_exactly_as_unknown(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    bob = await gw.new_key("bob")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    assert (await gw.service.get_video(alice, video.id)).status == "completed"

    async def answers(call: object) -> tuple[int, str]:
        try:
            await call  # type: ignore[misc]
        except NotFoundError as exc:
            return exc.status_code, exc.message.replace(video.id, "ID").replace("video_unknown", "ID")
        raise AssertionError("expected 404")

    for target in (video.id, "video_unknown"):
        assert await answers(gw.service.get_video(bob, target)) == (404, "No video found with id 'ID'.")
        assert await answers(gw.service.open_content(bob, target, "video", None)) == (
            404,
            "No video found with id 'ID'.",
        )
        assert await answers(gw.service.remix_video(bob, target, "again")) == (
            404,
            "No video found with id 'ID'.",
        )
        assert await answers(gw.service.delete_video(bob, target)) == (404, "No video found with id 'ID'.")
    assert (await gw.service.list_videos(bob, after=None, limit=20, order="desc")).data == []
    master_list = await gw.service.list_videos(await gw.master(), after=None, limit=20, order="desc")
    assert [v.id for v in master_list.data] == [video.id]  # the operator sees every owner's videos
    assert [v.id for v in (await gw.service.list_videos(alice, after=None, limit=20, order="desc")).data] == [
        video.id
    ]
    assert gw.local.calls["remix"] == 0
    assert gw.local.calls["delete"] == 0


# ---- status, settle, release -------------------------------------------------------------------


async def test_completion_settles_once_and_frees_the_slot(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_parallel_requests=2)
    video = await gw.create(alice)
    assert (await gw.key(alice)).active_jobs == 1
    gw.clock.advance(0.5)
    assert (await gw.service.get_video(alice, video.id)).status in ("queued", "in_progress")
    gw.finish_local_jobs()
    done = await gw.service.get_video(alice, video.id)
    assert done.status == "completed"
    assert done.usage is not None
    assert (done.usage.cost, done.usage.cost_is_estimate) == (FOX_COST, False)
    for _ in range(3):
        gw.clock.advance(60)
        await gw.service.get_video(alice, video.id)
    key = await gw.key(alice)
    assert (key.spend_micros, key.total_spend_micros, key.reserved_micros, key.active_jobs) == (
        100_000,
        100_000,
        0,
        0,
    )
    logs = await gw.service.spend_logs(
        await gw.master(), key=alice.key.id if alice.key else None, start=None, end=None, limit=10
    )
    assert [(e.job_id, e.cost_micros, e.seconds, e.size) for e in logs] == [
        (video.id, 100_000, 1.0, "320x180")
    ]


@pytest.mark.parametrize(
    ("token", "code"), [("[fault:fail]", "generation_failed"), ("[fault:filtered]", "moderation_blocked")]
)
async def test_failed_and_filtered_jobs_release_their_reservation(gw: Gateway, token: str, code: str) -> None:
    alice = await gw.new_key("alice", max_parallel_requests=1)
    video = await gw.create(alice, prompt=f"a fox {token}")
    gw.finish_local_jobs()
    failed = await gw.service.get_video(alice, video.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == code
    assert failed.usage is not None
    assert (failed.usage.cost, failed.usage.cost_is_estimate) == (0.0, False)
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (0, 0, 0)
    assert gw.stores.memory_ledger.reservation_state(video.id) == "released"
    with pytest.raises(NotFoundError, match="failed"):
        await gw.service.open_content(alice, video.id, "video", None)
    await gw.create(alice)  # the slot is free again


async def test_concurrent_gets_cause_one_upstream_poll(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.clock.advance(5)
    before = gw.local.calls["retrieve"]
    results = await asyncio.gather(*(gw.service.get_video(alice, video.id) for _ in range(50)))
    assert gw.local.calls["retrieve"] - before == 1
    assert {r.id for r in results} == {video.id}
    again = await gw.service.get_video(alice, video.id)  # fresh: answered from the store
    assert gw.local.calls["retrieve"] - before == 1
    assert again.status == "in_progress"


async def test_poll_errors_back_off_and_keep_the_state(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.local.fail_polls = ServiceUnavailableError("upstream down")
    gw.clock.advance(5)
    assert (await gw.service.get_video(alice, video.id)).status == "queued"
    polls = gw.local.calls["retrieve"]
    gw.clock.advance(1)  # inside the 2 s backoff: no new upstream call
    await gw.service.get_video(alice, video.id)
    assert gw.local.calls["retrieve"] == polls
    gw.local.fail_polls = None
    gw.finish_local_jobs()
    assert (await gw.service.get_video(alice, video.id)).status == "completed"


async def test_an_adapter_bug_during_a_poll_backs_off(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.local.fail_polls = ValueError("unexpected reply shape")
    gw.clock.advance(5)
    assert (await gw.service.get_video(alice, video.id)).status == "queued"
    job = await gw.stores.jobs.get(video.id)
    assert job is not None
    assert (job.poll_failures, job.next_poll_at, job.lease_owner) == (1, gw.clock() + 2.0, None)


# ---- money -------------------------------------------------------------------------------------


async def test_hundred_concurrent_creates_against_a_budget_for_ten(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_budget=1.0)  # ten 1 s videos at $0.10/s

    results = await asyncio.gather(*(gw.create(alice) for _ in range(100)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 90
    assert all(isinstance(r, BudgetExceededError) and "Budget exceeded" in r.message for r in refused)
    assert gw.local.calls["create"] == 10
    key = await gw.key(alice)
    assert key.reserved_micros + key.spend_micros == 1_000_000
    gw.finish_local_jobs()
    for video in (await gw.service.list_videos(alice, after=None, limit=100, order="asc")).data:
        await gw.service.get_video(alice, video.id)
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros) == (1_000_000, 0)
    with pytest.raises(BudgetExceededError):
        await gw.create(alice)


async def test_budget_period_resets(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_budget=0.1, budget_duration="1h")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    await gw.service.get_video(alice, video.id)
    with pytest.raises(BudgetExceededError):
        await gw.create(alice)
    gw.clock.advance(3600)
    await gw.create(alice)
    key = await gw.key(alice)
    assert (key.spend_micros, key.total_spend_micros, key.reserved_micros) == (0, 100_000, 100_000)


async def test_rate_limit_and_concurrency_slots(gw: Gateway) -> None:
    limited = await gw.new_key("rpm", rpm_limit=2)
    await gw.create(limited)
    await gw.create(limited)
    with pytest.raises(RateLimitError) as caught:
        await gw.create(limited)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    gw.clock.advance(61)
    await gw.create(limited)

    slots = await gw.new_key("slots", max_parallel_requests=2)
    first = await gw.create(slots)
    await gw.create(slots)
    with pytest.raises(RateLimitError, match="concurrent"):
        await gw.create(slots)
    assert (await gw.key(slots)).reserved_micros == 200_000  # the refused create reserved nothing
    gw.finish_local_jobs()
    await gw.service.get_video(slots, first.id)
    await gw.create(slots)


# ---- fallbacks and pinned deployments ------------------------------------------------------------


async def test_upstream_503_falls_back_and_cools_down(local_root: Path) -> None:
    backup_root = local_root / "b"
    config = make_config(
        local_entries(local_root, "primary") + local_entries(backup_root, "backup"),
        fallbacks=[{"primary": ["backup"]}],
        cooldown_time=60,
    )
    gw = make_gateway(local_root, config=config)
    alice = await gw.new_key("alice")
    gw.local.fail_creates = ServiceUnavailableError("overloaded", provider="local")
    gw.local.fail_roots = {str(local_root)}
    video = await gw.create(alice, model="primary")
    assert video.model == "backup"
    assert gw.local.calls["create"] == 2
    job = await gw.stores.jobs.get(video.id)
    assert job is not None
    assert job.deployment_id == gw.service.router.deployments_for("backup")[0].id
    key = await gw.key(alice)
    assert key.reserved_micros == 100_000  # only the job that exists holds a reservation

    await gw.create(alice, model="primary")  # the primary is cooling down: not even tried
    assert gw.local.calls["create"] == 3
    gw.local.fail_creates = None
    gw.clock.advance(61)
    assert (await gw.create(alice, model="primary")).model == "primary"

    gw.local.fail_creates = ServiceUnavailableError("overloaded", provider="local")
    gw.local.fail_roots = None
    with pytest.raises(ServiceUnavailableError):
        await gw.create(alice, model="primary")
    key = await gw.key(alice)
    assert (key.reserved_micros, key.active_jobs) == (
        300_000,
        3,
    )  # three jobs run; the refused one holds none
    await gw.close()


async def test_per_deployment_rpm_spreads_then_refuses(local_root: Path) -> None:
    config = make_config(local_entries(local_root, "m", rpm=1) + local_entries(local_root / "b", "m", rpm=1))
    gw = make_gateway(local_root, config=config)
    alice = await gw.new_key("alice")
    first = await gw.stores.jobs.get((await gw.create(alice, model="m")).id)
    second = await gw.stores.jobs.get((await gw.create(alice, model="m")).id)
    assert first is not None
    assert second is not None
    assert first.deployment_id != second.deployment_id
    with pytest.raises(RateLimitError) as caught:
        await gw.create(alice, model="m")
    assert caught.value.code == "deployment_rate_limited"
    assert (await gw.key(alice)).reserved_micros == 200_000
    gw.clock.advance(61)
    await gw.create(alice, model="m")
    await gw.close()


async def test_validation_errors_never_fall_back(local_root: Path) -> None:
    config = make_config(
        local_entries(local_root, "primary") + local_entries(local_root / "b", "backup"),
        fallbacks=[{"primary": ["backup"]}],
    )
    gw = make_gateway(local_root, config=config)
    alice = await gw.new_key("alice")
    gw.local.fail_creates = BadRequestError("content policy", provider="local")
    with pytest.raises(BadRequestError, match="content policy"):
        await gw.create(alice, model="primary")
    assert gw.local.calls["create"] == 1
    await gw.close()


async def test_a_job_whose_deployment_vanished_is_never_rerouted(local_root: Path) -> None:
    gw = make_gateway(local_root)
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    assert (await gw.service.get_video(alice, video.id)).status == "completed"
    other = make_config(local_entries(local_root / "elsewhere", "local-1"))
    moved = make_gateway(local_root, config=other, stores=gw.stores, clock=gw.clock)
    alice_again = await moved.service.authenticate(gw.keys["alice"])
    assert (await moved.service.get_video(alice_again, video.id)).status == "completed"  # from the store
    with pytest.raises(ServiceUnavailableError, match="no longer configured"):
        await moved.service.open_content(alice_again, video.id, "video", None)
    with pytest.raises(ServiceUnavailableError, match="no longer configured"):
        await moved.service.remix_video(alice_again, video.id, "again")
    assert moved.local.calls["retrieve"] == 0
    await gw.close()
    await moved.close()


# ---- content, remix, delete, list ----------------------------------------------------------------


async def test_content_not_ready_then_live_with_ranges(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    with pytest.raises(NotFoundError, match="Video is not ready yet"):
        await gw.service.open_content(alice, video.id, "video", None)
    gw.finish_local_jobs()
    full = await gw.service.open_content(alice, video.id, "video", None)
    data = await _drain(full.chunks)
    assert (full.media_type, full.partial, full.total_size) == ("video/mp4", False, len(data))
    assert data[4:8] == b"ftyp"
    part = await gw.service.open_content(alice, video.id, "video", (10, 99))
    assert (part.partial, part.start, part.end, part.total_size) == (True, 10, 99, len(data))
    assert await _drain(part.chunks) == data[10:100]
    tail = await gw.service.open_content(alice, video.id, "video", (len(data) - 5, None))
    assert await _drain(tail.chunks) == data[-5:]
    thumb = await gw.service.open_content(alice, video.id, "thumbnail", None)
    assert thumb.media_type == "image/webp"
    await _drain(thumb.chunks)
    with pytest.raises(BadRequestError):
        await gw.service.open_content(alice, video.id, "poster", None)


async def test_content_from_the_store_when_kept(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    await gw.service.get_video(alice, video.id)

    async def chunks() -> object:
        yield b"0123456789"

    await gw.stores.content.put(video.id, "video", chunks(), "video/mp4")  # type: ignore[arg-type]
    stream = await gw.service.open_content(alice, video.id, "video", (2, 5))
    assert (stream.total_size, stream.start, stream.end) == (10, 2, 5)
    assert await _drain(stream.chunks) == b"2345"
    beyond = await gw.service.open_content(alice, video.id, "video", (50, None))
    assert (beyond.total_size, beyond.partial) == (10, True)  # the server answers 416
    assert await _drain(beyond.chunks) == b""


async def test_remix_has_its_own_reservation_and_source_must_be_done(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    source = await gw.create(alice)
    with pytest.raises(BadRequestError, match="only a completed video"):
        await gw.service.remix_video(alice, source.id, "now at night")
    gw.finish_local_jobs()
    await gw.service.get_video(alice, source.id)
    remix = await gw.service.remix_video(alice, source.id, "now at night")
    assert remix.remixed_from_video_id == source.id
    assert (remix.size, remix.seconds, remix.status) == ("320x180", "1", "queued")
    assert (await gw.key(alice)).reserved_micros == 100_000
    with pytest.raises(BadRequestError) as empty:
        await gw.service.remix_video(alice, source.id, "  ")
    assert empty.value.param == "prompt"
    gw.finish_local_jobs()
    assert (await gw.service.get_video(alice, remix.id)).status == "completed"
    assert (await gw.key(alice)).spend_micros == 200_000


async def test_remix_unsupported_for_models_without_it(local_root: Path) -> None:
    config = make_config(
        [
            {
                "model_name": "veo",
                "litellm_params": {
                    "model": "gemini/veo-3.1-generate-preview",
                    "allow_retired": True,
                    "api_key": "k",
                },
            }
        ]
    )
    gw = make_gateway(local_root, config=config)
    alice = await gw.new_key("alice")
    job_id = "video_" + "0" * 32
    await gw.stores.jobs.insert(
        job_record(
            job_id,
            alice.owner_id,
            status="completed",
            deployment_id=gw.service.router.deployments_for("veo")[0].id,
            model_name="veo",
            cost_micros=0,
        )
    )
    with pytest.raises(UnsupportedOperationError) as refused:
        await gw.service.remix_video(alice, job_id, "again")
    assert refused.value.message == "Model 'veo' does not support 'remix'."  # not the provider, gemini
    await gw.close()


async def test_delete_finished_only_then_404(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    with pytest.raises(BadRequestError, match="only a completed or failed video"):
        await gw.service.delete_video(alice, video.id)
    gw.finish_local_jobs()
    deleted = await gw.service.delete_video(alice, video.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (video.id, True, "video.deleted")
    assert gw.local.calls["delete"] == 1
    with pytest.raises(NotFoundError):
        await gw.service.get_video(alice, video.id)
    with pytest.raises(NotFoundError):
        await gw.service.delete_video(alice, video.id)
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros) == (100_000, 0)  # deleting settled what it owed


async def test_list_paginates_newest_first(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    ids = []
    for _ in range(5):
        ids.append((await gw.create(alice)).id)
        gw.clock.advance(1)
    page = await gw.service.list_videos(alice, after=None, limit=2, order="desc")
    assert [v.id for v in page.data] == ids[::-1][:2]
    assert (page.first_id, page.last_id, page.has_more) == (ids[4], ids[3], True)
    page2 = await gw.service.list_videos(alice, after=page.last_id, limit=2, order="desc")
    assert [v.id for v in page2.data] == [ids[2], ids[1]]
    page3 = await gw.service.list_videos(alice, after=page2.last_id, limit=2, order="desc")
    assert ([v.id for v in page3.data], page3.has_more) == ([ids[0]], False)
    empty = await gw.service.list_videos(alice, after=None, limit=0, order="asc")
    assert (empty.data, empty.first_id, empty.has_more) == ([], None, True)
    with pytest.raises(BadRequestError) as bad:
        await gw.service.list_videos(alice, after=None, limit=101, order="asc")
    assert bad.value.param == "limit"
    with pytest.raises(BadRequestError) as bad_order:
        await gw.service.list_videos(alice, after=None, limit=1, order="sideways")
    assert bad_order.value.param == "order"


async def test_local_job_done_at_create_is_final_at_once(local_root: Path) -> None:
    gw = make_gateway(local_root, delay=0)
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    assert video.status == "completed"
    assert video.usage is not None
    assert video.usage.cost_is_estimate is False
    assert (await gw.key(alice)).spend_micros == 100_000
    await gw.close()


# ---- admin -------------------------------------------------------------------------------------


async def test_key_admin_is_for_the_master_key(gw: Gateway) -> None:
    master = await gw.master()
    alice = await gw.new_key(
        "alice", models=["local-1"], max_budget=2.5, budget_duration="30d", metadata={"team": "a"}
    )
    assert alice.key is not None
    for call in (
        gw.service.generate_key(alice),
        gw.service.update_key(alice, alice.key.id, rpm_limit=3),
        gw.service.delete_keys(alice, [alice.key.id]),
        gw.service.list_keys(alice, KeyQuery()),
        gw.service.spend_logs(alice, key=None, start=None, end=None, limit=5),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    own = await gw.service.key_info(alice, None)
    assert own["info"]["key_alias"] == "alice"
    assert own["info"]["max_budget"] == 2.5
    assert own["info"]["budget_reset_at"] == int(gw.clock.now) + 30 * 86400
    bob = await gw.new_key("bob")
    assert bob.key is not None
    with pytest.raises(NotFoundError):
        await gw.service.key_info(alice, bob.key.id)
    by_secret = await gw.service.key_info(master, gw.keys["bob"])
    assert by_secret["key"] == bob.key.id
    updated = await gw.service.update_key(master, gw.keys["alice"], rpm_limit=7, key_alias="alice-2")
    assert (updated.rpm_limit, updated.alias) == (7, "alice-2")
    with pytest.raises(BadRequestError) as bad:
        await gw.service.update_key(master, alice.key.id, models=["nope"])
    assert bad.value.param == "models"
    with pytest.raises(BadRequestError) as bad_duration:
        await gw.service.generate_key(master, budget_duration="fortnight")
    assert bad_duration.value.param == "budget_duration"
    with pytest.raises(NotFoundError):
        await gw.service.delete_keys(master, [bob.key.id, "key_missing"])
    listed, total = await gw.service.list_keys(master, KeyQuery(sort="key_alias", descending=False))
    assert ([k.alias for k in listed], total) == (["alice-2", "bob"], 2)
    assert await gw.service.list_keys(master, KeyQuery(offset=1, limit=1, alias="bob")) == ([], 1)
    assert await gw.service.delete_keys(master, [bob.key.id]) == [bob.key.id]
    with pytest.raises(AuthenticationError):
        await gw.service.authenticate(gw.keys["bob"])


async def test_master_key_jobs_are_logged_without_a_budget(gw: Gateway) -> None:
    master = await gw.master()
    video = await gw.create(master)
    gw.finish_local_jobs()
    assert (await gw.service.get_video(master, video.id)).status == "completed"
    logs = await gw.service.spend_logs(master, key="master", start=None, end=None, limit=5)
    assert [(e.job_id, e.cost_micros) for e in logs] == [(video.id, 100_000)]
    stats = await gw.service.stats()
    assert stats["jobs"] == {"completed": 1}


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_videos_created_within_one_second_list_newest_first_exactly(
    local_root: Path, tmp_path: Path, store: str
) -> None:
    stores = (
        MemoryStores()
        if store == "memory"
        else await open_stores(f"sqlite:///{tmp_path / 'v.db'}", None, tmp_path / "content")
    )
    gw = make_gateway(local_root, stores=stores)  # type: ignore[arg-type]
    alice = await gw.new_key("alice")
    created = []
    for i in range(8):
        created.append((await gw.create(alice, prompt=f"fox {i}")).id)
        gw.clock.advance(0.0004 if i % 3 == 0 else 0.0)  # several in one millisecond, all in one second
    assert len({(await gw.stores.jobs.get(i)).created_at for i in created}) == 1  # type: ignore[union-attr]

    async def pages(order: str, size: int) -> tuple[list[str], list[bool]]:
        ids: list[str] = []
        more: list[bool] = []
        after = None
        for _ in range(len(created) + 1):  # at most one page per job, plus an empty last one
            page = await gw.service.list_videos(alice, after=after, limit=size, order=order)
            ids += [v.id for v in page.data]
            more.append(page.has_more)
            if not page.has_more:
                return ids, more
            after = page.last_id
        raise AssertionError(f"listing did not end: {ids}")

    assert await pages("desc", 3) == (created[::-1], [True, True, False])
    assert await pages("asc", 3) == (created, [True, True, False])
    assert await pages("desc", 8) == (created[::-1], [False])
    await gw.close()
    await stores.close()


async def test_deployment_rpm_applies_to_remix_as_to_create(local_root: Path) -> None:
    gw = make_gateway(local_root, config=make_config(local_entries(local_root, "m", rpm=2)))
    alice = await gw.new_key("alice")
    source = await gw.create(alice, model="m")
    gw.clock.advance(61)  # a fresh minute: the deployment allows two starts in it
    gw.finish_local_jobs()
    await gw.service.get_video(alice, source.id)
    await gw.service.remix_video(alice, source.id, "at night")
    await gw.create(alice, model="m")
    with pytest.raises(RateLimitError) as caught:
        await gw.service.remix_video(alice, source.id, "in the rain")
    assert caught.value.code == "deployment_rate_limited"
    assert gw.local.calls["remix"] == 1
    assert (await gw.key(alice)).reserved_micros == 200_000  # the refused remix reserved nothing
    gw.clock.advance(61)
    await gw.service.remix_video(alice, source.id, "in the rain")
    await gw.close()


async def test_guardrails_run_before_admission_and_the_provider(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_parallel_requests=1)
    seen: list[tuple[str, int]] = []

    async def no_foxes(subject: GuardInput) -> Verdict:
        key = await gw.key(alice)
        seen.append((subject.texts[0][1], key.reserved_micros))
        if "fox" in subject.texts[0][1]:
            return Verdict.refuse("foxes are not allowed here", "prompt")
        return Verdict.allow()

    gw.service.starter.guardrails = guardrails(configured(no_foxes, name="no-foxes"))
    with pytest.raises(ContentPolicyViolationError, match="no-foxes") as refused:
        await gw.create(alice, "a red fox")
    assert (refused.value.status_code, refused.value.code, refused.value.param) == (
        400,
        "content_policy_violation",
        "prompt",
    )
    assert gw.local.calls["create"] == 0
    key = await gw.key(alice)
    assert (key.reserved_micros, key.active_jobs) == (0, 0)
    assert (await gw.service.list_videos(alice, after=None, limit=10, order="asc")).data == []
    source = await gw.create(alice, "a cat")
    gw.finish_local_jobs()
    await gw.service.get_video(alice, source.id)
    with pytest.raises(ContentPolicyViolationError, match="no-foxes"):
        await gw.service.remix_video(alice, source.id, "now a fox")
    # before anything was reserved: 0 each time (the cat was settled, 100_000, before the remix)
    assert seen == [("a red fox", 0), ("a cat", 0), ("now a fox", 0)]
    assert gw.local.calls["remix"] == 0
