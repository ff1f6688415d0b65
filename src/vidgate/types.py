"""The public data shapes: OpenAI's Video objects, plus the normalized request every adapter reads.

``Video``, ``VideoList`` and ``VideoDeleted`` match OpenAI's Videos API field for field (all fields
present, nullable ones as ``null``), with one addition: ``usage`` (duration and cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

VideoStatus = Literal["queued", "in_progress", "completed", "failed"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})
ContentVariant = Literal["video", "thumbnail", "spritesheet"]
CONTENT_VARIANTS: tuple[str, ...] = ("video", "thumbnail", "spritesheet")

VIDEO_ID_PREFIX = "video_"  # the gateway's public video ids: "video_" + 32 lower-case hex


class VideoError(BaseModel):
    code: str
    message: str


class VideoUsage(BaseModel):
    """Billing facts: seconds of video and its cost in USD (estimate until settled)."""

    duration_seconds: float
    cost: float | None = None
    currency: str = "USD"
    cost_is_estimate: bool = True


class Video(BaseModel):
    """OpenAI's ``Video`` object (``VideoResource``) plus ``usage``."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["video"] = "video"
    model: str
    status: VideoStatus
    progress: int = 0
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    size: str
    seconds: str
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    usage: VideoUsage | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class VideoCharacter(BaseModel):
    """OpenAI's character (``POST /videos/characters``, ``GET /videos/characters/{id}``)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    created_at: int
    name: str | None = None


class VideoBytes(bytes):
    """Downloaded content. A ``bytes`` (seed 000 writes it directly) with ``.content`` (seed 002 reads it)."""

    media_type: str = "video/mp4"

    @property
    def content(self) -> bytes:
        return bytes(self)

    def write_to_file(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self)


@dataclass(frozen=True)
class ImageInput:
    """An image given to a model: raw bytes, an https/data URL, or a provider file id (exactly one)."""

    data: bytes | None = None
    mime_type: str | None = None
    url: str | None = None
    file_id: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class FilePart:
    """A file uploaded in a pass-through field (``extra_body[name]`` of a multipart create): forwarded
    untouched, as a file part, by providers whose adapter takes them (``extra_file_parts``)."""

    filename: str | None
    content_type: str | None
    data: bytes


VideoTask = Literal["generate", "edit", "extend"]


@dataclass(frozen=True)
class SourceVideo:
    """A video a request starts from: the clip an edit changes or an extension continues, or a reference
    video. The gateway fills every field it knows; each adapter reads the ones its wire needs.

    - ``data``: the MP4 bytes (an upload, or the gateway's stored copy of an earlier job's output);
    - ``native_id``: that earlier job's id at the provider, set only when it ran on the same deployment
      (so ``previous_interaction_id``-style continuations are possible);
    - ``outputs``: that job's provider output references (file URIs, ``gs://`` URIs, URLs);
    - ``url``: an https address the caller gave (a reference video); the gateway never fetches it, the
      provider does, so only adapters whose wire takes video URLs accept it;
    - ``seconds``/``size``: its duration and frame size, when known.
    """

    data: bytes | None = None
    media_type: str = "video/mp4"
    native_id: str | None = None
    outputs: tuple[str, ...] = ()
    url: str | None = None
    seconds: int | None = None
    size: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class VideoRequest:
    """A validated, provider-agnostic create request (built by ``catalog.validate``).

    ``seconds`` and ``size`` are always resolved (defaults applied); ``aspect_ratio`` and
    ``resolution`` are the Veo-style reading of ``size``. ``task`` says what is asked: a new video, an
    ``edit`` of ``source_video`` (``seconds`` is then the source's length, what is priced), or an
    ``extend``-ion of it by ``seconds``. Adapters read ``task`` inside their own package.
    """

    model: str
    prompt: str
    seconds: int
    size: str
    aspect_ratio: str
    resolution: str
    input_reference: ImageInput | None = None
    last_frame: ImageInput | None = None
    reference_images: tuple[ImageInput, ...] = ()
    negative_prompt: str | None = None
    person_generation: str | None = None
    seed: int | None = None
    n: int = 1
    generate_audio: bool | None = None
    user: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    task: VideoTask = "generate"
    source_video: SourceVideo | None = None
    reference_videos: tuple[SourceVideo, ...] = ()
