"""Record builders shared by the store conformance suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from vidgate.gateway.records import JobRecord, KeyRecord, SpendEntry


def make_key(key_id: str = "k1", **fields: Any) -> KeyRecord:
    return KeyRecord(id=key_id, key_hash="h-" + key_id, key_prefix="sk-" + key_id, **fields)


def make_job(job_id: str, owner: str = "k1", created_at: int = 100, **fields: Any) -> JobRecord:
    base: dict[str, Any] = {
        "id": job_id,
        "owner_key_id": owner,
        "model_name": "local-1",
        "deployment_id": "d1",
        "provider": "local",
        "native_id": "n-" + job_id,
        "status": "queued",
        "created_at": created_at,
        "size": "320x180",
        "seconds": "1",
    }
    base.update(fields)
    return JobRecord(**base)


def make_entry(job_id: str, cost: int, key_id: str = "k1", at: int = 1000) -> SpendEntry:
    return SpendEntry(
        id="s-" + job_id,
        key_id=key_id,
        job_id=job_id,
        model_name="local-1",
        deployment_id="d1",
        seconds=1.0,
        size="320x180",
        cost_micros=cost,
        created_at=at,
        metadata={"request_id": "r-" + job_id},
    )


async def chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
