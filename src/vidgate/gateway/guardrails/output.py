"""The post-call guardrails over a job that is about to complete: its prompt and its output's
thumbnail (the provider's ``thumbnail`` variant, read whole, at most ``MAX_THUMBNAIL_BYTES``).

A provider without thumbnails (a 400 or 404 for the variant) gives the guardrails the prompt only, and
so does one that can never make it (``UpstreamError.permanent``: the local renderer's ``render_failed``),
as the content copy parks such a job at once rather than asking again. Any other failure to read the
thumbnail raises: the job is not completed or charged now, backs off and is checked again later
(``JobKeeper.checked``), up to the poll-error limit.
"""

from __future__ import annotations

import logging

from vidgate.errors import BadRequestError, NotFoundError, UpstreamError
from vidgate.gateway.auth import MASTER_OWNER
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.followup import deployment_gone
from vidgate.gateway.guardrails.base import GuardInput
from vidgate.gateway.guardrails.engine import CONTENT_POLICY, UNAVAILABLE, Guardrails
from vidgate.gateway.ports import KeyStore
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Router
from vidgate.types import ImageInput

log = logging.getLogger("vidgate.gateway")
MAX_THUMBNAIL_BYTES = 20 * 1024 * 1024

__all__ = ["MAX_THUMBNAIL_BYTES", "OutputCheck"]


class OutputCheck:
    """``JobKeeper.output_check``: (job) -> None, or (error code, message) to fail it."""

    def __init__(self, guardrails: Guardrails, keys: KeyStore, router: Router, calls: ProviderCalls) -> None:
        self.guardrails = guardrails
        self.keys = keys
        self.router = router
        self.calls = calls

    async def __call__(self, job: JobRecord) -> tuple[str, str] | None:
        key = None if job.owner_key_id == MASTER_OWNER else await self.keys.get(job.owner_key_id)
        guards = self.guardrails.active(key, "post_call")
        if not guards:
            return None
        thumbnail = await self._thumbnail(job)
        subject = GuardInput(
            mode="post_call",
            model=job.model_name,
            texts=(("prompt", job.prompt),) if job.prompt else (),
            images=(("output.thumbnail", thumbnail),) if thumbnail is not None else (),
            key_id=key.id if key is not None else None,
            video_id=job.id,
        )
        outcome = await self.guardrails.run(guards, subject)
        if outcome.refused_by is not None:
            assert outcome.verdict is not None
            message = (
                f"The video was refused by the guardrail '{outcome.refused_by}': {outcome.verdict.reason}. "
                "It was not charged."
            )
            self.guardrails.observer.refused(outcome.refused_by, job.model_name, subject.key_id, message)
            return CONTENT_POLICY, message
        if outcome.unavailable is not None:
            return (
                UNAVAILABLE,
                f"The guardrail '{outcome.unavailable}' could not check the video, so it was withheld. "
                "It was not charged.",
            )
        return None

    async def _thumbnail(self, job: JobRecord) -> ImageInput | None:
        dep = self.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        data = bytearray()
        try:
            async with self.calls.open(dep, job.native_id, "thumbnail") as stream:
                media_type = stream.media_type
                async for chunk in stream.chunks:
                    data += chunk
                    if len(data) > MAX_THUMBNAIL_BYTES:
                        raise ValueError(
                            f"the thumbnail of {job.id} is larger than {MAX_THUMBNAIL_BYTES} bytes"
                        )
        except (BadRequestError, NotFoundError) as exc:
            log.info("no thumbnail for the post-call guardrails of %s: %s", job.id, exc)
            return None
        except UpstreamError as exc:
            if not exc.permanent:
                raise
            log.warning("the thumbnail of %s can never be made, its prompt only is checked: %s", job.id, exc)
            return None
        return ImageInput(data=bytes(data), mime_type=media_type, filename="thumbnail")
