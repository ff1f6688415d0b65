"""The emulated OpenAI-shaped video jobs: an in-memory store and the ``Video`` JSON it answers with.

A job's status is a function of time since creation (``EmuJob.state``): queued for the first tenth of
``processing_seconds``, then in_progress with rising progress, then completed, or failed when its
prompt asked for ``[fault:fail]`` / ``[fault:filtered]``.
"""

from __future__ import annotations

import time
from typing import Any

from vidgate.emulators.common import EmuJob, EmulatorSettings, faults_book, new_id
from vidgate.emulators.faults import FaultBook, parse_faults

EXPIRES_AFTER_SECONDS = 3600  # the guide: download URLs are valid for up to an hour
FAILURES: dict[str, dict[str, str]] = {
    "fail": {"code": "internal_error", "message": "Video generation failed due to an internal error."},
    "filtered": {
        "code": "moderation_blocked",
        "message": "Your request was blocked by our moderation system.",
    },
}


class VideoStore:
    """Jobs in creation order (list order), plus the fault book shared by every route."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults: FaultBook = faults_book(settings)
        self.jobs: dict[str, EmuJob] = {}

    def add(
        self,
        *,
        prompt: str,
        model: str,
        seconds: int,
        width: int,
        height: int,
        image: bytes | None = None,
        remixed_from: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> EmuJob:
        plan = self.faults.plan(prompt)
        job = EmuJob(
            id=new_id("video_", 24),
            prompt=prompt,
            model=model,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=self.settings.processing_seconds,
            outcome=FaultBook.outcome(plan),
            image=image,
            plan=plan,
            extra={"remixed_from_video_id": remixed_from, "fields": dict(extra or {})},
        )
        self.jobs[job.id] = job
        return job

    def get(self, video_id: str) -> EmuJob | None:
        return self.jobs.get(video_id)

    def remove(self, video_id: str) -> None:
        self.jobs.pop(video_id, None)

    def page(self, *, after: str | None, limit: int, order: str) -> tuple[list[EmuJob], bool]:
        """Jobs after the cursor in ``order`` (newest first for ``desc``), and whether more follow."""
        ordered = list(self.jobs.values())
        if order == "desc":
            ordered.reverse()
        if after is not None:
            ids = [job.id for job in ordered]
            ordered = ordered[ids.index(after) + 1 :]
        return ordered[:limit], len(ordered) > limit


def render_prompt(job: EmuJob) -> str:
    """The prompt as drawn on the frames: fault tokens are test plumbing, not content."""
    text = job.prompt
    for name, times in parse_faults(text).items():
        text = text.replace(f"[fault:{name}x{times}]", "").replace(f"[fault:{name}]", "")
    return " ".join(text.split()) or job.prompt


def video_json(job: EmuJob, now: float | None = None) -> dict[str, Any]:
    """The ``Video`` object: every field present, nullable ones as ``null``, ``seconds`` a string."""
    status, progress = job.state(now if now is not None else time.time())
    completed_at = job.finished_at if status == "completed" else None
    return {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "status": status,
        "progress": 0 if status == "failed" else progress,
        "created_at": int(job.created_at),
        "completed_at": completed_at,
        "expires_at": completed_at + EXPIRES_AFTER_SECONDS if completed_at is not None else None,
        "prompt": job.prompt,
        "size": job.size,
        "seconds": str(job.seconds),
        "remixed_from_video_id": job.extra.get("remixed_from_video_id"),
        "error": dict(FAILURES[job.outcome]) if status == "failed" else None,
    }
