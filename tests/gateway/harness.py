"""A gateway on in-memory stores and the local provider, with a clock the test moves by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidgate.errors import APIError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.gateway.records import JobRecord, KeyRecord
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers.base import Credentials, Download, Flow, ProviderJob
from vidgate.providers.local.adapter import LocalProvider
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.types import VideoRequest

MASTER = "sk-test-master-key-0000"
T0 = 1_800_000_000.0


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingLocal(LocalProvider):
    """The local provider, counting every operation; ``fail_creates`` makes creates raise (an upstream
    outage; only for deployments whose api_base is in ``fail_roots``, when that is set) and
    ``fail_polls`` / ``fail_downloads`` make status polls / downloads raise, each while set."""

    def __init__(self, root: Path, delay: float, clock: Callable[[], float]) -> None:
        super().__init__(root=root, delay=delay, clock=clock)
        self.calls: Counter[str] = Counter()
        self.fail_creates: APIError | None = None
        self.fail_roots: set[str] | None = None
        self.fail_polls: Exception | None = None
        self.fail_downloads: APIError | None = None

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        self.calls["create"] += 1
        if self.fail_creates is not None and (self.fail_roots is None or creds.api_base in self.fail_roots):
            raise self.fail_creates
        return (yield from super().create(req, creds))

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        self.calls["retrieve"] += 1
        if self.fail_polls is not None:
            raise self.fail_polls
        return (yield from super().retrieve(native_id, creds))

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        self.calls["download"] += 1
        if self.fail_downloads is not None:
            raise self.fail_downloads
        return (yield from super().download(native_id, variant, creds))

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        self.calls["remix"] += 1
        return (yield from super().remix(native_id, prompt, creds))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        self.calls["delete"] += 1
        return (yield from super().delete(native_id, creds))


@dataclass
class Gateway:
    service: GatewayService
    stores: MemoryStores
    clock: Clock
    local: CountingLocal
    root: Path
    runner: AsyncRunner
    keys: dict[str, str] = field(default_factory=dict)  # alias -> secret

    async def master(self) -> Principal:
        return await self.service.authenticate(MASTER)

    async def new_key(self, alias: str, **fields: Any) -> Principal:
        secret, _ = await self.service.generate_key(await self.master(), key_alias=alias, **fields)
        self.keys[alias] = secret
        return await self.service.authenticate(secret)

    async def key(self, principal: Principal) -> KeyRecord:
        assert principal.key is not None
        record = await self.stores.keys.get(principal.key.id)
        assert record is not None
        return record

    async def create(self, p: Principal, prompt: str = "a red fox", **fields: Any) -> Any:
        fields.setdefault("model", "local-1")
        fields.setdefault("seconds", "1")
        fields.setdefault("size", "320x180")
        return await self.service.create_video(p, CreateVideo(prompt=prompt, **fields))

    def finish_local_jobs(self) -> None:
        """Move the clock past the local provider's delay: every job it has is done."""
        self.clock.advance(self.local.delay() + 1)

    async def close(self) -> None:
        await self.runner.aclose()


def local_entries(root: Path, *names: str, price: float | None = 0.1, **params: Any) -> list[dict[str, Any]]:
    entries = []
    for name in names or ("local-1",):
        lp: dict[str, Any] = {"model": "local/local-1", "api_base": str(root), **params}
        if price is not None:
            lp["output_cost_per_second"] = price
        entries.append({"model_name": name, "litellm_params": lp})
    return entries


def make_config(model_list: list[dict[str, Any]], **router: Any) -> GatewayConfig:
    data: dict[str, Any] = {"model_list": model_list, "general_settings": {"master_key": MASTER}}
    if router:
        data["router_settings"] = router
    return parse_config(data, environ={})


def make_gateway(
    root: Path,
    *,
    config: GatewayConfig | None = None,
    delay: float = 10.0,
    price: float | None = 0.1,
    extra_providers: dict[str, Any] | None = None,
    stores: MemoryStores | None = None,
    clock: Clock | None = None,
) -> Gateway:
    clock = clock or Clock()
    local = CountingLocal(root, delay, clock)
    stores = stores or MemoryStores()
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    calls = ProviderCalls(runner, providers={"local": local, **(extra_providers or {})})
    cfg = config or make_config(local_entries(root, price=price))
    service = GatewayService(cfg, stores, runner, calls=calls, clock=clock, auth_ttl=0)
    return Gateway(service=service, stores=stores, clock=clock, local=local, root=root, runner=runner)


def job_record(job_id: str, owner: str, **fields: Any) -> JobRecord:
    base: dict[str, Any] = {
        "id": job_id,
        "owner_key_id": owner,
        "model_name": "local-1",
        "deployment_id": "d1",
        "provider": "local",
        "native_id": "n-" + job_id,
        "status": "queued",
        "created_at": int(T0),
        "size": "320x180",
        "seconds": "1",
    }
    base.update(fields)
    return JobRecord(**base)
