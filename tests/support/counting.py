"""An ASGI app wrapper that counts the HTTP requests it passes on (an emulator's inbox)."""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send


class Counting:
    """An ASGI app that counts the HTTP requests it passes on (the emulator's inbox)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)
