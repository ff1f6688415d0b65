"""Stored jobs as the OpenAI objects clients read."""

from __future__ import annotations

import secrets

from vidgate.catalog import from_micros
from vidgate.gateway.records import JobRecord
from vidgate.types import Video, VideoError, VideoList, VideoUsage

VIDEO_ID_PREFIX = "video_"


def new_video_id() -> str:
    """Opaque: ``video_`` + 32 random hex characters; the job store maps it to deployment and native id."""
    return VIDEO_ID_PREFIX + secrets.token_hex(16)


def usage(job: JobRecord) -> VideoUsage:
    """Seconds of video and cost: the reserved estimate until settled, then the charge (0 if failed)."""
    micros = job.cost_micros if job.cost_micros is not None else job.reserved_micros
    return VideoUsage(
        duration_seconds=float(job.seconds) * job.n,
        cost=from_micros(micros),
        cost_is_estimate=job.cost_micros is None,
    )


def to_video(job: JobRecord) -> Video:
    error = None
    if job.status == "failed":
        error = VideoError(
            code=job.error_code or "video_generation_failed",
            message=job.error_message or "The video could not be generated.",
        )
    return Video(
        id=job.id,
        model=job.model_name,
        status=job.status,
        progress=job.progress,
        created_at=job.created_at,
        completed_at=job.completed_at,
        expires_at=job.expires_at,
        prompt=job.prompt,
        size=job.size,
        seconds=job.seconds,
        remixed_from_video_id=job.remixed_from,
        error=error,
        usage=usage(job),
    )


def to_list(records: list[JobRecord], has_more: bool) -> VideoList:
    data = [to_video(j) for j in records]
    return VideoList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )
