"""What a task-API emulator needs to hand out its videos: expiring signed URLs and the rendered MP4.

Task APIs (Kling, MiniMax, ...) answer a finished task with a time-limited CDN URL that needs no
credentials. ``SignedUrls`` makes and checks such URLs (HMAC over the path and the expiry), so a
client that keeps a URL past its expiry gets the refusal a real CDN gives, and has to read the task
again for a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from vidgate.emulators.common import EmuJob, EmulatorSettings
from vidgate.render import RenderSpec, render

_FAULT_TOKEN = re.compile(r"\s*\[fault:[a-z0-9-]+?(?:x\d+)?\]")


def strip_faults(prompt: str) -> str:
    """The prompt without its ``[fault:...]`` tokens (what a real model would have drawn)."""
    return _FAULT_TOKEN.sub("", prompt).strip()


@dataclass
class SignedUrls:
    """``?expires=<unix>&signature=<hex>`` query strings valid for ``ttl_seconds``."""

    ttl_seconds: float = 3600.0
    clock: Callable[[], float] = time.time
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def _digest(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def query(self, path: str) -> str:
        expires = int(self.clock() + self.ttl_seconds)
        return f"expires={expires}&signature={self._digest(path, expires)}"

    def valid(self, path: str, expires: str | None, signature: str | None) -> bool:
        """False for a forged, damaged or expired URL."""
        if not expires or not expires.isdigit() or not signature:
            return False
        if not hmac.compare_digest(self._digest(path, int(expires)), signature):
            return False
        return int(expires) > self.clock()


async def render_job(settings: EmulatorSettings, job: EmuJob) -> Path:
    """The job's MP4 (rendered once, then cached), made off the event loop."""
    spec = RenderSpec(
        prompt=strip_faults(job.prompt),
        seconds=job.seconds,
        width=job.width,
        height=job.height,
        seed=job.seed,
        fps=24,
        image=job.image,
    )
    rendered = await anyio.to_thread.run_sync(lambda: render(spec, cache_dir=settings.cache_dir))
    return rendered.video
