"""What every emulator shares: settings, a job clock, rendering real MP4s, and a connection drop."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from starlette.types import Receive, Scope, Send

from vidgate.catalog import ModelSpec, parse_catalogue
from vidgate.emulators.faults import FaultBook

EmuStatus = Literal["queued", "in_progress", "completed", "failed"]


@dataclass
class EmulatorSettings:
    """``api_key`` None accepts any non-empty key. ``processing_seconds``: queued -> done time."""

    api_key: str | None = None
    processing_seconds: float = 2.0
    poll_after_ms: int = 200
    slow_seconds: float = 2.0
    cache_dir: Path | None = None
    faults: dict[str, int] = field(default_factory=dict)


@dataclass
class EmuJob:
    """One emulated job. Its status is a function of time since creation (so restarts of a poller
    see a consistent timeline) and of the outcome its prompt asked for."""

    id: str
    prompt: str
    model: str
    seconds: int
    width: int
    height: int
    processing_seconds: float
    outcome: str = "ok"  # ok | fail | filtered
    seed: int = 0
    image: bytes | None = None
    created_at: float = field(default_factory=time.time)
    plan: dict[str, int] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def state(self, now: float | None = None) -> tuple[EmuStatus, int]:
        elapsed = (time.time() if now is None else now) - self.created_at
        if elapsed >= self.processing_seconds:
            return ("failed" if self.outcome != "ok" else "completed"), 100
        if elapsed < self.processing_seconds * 0.1:
            return "queued", 0
        return "in_progress", max(1, min(99, int(100 * elapsed / self.processing_seconds)))

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def finished_at(self) -> int:
        return int(self.created_at + self.processing_seconds)


def new_id(prefix: str = "", nbytes: int = 16) -> str:
    return prefix + secrets.token_hex(nbytes)


def key_ok(settings: EmulatorSettings, presented: str | None) -> bool:
    if not presented:
        return False
    # compare bytes: compare_digest refuses non-ASCII str, and a client may send any header value
    return settings.api_key is None or secrets.compare_digest(
        presented.encode("utf-8"), settings.api_key.encode("utf-8")
    )


def faults_book(settings: EmulatorSettings) -> FaultBook:
    return FaultBook(defaults=dict(settings.faults))


async def drop_connection(send: Send, declared_length: int = 1024) -> None:
    """Start a response, send part of the body, then fail: the client sees the connection cut."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(declared_length).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
    raise ConnectionAbortedError("emulated connection drop")


class DropResponse:
    """A Starlette-compatible response object that cuts the connection mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_connection(send)


class PackageModels:
    """An emulator's view of its own package's ``models.yaml`` (it never goes through the registry,
    which would load adapters): lookup by id or alias, and the rows in file order."""

    def __init__(self, package: str) -> None:
        self.package = package
        self._rows: tuple[ModelSpec, ...] | None = None

    def rows(self) -> tuple[ModelSpec, ...]:
        if self._rows is None:
            text = resources.files(self.package).joinpath("models.yaml").read_text(encoding="utf-8")
            self._rows = parse_catalogue(text)
        return self._rows

    def find(self, model_id: str) -> ModelSpec | None:
        return next((s for s in self.rows() if model_id == s.id or model_id in s.aliases), None)
