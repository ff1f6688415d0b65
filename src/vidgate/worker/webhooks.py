"""``video.completed`` / ``video.failed`` events to the operator's URL, signed as OpenAI signs them
(Standard Webhooks), so ``openai.OpenAI().webhooks.verify_signature`` accepts them.

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``"{id}.{timestamp}.{body}"``; the key is the base64-decoded secret after ``whsec_``, or the secret's
bytes. Delivery is in the background with retries (connection errors, 408, 429, 5xx); an event is
sent by the process that saw the job reach its terminal state, at most once per transition.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import httpx

from vidgate.gateway.records import JobRecord

log = logging.getLogger("vidgate.worker")
SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("webhook_secret starts with 'whsec_' but the rest is not base64") from exc
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value."""
    mac = hmac.new(signing_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def event_for(job: JobRecord, now: int) -> dict[str, object]:
    kind = "video.completed" if job.status == "completed" else "video.failed"
    return {
        "id": "evt_" + secrets.token_hex(16),
        "object": "event",
        "created_at": now,
        "type": kind,
        "data": {"id": job.id},
    }


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: str,
        client: httpx.AsyncClient,
        *,
        attempts: int = 5,
        base_delay: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        signing_key(secret)  # a malformed secret fails at start, not at the first event
        self.url = url
        self.secret = secret
        self.client = client
        self.attempts = attempts
        self.base_delay = base_delay
        self._sleep = sleep
        self._clock = clock
        self._tasks: set[asyncio.Task[bool]] = set()

    async def notify(self, job: JobRecord) -> None:
        """Queue the event for ``job`` (which just reached its terminal state) and return at once."""
        event = event_for(job, int(self._clock()))
        task = asyncio.create_task(self.deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, event: dict[str, object]) -> bool:
        """POST one event, retrying transient failures; True when the receiver answered 2xx."""
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        msg_id = str(event["id"])
        for attempt in range(self.attempts):
            timestamp = int(self._clock())
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.secret, msg_id, timestamp, body),
            }
            try:
                response = await self.client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("webhook %s to %s failed (attempt %d): %s", msg_id, self.url, attempt + 1, exc)
            else:
                if 200 <= response.status_code < 300:
                    return True
                retryable = response.status_code in (408, 429) or response.status_code >= 500
                log.warning("webhook %s answered %d (attempt %d)", msg_id, response.status_code, attempt + 1)
                if not retryable:
                    return False
            if attempt + 1 < self.attempts:
                await self._sleep(min(self.base_delay * 2**attempt, 60.0))
        return False

    async def aclose(self, grace: float = 5.0) -> None:
        """Give pending deliveries ``grace`` seconds, then cancel them."""
        pending = list(self._tasks)
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=grace)
        for task in still:
            task.cancel()
        for task in still:
            with contextlib.suppress(asyncio.CancelledError):
                await task
