"""``Client``: the blocking SDK (``client.videos.create / retrieve / content / stream_content / remix /
list / delete / wait``).

Every call is validated before any network I/O (see ``ops``). Retries live in the runner: Retry-After
is honoured, backoff is jittered, and a create is never blindly re-sent (a 500 on create is returned
as an error, since the provider may have started a paid job; 429/503 and unsent connections are retried).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from vidgate.sdk.edits import plan_create_character, plan_get_character, plan_task
from vidgate.sdk.files import checked_destination, partial_path
from vidgate.sdk.ops import (
    Plan,
    Polled,
    credential_hook,
    plan_create,
    plan_delete,
    plan_download,
    plan_list,
    plan_remix,
    plan_retrieve,
    poll_delay,
    wait_timeout,
)
from vidgate.sdk.resolve import ClientConfig, Target
from vidgate.transport import RetryPolicy, SyncRunner
from vidgate.types import Video, VideoBytes, VideoCharacter, VideoDeleted, VideoList

T = TypeVar("T")
DEFAULT_WAIT_TIMEOUT = 600.0


def make_config(
    api_key: str | None,
    api_base: str | None,
    api_version: str | None,
    organization: str | None,
    extra_headers: Mapping[str, str] | None,
    options: Mapping[str, Any],
    *,
    gateway: bool = False,
) -> ClientConfig:
    allowed = {
        "custom_llm_provider",
        "base_model",
        "vertex_project",
        "vertex_location",
        "vertex_access_token",
    }
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"Unexpected client option(s) {sorted(unknown)}; known: {sorted(allowed)}")
    return ClientConfig(
        api_key=api_key,
        api_base=api_base,
        api_version=api_version,
        organization=organization,
        extra_headers=dict(extra_headers or {}),
        gateway=gateway,
        **{k: v for k, v in options.items() if v is not None},
    )


def http_timeout(timeout: float | httpx.Timeout | None) -> float | httpx.Timeout | None:
    """A number is the per-request timeout in seconds (connect capped at 10 s), as in the seeds."""
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(float(timeout), connect=min(10.0, float(timeout)))


class Client:
    """Blocking client. Credentials: arguments, then ``vidgate.api_key``/``api_base``, then env vars.

    ``timeout`` is the per-request HTTP timeout in seconds. ``http_client`` lets a caller supply (and
    own) the ``httpx.Client``, whose own timeout then applies. ``gateway=True`` says ``api_base`` is a
    vidgate (or LiteLLM) gateway: every model name and video id is the gateway's, whatever it looks like.
    ``sleep`` is the pause used between retries and polls (injectable for tests and custom schedulers).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = 2,
        organization: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        gateway: bool = False,
        **options: str | None,
    ) -> None:
        self.config = make_config(
            api_key, api_base, api_version, organization, extra_headers, options, gateway=gateway
        )
        retry = RetryPolicy(max_retries=2 if max_retries is None else max_retries)
        self._runner = SyncRunner(http_client, retry=retry, timeout=http_timeout(timeout), sleep=sleep)
        self._sleep = sleep
        self.videos = Videos(self)

    def close(self) -> None:
        self._runner.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finish(self, target: Target) -> Target:
        """Run the provider's credential hook (e.g. a Vertex token refresh) just before the call."""
        spec = credential_hook(target)
        if spec is not None and spec.authorize_sync is not None:
            return replace(target, creds=spec.authorize_sync(target.creds))
        return target

    def _run(self, plan: Plan[T]) -> T:
        return self._run_with_target(plan)[0]

    def _run_with_target(self, plan: Plan[T]) -> tuple[T, Target]:
        """The result, and the finished target (a download reads its bytes with that target's errors)."""
        target = self._finish(plan.target)
        return self._runner.run(plan.build(target), target.adapter.error_for), target


