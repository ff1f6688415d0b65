"""How each model family on fal spells its input (fal has no common schema: every app declares its own).

A catalogue row's path picks its family by prefix; any other path gets ``OPEN``: the spellings most fal
video apps share (``duration`` as a string of seconds, ``aspect_ratio``, ``resolution``, ``image_url``),
beside which the caller's ``extra_body`` passes through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """``duration_suffix``: "s" for apps taking ``"5s"``; ``image_field``/``end_image_field``: the first
    and last frame's names; ``aspect_with_image``: whether the app takes ``aspect_ratio`` beside a first
    frame (image-to-video apps that follow the image's shape do not)."""

    duration_suffix: str = ""
    image_field: str = "image_url"
    end_image_field: str = "end_image_url"
    send_resolution: bool = True
    aspect_with_image: bool = True


OPEN = Profile()
PROFILES: tuple[tuple[str, Profile], ...] = (
    (
        "fal-ai/kling-video/",
        Profile(image_field="start_image_url", send_resolution=False, aspect_with_image=False),
    ),
    ("bytedance/seedance-", Profile()),
    ("luma/agent/ray/", Profile(duration_suffix="s")),
)


def profile_for(path: str) -> Profile:
    return next((profile for prefix, profile in PROFILES if path.startswith(prefix)), OPEN)
