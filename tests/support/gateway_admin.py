"""The master key's calls a provider's gateway test makes: a new virtual key, and what it was charged."""

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

    def spend(self, key: str) -> tuple[float, list[float]]:
        """The key's spend and its spend-log entries (one per charged video)."""
        info = self.call("GET", "/key/info", params={"key": key})["info"]
        logs = self.call("GET", "/spend/logs", params={"api_key": key})
        return info["spend"], [row["spend"] for row in logs]