class Videos:
    """``client.videos``: the OpenAI Videos API surface over every provider."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        model: str,
        prompt: str,
        seconds: str | int | None = None,
        size: str | None = None,
        input_reference: object = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **provider_params: Any,
    ) -> Video:
        """Start a video job. ``provider_params``: negative_prompt, reference_images, last_frame,
        person_generation, seed, n, generate_audio (each only where the model supports it), and
        OpenRouter's duration, resolution, aspect_ratio, frame_images, input_references (reference
        images, and reference videos by URL: ``{"type": "video_url", "video_url": {"url": "https://..."}}``
        where the model has ``reference_videos``) and (through a gateway) callback_url (``sdk.shape``)."""
        plan = plan_create(
            self._client.config,
            model=model,
            prompt=prompt,
            seconds=seconds,
            size=size,
            input_reference=input_reference,
            user=user,
            extra_body=extra_body,
            extra_headers=extra_headers,
            provider_params=provider_params,
        )
        return self._client._run(plan)

    def _poll(self, video_id: str, model: str | None) -> Polled:
        return self._client._run(plan_retrieve(self._client.config, video_id, model))

    def retrieve(self, video_id: str, model: str | None = None) -> Video:
        return self._poll(video_id, model).video

    def content(self, video_id: str, variant: str = "video", model: str | None = None) -> VideoBytes:
        """The whole file in memory (``bytes`` with ``.content``); see ``stream_content`` for large files."""
        client = self._client
        plan = plan_download(client.config, video_id, model, variant)
        download, target = client._run_with_target(plan)
        with client._runner.open(download, target.adapter.error_for) as stream:
            result = VideoBytes(b"".join(stream.chunks))
            result.media_type = stream.media_type
        return result

    def stream_content(
        self, video_id: str, path: str | os.PathLike[str], variant: str = "video", model: str | None = None
    ) -> Path:
        """Write the content to ``path`` chunk by chunk (bounded memory).

        The bytes go to ``path + ".part"``, renamed on success: the file appears complete or not at all.
        A path whose directory is missing (or that is a directory) fails before any request.
        """
        client = self._client
        dest = checked_destination(path)
        plan = plan_download(client.config, video_id, model, variant)
        download, target = client._run_with_target(plan)
        partial = partial_path(dest)
        try:
            with client._runner.open(download, target.adapter.error_for) as stream, partial.open("wb") as out:
                for chunk in stream.chunks:
                    out.write(chunk)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
        return dest

    def edit(
        self,
        *,
        prompt: str,
        video: object,
        model: str | None = None,
        size: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Edit a video: ``video`` is ``{"id": ...}`` (or an id) of a completed video, or an MP4 (path,
        bytes, binary file, ``(filename, bytes)``). The edit keeps the source's length (what is priced);
        ``model`` is for an upload (an id keeps its video's model). ``size`` (a vidgate extension) asks
        for another aspect ratio at the source's resolution, where the model can reframe; absent, the
        output is at the source's size."""
        plan = plan_task(
            self._client.config,
            "edit",
            prompt=prompt,
            video=video,
            size=size,
            model=model,
            extra_headers=extra_headers,
        )
        return self._client._run(plan)

    def extend(
        self,
        *,
        prompt: str,
        video: object,
        seconds: str | int | None = None,
        model: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Continue a video by ``seconds`` (priced at those seconds); ``video`` as in ``edit``."""
        plan = plan_task(
            self._client.config,
            "extend",
            prompt=prompt,
            video=video,
            seconds=seconds,
            model=model,
            extra_headers=extra_headers,
        )
        return self._client._run(plan)

    def create_character(
        self, *, name: str, video: object, extra_headers: Mapping[str, str] | None = None
    ) -> VideoCharacter:
        """Upload a named character clip (an MP4) to the gateway."""
        plan = plan_create_character(self._client.config, name=name, video=video, extra_headers=extra_headers)
        return self._client._run(plan)

    def get_character(self, character_id: str) -> VideoCharacter:
        return self._client._run(plan_get_character(self._client.config, character_id))

    def remix(self, video_id: str, prompt: str, model: str | None = None) -> Video:
        return self._client._run(plan_remix(self._client.config, video_id, prompt, model))

    def list(
        self,
        model: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
    ) -> VideoList:
        return self._client._run(plan_list(self._client.config, model, after=after, limit=limit, order=order))

    def delete(self, video_id: str, model: str | None = None) -> VideoDeleted:
        return self._client._run(plan_delete(self._client.config, video_id, model))

    def wait(
        self,
        video_id: str,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float | None = None,
        on_progress: Callable[[Video], object] | None = None,
        model: str | None = None,
    ) -> Video:
        """Poll until the video is completed or failed (returned, not raised); Timeout after ``timeout`` s.

        Between polls: ``poll_interval`` if given, else the provider's hint (``openai-poll-after-ms``),
        else a backoff from 0.5 s to 10 s; never sooner than the provider's hint. ``on_progress`` gets
        every polled Video.
        """
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            polled = self._poll(video_id, model)
            if on_progress is not None:
                on_progress(polled.video)
            if polled.video.done:
                return polled.video
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise wait_timeout(video_id, timeout, polled.video)
            self._client._sleep(min(poll_delay(attempt, poll_interval, polled.poll_after_ms), remaining))
            attempt += 1
