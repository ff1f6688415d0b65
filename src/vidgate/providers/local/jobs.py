"""The local provider's job records: one small JSON file per job (plus its input image) under a root dir.

Files, not memory, so a job created by one process (the CLI, a gateway worker) can be polled and
downloaded by another. Every write goes to a temporary name and is moved into place with
``os.replace``, so a reader never sees half a record.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_ID = re.compile(r"video_[0-9a-f]{8,64}")


def new_job_id() -> str:
    """``video_`` + 48 hex digits, the shape of OpenAI's ids."""
    return "video_" + secrets.token_hex(24)


@dataclass(frozen=True)
class LocalJob:
    """What the local provider remembers about a job; status is derived from the clock."""

    id: str
    model: str
    prompt: str
    seconds: int
    width: int
    height: int
    seed: int
    created_at: float  # unix seconds
    ready_at: float  # when it stops being queued/in_progress
    outcome: str = "ok"  # ok | fail | filtered
    remixed_from: str | None = None
    has_image: bool = False
    negative_prompt: str | None = None
    user: str | None = None
    task: str = "generate"  # generate | edit | extend (``types.VideoTask``)
    has_source: bool = False  # the source video of an edit or extension is stored beside the record

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalJob:
        fields = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in fields})


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


class JobStore:
    """``ROOT/jobs/<id>.json``, ``ROOT/jobs/<id>.image`` and ``ROOT/jobs/<id>.source`` (an edit's or
    extension's source video)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "jobs"

    @staticmethod
    def valid_id(job_id: str) -> bool:
        """Only ids this provider makes, so an id can never name a path outside the store."""
        return isinstance(job_id, str) and _ID.fullmatch(job_id) is not None

    def _record(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.json"

    def _image(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.image"

    def _source(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.source"

    def save(self, job: LocalJob, image: bytes | None = None, source: bytes | None = None) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if image is not None:
            _write_atomic(self._image(job.id), image)
        if source is not None:
            _write_atomic(self._source(job.id), source)
        _write_atomic(self._record(job.id), json.dumps(job.to_json(), sort_keys=True).encode())

    def load(self, job_id: str) -> LocalJob | None:
        if not self.valid_id(job_id):
            return None
        try:
            data = json.loads(self._record(job_id).read_bytes())
        except FileNotFoundError:
            return None
        return LocalJob.from_json(data)

    def image(self, job: LocalJob) -> bytes | None:
        if not job.has_image:
            return None
        try:
            return self._image(job.id).read_bytes()
        except FileNotFoundError:
            return None

    def source(self, job: LocalJob) -> bytes | None:
        if not job.has_source:
            return None
        try:
            return self._source(job.id).read_bytes()
        except FileNotFoundError:
            return None

    def all(self) -> list[LocalJob]:
        """Every job, oldest first (ties broken by id, so the order is total and stable)."""
        jobs: list[LocalJob] = []
        if not self.dir.is_dir():
            return jobs
        for path in self.dir.glob("video_*.json"):
            try:
                jobs.append(LocalJob.from_json(json.loads(path.read_bytes())))
            except (FileNotFoundError, ValueError, TypeError):
                continue  # deleted meanwhile, or not one of ours
        jobs.sort(key=lambda job: (job.created_at, job.id))
        return jobs

    def remove(self, job_id: str) -> None:
        for path in (self._record(job_id), self._image(job_id), self._source(job_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
