"""Creates on SQL stores that take admission and the write-ahead record in one transaction
(``Stores.starts``): the key's rate limit, concurrency slots, budgets and deployment limits behave as
when the steps run one by one (the same cases as ``test_service`` runs on the in-memory stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.gateway.harness import MASTER, Clock, CountingLocal, local_entries, make_config

from vidgate.errors import BudgetExceededError, RateLimitError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import GatewayConfig
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.store.factory import SqlStores, open_stores
from vidgate.transport import AsyncRunner, RetryPolicy


class SqlGateway:
    def __init__(
        self, service: GatewayService, stores: SqlStores, clock: Clock, local: CountingLocal
    ) -> None:
        self.service, self.stores, self.clock, self.local = service, stores, clock, local

    async def new_key(self, alias: str, **fields: object) -> Principal:
        master = await self.service.authenticate(MASTER)
        secret, _ = await self.service.generate_key(master, key_alias=alias, **fields)
        return await self.service.authenticate(secret)

    async def create(self, p: Principal, model: str = "local-1") -> object:
        req = CreateVideo(model=model, prompt="a red fox", seconds="1", size="320x180")
        return await self.service.create_video(p, req)

    async def reserved(self, p: Principal) -> int:
        assert p.key is not None
        key = await self.stores.keys.get(p.key.id)
        assert key is not None
        return key.reserved_micros


async def _open(root: Path, config: GatewayConfig | None = None) -> tuple[SqlGateway, AsyncRunner]:
    stores = await open_stores(f"sqlite:///{root / 'gw.db'}", None, root / "content")
    assert stores.starts is not None  # the one-step path is what this file tests
    clock = Clock()
    local = CountingLocal(root / "local", 10.0, clock)
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    calls = ProviderCalls(runner, providers={"local": local})
    cfg = config or make_config(local_entries(root / "local"))
    service = GatewayService(cfg, stores, runner, calls=calls, clock=clock, auth_ttl=0)
    return SqlGateway(service, stores, clock, local), runner


@pytest.fixture
async def sql_gw(tmp_path: Path) -> AsyncIterator[SqlGateway]:
    gw, runner = await _open(tmp_path)
    try:
        yield gw
    finally:
        await runner.aclose()
        await gw.stores.close()


async def test_rate_limit_slots_and_budget(sql_gw: SqlGateway) -> None:
    gw = sql_gw
    limited = await gw.new_key("rpm", rpm_limit=2)
    await gw.create(limited)
    await gw.create(limited)
    with pytest.raises(RateLimitError) as caught:
        await gw.create(limited)
    assert caught.value.retry_after is not None
    gw.clock.advance(61)
    await gw.create(limited)

    slots = await gw.new_key("slots", max_parallel_requests=2)
    await gw.create(slots)
    await gw.create(slots)
    with pytest.raises(RateLimitError, match="concurrent"):
        await gw.create(slots)
    assert await gw.reserved(slots) == 200_000  # the refused create reserved nothing

    poor = await gw.new_key("poor", max_budget=0.15, rpm_limit=2)
    await gw.create(poor)
    with pytest.raises(BudgetExceededError):
        await gw.create(poor)
    with pytest.raises(RateLimitError):  # the refused create still counted against the rate limit
        await gw.create(poor)


async def test_deployment_limits_are_checked_after_the_keys(tmp_path: Path) -> None:
    root = tmp_path / "local"
    config = make_config(local_entries(root, "m", rpm=1) + local_entries(root / "b", "m", rpm=1))
    gw, runner = await _open(tmp_path, config)
    try:
        alice = await gw.new_key("alice", rpm_limit=3)
        await gw.create(alice, model="m")
        await gw.create(alice, model="m")
        with pytest.raises(RateLimitError) as busy:
            await gw.create(alice, model="m")
        assert busy.value.code == "deployment_rate_limited"
        assert await gw.reserved(alice) == 200_000
        with pytest.raises(RateLimitError) as limited:  # three counted: the key's own limit first
            await gw.create(alice, model="m")
        assert limited.value.code != "deployment_rate_limited"
    finally:
        await runner.aclose()
        await gw.stores.close()
