"""The master key's calls a provider's gateway test makes: a new virtual key, and what it was charged.

``GatewayAdmin`` talks to a live gateway by URL; ``AsyncGatewayAdmin`` to an in-process one through
the test's own ``httpx.AsyncClient`` (``httpx.ASGITransport``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class GatewayAdmin:
    url: str
    master: str

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = httpx.request(
            method, self.url + path, headers={"Authorization": f"Bearer {self.master}"}, **kwargs
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def new_key(self) -> str:
        return str(self.call("POST", "/key/generate", json={})["key"])

    def info(self, key: str) -> dict[str, Any]:
        """The key's ``/key/info`` entry (spend, limits, ...)."""
        info: dict[str, Any] = self.call("GET", "/key/info", params={"key": key})["info"]
        return info

    def spent(self, key: str) -> float:
        """The key's spend alone."""
        return float(self.info(key)["spend"])

    def spend(self, key: str) -> tuple[float, list[float]]:
        """The key's spend and its spend-log entries (one per charged video)."""
        logs = self.call("GET", "/spend/logs", params={"api_key": key})
        return self.spent(key), [row["spend"] for row in logs]


@dataclass(frozen=True)
class AsyncGatewayAdmin:
    client: httpx.AsyncClient
    master: str

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.master}"}
        reply = await self.client.request(method, path, headers=headers, **kwargs)
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def new_key(self) -> str:
        return str((await self.call("POST", "/key/generate", json={}))["key"])

    async def spend(self, key: str) -> tuple[float, list[float]]:
        """The key's spend and its spend-log entries (one per charged video)."""
        info = (await self.call("GET", "/key/info", params={"key": key}))["info"]
        logs = await self.call("GET", "/spend/logs", params={"api_key": key})
        return info["spend"], [row["spend"] for row in logs]
