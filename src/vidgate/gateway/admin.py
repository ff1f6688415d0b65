"""Key administration and spend logs (master key only; a key may read its own info)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from vidgate.errors import BadRequestError, NotFoundError
from vidgate.gateway import keys as keylib
from vidgate.gateway.auth import Authenticator, Principal
from vidgate.gateway.budget import next_reset_at
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import KeyQuery, KeyRecord, SpendEntry


class KeyAdmin:
    def __init__(
        self,
        stores: Stores,
        auth: Authenticator,
        model_names: Callable[[], Collection[str]],
        *,
        guardrail_names: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.auth = auth
        self.model_names = model_names
        self.guardrail_names = guardrail_names
        self.clock = clock

    async def resolve(self, key: str) -> KeyRecord:
        """A key named by its secret (``sk-...``) or its id."""
        if keylib.looks_like_secret(key):
            found = await self.stores.keys.get_by_hash(keylib.hash_secret(key))
        else:
            found = await self.stores.keys.get(key)
        if found is None:
            raise NotFoundError("Key not found.", param="key", code="key_not_found")
        return found

    async def generate(self, p: Principal, fields: dict[str, Any]) -> tuple[str, KeyRecord]:
        p.require_master("generate keys")
        secret = keylib.new_secret()
        now = int(self.clock())
        record = KeyRecord(
            id=keylib.new_key_id(),
            key_hash=keylib.hash_secret(secret),
            key_prefix=secret[: keylib.DISPLAY_PREFIX_CHARS],
            created_at=now,
        )
        keylib.apply_fields(
            record, fields, model_names=self.model_names(), guardrail_names=self.guardrail_names
        )
        record.budget_reset_at = next_reset_at(record.budget_duration, now)
        await self.stores.keys.create(record)
        self.auth.invalidate()
        return secret, record

    async def info(self, p: Principal, key: str | None) -> dict[str, Any]:
        if key is None:
            if p.key is None:
                raise BadRequestError(
                    "Missing required parameter: 'key' (the master key has no key info).",
                    param="key",
                    code="missing_required_parameter",
                )
            record = await self.resolve(p.key.id)
        else:
            record = await self.resolve(key)
            if not p.is_master and (p.key is None or record.id != p.key.id):
                raise NotFoundError("Key not found.", param="key", code="key_not_found")
        return keylib.info(record)

    async def list_keys(self, p: Principal, query: KeyQuery | None) -> tuple[list[KeyRecord], int]:
        """One page of the keys ``query`` selects, and how many it selects in all; None: a filter no
        key can meet (LiteLLM's ``status=expired``: vidgate's keys never expire)."""
        p.require_master("list keys")
        return await self.stores.keys.page(query) if query is not None else ([], 0)

    async def update(self, p: Principal, key: str, fields: dict[str, Any]) -> KeyRecord:
        p.require_master("update keys")
        record = await self.resolve(key)
        keylib.apply_fields(
            record, fields, model_names=self.model_names(), guardrail_names=self.guardrail_names
        )
        if "budget_duration" in fields:  # a new period length starts a new period now (as LiteLLM does)
            record.budget_reset_at = next_reset_at(record.budget_duration, int(self.clock()))
        await self.stores.keys.save(record)
        self.auth.invalidate()
        return await self.resolve(record.id)

    async def delete(self, p: Principal, names: list[str]) -> list[str]:
        """Deletes all the named keys, or none if one of them is unknown (404 naming it)."""
        p.require_master("delete keys")
        records = [await self.resolve(name) for name in names]
        for record in records:
            await self.stores.keys.delete(record.id)
        self.auth.invalidate()
        return list(names)

    async def spend_logs(
        self, p: Principal, *, key: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]:
        p.require_master("read spend logs")
        if limit < 1:
            raise BadRequestError(
                f"Invalid 'limit': expected a positive integer, got {limit}.", param="limit"
            )
        key_id = None
        if key is not None and keylib.looks_like_secret(key):
            key_id = (await self.resolve(key)).id
        elif key is not None:  # "master" or a key id: also a deleted key's (spend logs are history)
            key_id = key
        return await self.stores.ledger.spend_logs(key_id=key_id, start=start, end=end, limit=limit)
