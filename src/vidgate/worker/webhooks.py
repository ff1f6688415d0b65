"""``video.completed`` / ``video.failed`` events to the operator's URL and to a job's own
``callback_url``, signed as OpenAI signs them (Standard Webhooks), so
``openai.OpenAI().webhooks.verify_signature`` and the ``standardwebhooks`` library accept them.

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``"{id}.{timestamp}.{body}"``; the key is the base64-decoded secret after ``whsec_``, or the secret's
bytes.

Durable, at least once: the save that makes a job terminal marks its event as owed
(``JobRecord.webhook_pending``, see ``gateway.followup``); the poller that claims the job (on any
replica) sends it with ``send`` (one attempt, short timeout, within the job's lease) and clears the
mark, or records the failure and retries with backoff (connection errors, 408, 429, 5xx) up to
``MAX_ATTEMPTS``. A process that dies mid-delivery leaves the mark, so the event is sent again by
whoever takes the job over; the event id is derived from the job and the event type, so a receiver
that saw it already recognises the repeat by its ``webhook-id``. A job with both destinations owes
one event to each under the same mark: a retry goes to both again (the receivers dedupe by
``webhook-id``). Redirects are not followed (a callback could otherwise be bounced to a private host).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Literal

import httpx

from vidgate.gateway.records import JobRecord

log = logging.getLogger("vidgate.worker")
SECRET_PREFIX = "whsec_"
DELIVERY_TIMEOUT = 10.0  # seconds per attempt: well inside the poller's lease
MAX_ATTEMPTS = 8  # by the poller, with ``gateway.jobs.error_backoff`` in between (about 4 minutes)
Delivery = Literal["delivered", "retry", "rejected"]


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
    """The job's terminal-state event. Its id is the same every time it is built for this job, so a
    delivery repeated after a crash carries the same ``webhook-id``."""
    kind = "video.completed" if job.status == "completed" else "video.failed"
    digest = hashlib.sha256(f"{job.id}:{kind}".encode()).hexdigest()[:32]
    return {
        "id": "evt_" + digest,
        "object": "event",
        "created_at": job.completed_at or now,
        "type": kind,
        "data": {"id": job.id},
    }


class WebhookSender:
    """Signs and POSTs events: to ``url`` (the global webhook), or to the URL given per call (a job's
    ``callback_url``), with the same secret."""

    def __init__(
        self,
        url: str | None,
        secret: str,
        client: httpx.AsyncClient,
        *,
        timeout: float = DELIVERY_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        signing_key(secret)  # a malformed secret fails at start, not at the first event
        self.url = url
        self.secret = secret
        self.client = client
        self.timeout = timeout
        self._clock = clock

    async def send_job(self, job: JobRecord, *, url: str | None = None) -> Delivery:
        """One delivery attempt of ``job``'s terminal-state event (to ``url``, else the global URL)."""
        return await self.send(event_for(job, int(self._clock())), url=url)

    async def send(self, event: dict[str, object], *, url: str | None = None) -> Delivery:
        """POST ``event`` once: ``delivered`` (2xx), ``retry`` (connection error, 408, 429, 5xx) or
        ``rejected`` (any other answer: the receiver does not want it, retrying would not help)."""
        target = url or self.url
        if target is None:
            raise ValueError("no webhook URL to send to")
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        msg_id = str(event["id"])
        timestamp = int(self._clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.secret, msg_id, timestamp, body),
        }
        try:
            response = await self.client.post(
                target, content=body, headers=headers, timeout=self.timeout, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            log.warning("webhook %s to %s failed: %s", msg_id, _where(target), exc or type(exc).__name__)
            return "retry"
        if 200 <= response.status_code < 300:
            return "delivered"
        log.warning("webhook %s to %s answered %d", msg_id, _where(target), response.status_code)
        retryable = response.status_code in (408, 429) or response.status_code >= 500
        return "retry" if retryable else "rejected"


def _where(url: str) -> str:
    """A URL for the log without its query (a caller's callback URL may carry a token there)."""
    return url.split("?", 1)[0]
