"""LiteLLM's ``generic_api`` logging callback: one JSON event per finished job (``success`` when it
completed, ``failure`` when it failed) and per request refused by a guardrail (``failure``), POSTed in
batches (a JSON array) to the configured endpoint.

Batches go out when ``batch_size`` events are waiting or every ``flush_interval`` seconds, and once more
at shutdown. A batch that fails (connection error, 408/429/5xx) is retried ``max_retries`` times with
exponential backoff, then dropped with an error log (the job itself is unaffected); any other status
drops it at once. Secrets never leave: every string passes ``redaction.redact_detail`` (keys, key
echoes, secret query values) and long base64 / data URLs are replaced by a note, as in the request
log. Event fields follow LiteLLM's StandardLoggingPayload where one exists (``id``, ``call_type``,
``status``, ``model``, ``model_id``, ``custom_llm_provider``, ``response_cost``, ``startTime``,
``endTime``, ``error_str``, ``metadata``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

import httpx

from vidgate.gateway.observability import Event, HttpLogger
from vidgate.gateway.observer import Observer
from vidgate.gateway.records import JobRecord
from vidgate.server.logs import redact
from vidgate.server.redaction import redact_detail

log = logging.getLogger("vidgate.server")
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_QUEUE = 10_000  # events kept while the endpoint is down; older ones are dropped first

__all__ = ["HttpLogCallback"]


def _scrub(value: Any) -> Any:
    value = redact(value)
    if isinstance(value, str):
        return redact_detail(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _trace_id(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None


def job_event(job: JobRecord, now: float) -> dict[str, Any]:
    """The event of a finished job."""
    completed = job.status == "completed"
    return {
        "id": job.id,
        "call_type": "video_generation",
        "status": "success" if completed else "failure",
        "model": job.model_name,
        "model_id": job.deployment_id,
        "custom_llm_provider": job.provider,
        "response_cost": (job.cost_micros or 0) / 1_000_000,
        "startTime": job.created_at,
        "endTime": round(now, 3),
        "prompt": job.prompt,
        "error_str": None if completed else job.error_message,
        "error_code": None if completed else job.error_code,
        "trace_id": _trace_id(job.trace_parent),
        "metadata": {
            "user_api_key_id": job.owner_key_id,
            "seconds": job.seconds,
            "size": job.size,
            "n": job.n,
            "upstream_polls": job.upstream_polls,
            "api_surface": job.api_surface,
        },
    }


class HttpLogCallback(Observer):
    def __init__(self, settings: HttpLogger, *, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        self._own_client = client is None
        self._queue: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # events delivered
        self.dropped = 0  # events given up on

    # ---- what is logged ------------------------------------------------------------------------

    def _add(self, kind: Event, event: dict[str, Any]) -> None:
        if kind not in self.settings.events:
            return
        if len(self._queue) >= MAX_QUEUE:
            self._queue.pop(0)
            self.dropped += 1
        self._queue.append(_scrub(event))
        if len(self._queue) >= self.settings.batch_size:
            self._wake.set()

    def finished(self, job: JobRecord, seconds: float) -> None:
        self._add("success" if job.status == "completed" else "failure", job_event(job, time.time()))

    def refused(self, guardrail: str, model: str, key_id: str | None, message: str) -> None:
        now = round(time.time(), 3)
        self._add(
            "failure",
            {
                "id": "refused_" + secrets.token_hex(12),
                "call_type": "video_generation",
                "status": "failure",
                "model": model,
                "response_cost": 0.0,
                "startTime": now,
                "endTime": now,
                "error_str": message,
                "error_code": "content_policy_violation",
                "metadata": {"user_api_key_id": key_id, "guardrail": guardrail},
            },
        )

    # ---- delivery ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"vidgate-callback-{self.settings.name}")

    async def stop(self) -> None:
        """Send what is queued (one attempt per batch) and stop."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._queue:
            await self._send_batch(retries=0)
        if self._own_client:
            await self._client.aclose()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.flush_interval)
            self._wake.clear()
            while self._queue:
                await self._send_batch(retries=self.settings.max_retries)

    async def flush(self) -> None:
        """Send everything queued now (tests, shutdown)."""
        while self._queue:
            await self._send_batch(retries=self.settings.max_retries)

    async def _send_batch(self, *, retries: int) -> None:
        batch = self._queue[: self.settings.batch_size]
        del self._queue[: len(batch)]
        for attempt in range(retries + 1):
            try:
                reply = await self._client.post(
                    self.settings.endpoint, json=batch, headers=dict(self.settings.headers)
                )
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if reply.status_code < 300:
                    self.sent += len(batch)
                    return
                problem = f"HTTP {reply.status_code}"
                if reply.status_code not in _RETRY_STATUSES:
                    break
            if attempt < retries:
                await asyncio.sleep(min(0.5 * 2**attempt, 30.0))
        self.dropped += len(batch)
        log.error(
            "logging callback %s dropped %d events: %s",
            self.settings.name,
            len(batch),
            redact_detail(problem),
        )
