"""``vidgate generate "prompt" -m MODEL -o out.mp4``: create, poll with a progress bar, stream to disk.

The output path is checked before the (paid) video is created. Once it exists, its id is printed, so a
job interrupted by Ctrl-C, a timeout or a failed download can still be fetched later; the file itself
appears complete or not at all (``stream_content`` writes through a ``.part`` file).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from vidgate.cli.common import (
    CLIENT_ERRORS,
    ApiBase,
    ApiKey,
    error_text,
    failure_reason,
    make_client,
    say,
    wait_with_progress,
)
from vidgate.sdk import LifecycleWarning
from vidgate.sdk.files import checked_destination
from vidgate.types import Video

DEFAULT_MODEL = "local/local-1"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def _summary(video: Video, path: Path) -> str:
    line = f"Saved {path} ({video.seconds} s, {video.size}, {video.model})"
    if video.usage is not None and video.usage.cost is not None:
        line += f"; estimated cost ${video.usage.cost:.2f}"
    return line


def _later(video_id: str, output: Path, api_base: str | None) -> str:
    via = f" --api-base {api_base}" if api_base else ""
    return (
        f"The video {video_id} may still finish (and be charged); save it later with "
        f"`vidgate videos download {video_id} -o {output}{via}`."
    )


def generate(
    prompt: Annotated[str, typer.Argument(help="What the video should show.")],
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="provider/model (see `vidgate models`), or a gateway's model name."
        ),
    ] = DEFAULT_MODEL,
    seconds: Annotated[str | None, typer.Option(help="Duration, e.g. 4 (default: the model's).")] = None,
    size: Annotated[
        str | None, typer.Option(help="WIDTHxHEIGHT, e.g. 1280x720 (default: the model's).")
    ] = None,
    duration: Annotated[
        int | None, typer.Option(help="Duration in seconds, OpenRouter's spelling of --seconds.")
    ] = None,
    resolution: Annotated[
        str | None, typer.Option(help="Resolution tier, e.g. 720p (with --aspect-ratio, instead of --size).")
    ] = None,
    aspect_ratio: Annotated[
        str | None, typer.Option("--aspect-ratio", help="e.g. 16:9 (with --resolution, instead of --size).")
    ] = None,
    image: Annotated[Path | None, typer.Option(help="First-frame image (JPEG, PNG or WebP).")] = None,
    negative_prompt: Annotated[
        str | None, typer.Option(help="What to keep out (models that support it).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (models that support it).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the MP4.")] = Path(
        "video.mp4"
    ),
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the video.")] = 600.0,
) -> None:
    """Generate a video and save it (directly from the provider, or through a gateway with --api-base)."""
    err = Console(stderr=True)
    try:
        checked_destination(output)
    except OSError as exc:
        say(err, "[red]error:[/] --output:", exc)
        raise typer.Exit(2) from exc
    params: dict[str, Any] = {}
    if negative_prompt is not None:
        params["negative_prompt"] = negative_prompt
    if seed is not None:
        params["seed"] = seed
    for name, value in (("duration", duration), ("resolution", resolution), ("aspect_ratio", aspect_ratio)):
        if value is not None:
            params[name] = value
    video: Video | None = None
    try:
        with make_client(err, api_base, api_key) as client:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", LifecycleWarning)
                video = client.videos.create(
                    model, prompt, seconds=seconds, size=size, input_reference=image, **params
                )
            for warning in caught:
                say(err, "[yellow]warning:[/]", warning.message)
            say(err, "Created", f"{video.id} ({video.model}).")
            done = wait_with_progress(client, video, timeout, err)
            if done.status == "failed":
                say(err, "[red]error:[/]", f"the video failed ({failure_reason(done)})")
                raise typer.Exit(1)
            path = client.videos.stream_content(done.id, output)
    except KeyboardInterrupt as exc:
        tail = f" {_later(video.id, output, api_base)}" if video is not None else ""
        say(err, "[red]interrupted:[/]", f"nothing was saved to {output}.{tail}")
        raise typer.Exit(INTERRUPTED) from exc
    except CLIENT_ERRORS as exc:
        say(err, "[red]error:[/]", error_text(exc))
        if video is not None:
            say(err, "note:", _later(video.id, output, api_base))
        raise typer.Exit(1) from exc
    typer.echo(_summary(done, path))
