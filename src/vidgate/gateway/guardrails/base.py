"""What a guardrail sees and answers, and the protocol every guardrail (built-in or plugin) follows.

A guardrail is built once from its config entry's ``litellm_params`` (``build(params)``, found by the
entry point named like its ``guardrail:`` value in the ``vidgate.guardrails`` group) and then asked
``check(subject)`` for each request (``pre_call``: the prompt and the input images and videos, before
anything is priced, reserved or sent) or each finished job (``post_call``: the prompt and the output's
thumbnail, before the job is charged). It answers a ``Verdict``; raising (or running past its timeout)
is an error, which the engine turns into the guardrail's failure mode (``unreachable_fallback``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from vidgate.types import ImageInput, SourceVideo, VideoRequest

Mode = Literal["pre_call", "post_call"]
MODES: tuple[Mode, ...] = ("pre_call", "post_call")

__all__ = ["MODES", "GuardInput", "Guardrail", "GuardrailFactory", "Mode", "Verdict"]


@dataclass(frozen=True)
class GuardInput:
    """The content of one paid operation (or of its output), provider-agnostic.

    ``texts`` are (field, text) pairs (``prompt``, ``negative_prompt``); ``images`` (field, image)
    pairs (``input_reference``, ``last_frame``, ``reference_images``, ``output.thumbnail``);
    ``videos`` (field, video) pairs (``source_video``, ``reference_videos``)."""

    mode: Mode
    model: str
    texts: tuple[tuple[str, str], ...] = ()
    images: tuple[tuple[str, ImageInput], ...] = ()
    videos: tuple[tuple[str, SourceVideo], ...] = ()
    key_id: str | None = None
    video_id: str | None = None  # post_call: the job whose output is checked

    @classmethod
    def of_request(cls, req: VideoRequest, *, model: str, key_id: str | None) -> GuardInput:
        """A request's prompt(s) and every image and video it carries, whatever the operation."""
        texts = [("prompt", req.prompt)] if req.prompt else []
        if req.negative_prompt:
            texts.append(("negative_prompt", req.negative_prompt))
        images: list[tuple[str, ImageInput]] = []
        if req.input_reference is not None:
            images.append(("input_reference", req.input_reference))
        if req.last_frame is not None:
            images.append(("last_frame", req.last_frame))
        images += [("reference_images", image) for image in req.reference_images]
        videos: list[tuple[str, SourceVideo]] = []
        if req.source_video is not None:
            videos.append(("source_video", req.source_video))
        videos += [("reference_videos", video) for video in req.reference_videos]
        return cls(
            mode="pre_call",
            model=model,
            texts=tuple(texts),
            images=tuple(images),
            videos=tuple(videos),
            key_id=key_id,
        )


@dataclass(frozen=True)
class Verdict:
    """A guardrail's answer: allowed, or refused with a reason (shown to the caller) and the field
    that was refused (``param`` of the 400)."""

    allowed: bool
    reason: str = ""
    param: str | None = None

    @classmethod
    def allow(cls) -> Verdict:
        return cls(True)

    @classmethod
    def refuse(cls, reason: str, param: str | None = None) -> Verdict:
        return cls(False, reason, param)


@runtime_checkable
class Guardrail(Protocol):
    """A content check. ``aclose`` frees what it opened (an HTTP client), at shutdown."""

    async def check(self, subject: GuardInput) -> Verdict: ...

    async def aclose(self) -> None: ...


GuardrailFactory = Callable[[Mapping[str, Any]], Guardrail]
"""``build(params)``: the guardrail of one config entry, from its own ``litellm_params`` (the common
keys ``guardrail``, ``mode``, ``default_on``, ``unreachable_fallback`` and ``timeout`` removed).
Raises ``ValueError`` naming the bad parameter; the config loader reports it with its path."""
