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
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from vidgate.errors import APIError
from vidgate.sdk import Client, LifecycleWarning
from vidgate.sdk.files import checked_destination
from vidgate.types import Video

DEFAULT_MODEL = "local/local-1"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def _describe(video: Video) -> str:
    return video.status.replace("_", " ")


def _summary(video: Video, path: Path) -> str:
    line = f"Saved {path} ({video.seconds} s, {video.size}, {video.model})"
    if video.usage is not None and video.usage.cost is not None:
        line += f"; estimated cost ${video.usage.cost:.2f}"
    return line


def _say(err: Console, label: str, text: object) -> None:
    """One line on stderr; ``text`` is shown literally (``[fault:429]``, ``vidgate[google]`` survive)."""
    err.print(f"{label} {escape(str(text))}", highlight=False, soft_wrap=True)


def _later(video_id: str, output: Path) -> str:
    return (
        f"The video {video_id} may still finish (and be charged); save it later with "
        f"vidgate.Client().videos.stream_content('{video_id}', '{output}')."
    )


def generate(
    prompt: Annotated[str, typer.Argument(help="What the video should show.")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="provider/model; see `vidgate models`.")
    ] = DEFAULT_MODEL,
    seconds: Annotated[str | None, typer.Option(help="Duration, e.g. 4 (default: the model's).")] = None,
    size: Annotated[
        str | None, typer.Option(help="WIDTHxHEIGHT, e.g. 1280x720 (default: the model's).")
    ] = None,
    image: Annotated[Path | None, typer.Option(help="First-frame image (JPEG, PNG or WebP).")] = None,
    negative_prompt: Annotated[
        str | None, typer.Option(help="What to keep out (models that support it).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (models that support it).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the MP4.")] = Path(
        "video.mp4"
    ),
    api_base: Annotated[str | None, typer.Option(help="Provider base URL, or a vidgate gateway URL.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key (Vertex AI: an access token); default: the provider's env var."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the video.")] = 600.0,
) -> None:
    """Generate a video and save it."""
    err = Console(stderr=True)
    try:
        checked_destination(output)
    except OSError as exc:
        _say(err, "[red]error:[/] --output:", exc)
        raise typer.Exit(2) from exc
    params: dict[str, Any] = {}
    if negative_prompt is not None:
        params["negative_prompt"] = negative_prompt
    if seed is not None:
        params["seed"] = seed
    video: Video | None = None
    try:
        # Vertex AI takes a Bearer token where other providers take a key: --api-key serves as either.
        with Client(api_key=api_key, api_base=api_base, vertex_access_token=api_key) as client:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", LifecycleWarning)
                video = client.videos.create(
                    model, prompt, seconds=seconds, size=size, input_reference=image, **params
                )
            for warning in caught:
                _say(err, "[yellow]warning:[/]", warning.message)
            _say(err, "Created", f"{video.id} ({video.model}).")
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err) as progress:
                task = progress.add_task(_describe(video), total=100, completed=video.progress)

                def show(polled: Video) -> None:
                    progress.update(task, completed=polled.progress, description=_describe(polled))

                done = client.videos.wait(video.id, timeout=timeout, on_progress=show)
            if done.status == "failed":
                reason = f"{done.error.code}: {done.error.message}" if done.error else "no reason given"
                _say(err, "[red]error:[/]", f"the video failed ({reason})")
                raise typer.Exit(1)
            path = client.videos.stream_content(done.id, output)
    except KeyboardInterrupt as exc:
        tail = f" {_later(video.id, output)}" if video is not None else ""
        _say(err, "[red]interrupted:[/]", f"nothing was saved to {output}.{tail}")
        raise typer.Exit(INTERRUPTED) from exc
    except (APIError, OSError) as exc:
        _say(err, "[red]error:[/]", exc)
        if video is not None:
            _say(err, "note:", _later(video.id, output))
        raise typer.Exit(1) from exc
    typer.echo(_summary(done, path))
