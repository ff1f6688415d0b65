"""Emulators calling back: when a create named a callback URL, the emulator POSTs the job's final
state there once the job ends, signed as the provider signs (the emulator's ``render`` builds each
delivery: body and headers, a fresh signature per attempt), and retries a delivery that got no 2xx.

Faults (prompt tokens, as every fault; kept out of ``faults.NAMES`` because only providers that call
back offer them):

- ``callback-dup`` / ``callback-dupxN``: the delivery is sent 1 + N times (providers retry on a lost
  acknowledgement; fal up to 10 times), so receivers must be idempotent;
- ``callback-drop``: no delivery at all (the receiver's fallback poll must finish the job).

``deliveries`` records every attempt (URL without query, status or None when unreachable) for tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from vidgate.emulators.common import EmuJob

CALLBACK_FAULTS = frozenset({"callback-dup", "callback-drop"})
ATTEMPTS = 4  # per delivery, when the receiver answers non-2xx or cannot be reached
RETRY_PAUSE = 0.2  # seconds, doubled per attempt (providers wait minutes; an emulator need not)
TIMEOUT = 15.0  # fal's delivery timeout

Render = Callable[[], tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class Attempt:
    url: str
    job_id: str
    status: int | None


@dataclass
class CallbackSender:
    deliveries: list[Attempt] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def schedule(self, job: EmuJob, url: str, render: Render, *, ends_at: float | None = None) -> None:
        """Deliver ``render()`` to ``url`` once ``job`` has ended (at ``ends_at``, else its own end)."""
        due = ends_at if ends_at is not None else job.created_at + job.processing_seconds
        task = asyncio.get_running_loop().create_task(self._run(job, url, render, due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: EmuJob, url: str, render: Render, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.time()) + 0.01)
        if job.plan.get("callback-drop", 0) > 0:
            return
        copies = 1 + max(0, job.plan.get("callback-dup", 0))
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            for _ in range(copies):
                await self._deliver(client, job, url, render)

    async def _deliver(self, client: httpx.AsyncClient, job: EmuJob, url: str, render: Render) -> None:
        pause = RETRY_PAUSE
        for _ in range(ATTEMPTS):
            body, headers = render()
            try:
                reply = await client.post(url, content=body, headers=headers)
                status: int | None = reply.status_code
            except httpx.HTTPError:
                status = None
            self.deliveries.append(Attempt(url.partition("?")[0], job.id, status))
            if status is not None and 200 <= status < 300:
                return
            await asyncio.sleep(pause)
            pause *= 2
