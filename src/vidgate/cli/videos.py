"""``vidgate videos list|get|wait|download|remix|delete`` (``edit|extend``: ``cli.video_edits``): the
Videos API from the shell.

With ``--api-base`` (or ``VIDGATE_API_BASE``) every command goes through that gateway with its key
(``--api-key`` or ``VIDGATE_API_KEY``); without it the SDK calls the provider named by the video id.
Results are JSON on stdout (one object per command; ``list --table`` for people); messages go to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Column, Table

from vidgate.cli.common import (
    CLIENT_ERRORS,
    ApiBase,
    ApiKey,
    error_text,
    fail,
    failure_reason,
    make_client,
    say,
    wait_with_progress,
)
from vidgate.sdk import Client

group = typer.Typer(help="List, inspect, wait for, download, remix and delete videos.", no_args_is_help=True)

VideoId = Annotated[str, typer.Argument(help="The video's id (video_...).", show_default=False)]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for the video.")]
EXTENSIONS = {"video": ".mp4", "thumbnail": ".webp", "spritesheet": ".jpg"}


class Variant(StrEnum):
    video = "video"
    thumbnail = "thumbnail"
    spritesheet = "spritesheet"


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="videos")


def _print(model: BaseModel) -> None:
    typer.echo(json.dumps(model.model_dump(mode="json"), indent=2))


@contextmanager
def _client(api_base: str | None, api_key: str | None) -> Iterator[tuple[Client, Console]]:
    """The client, with every SDK failure turned into one ``error:`` line and exit status 1."""
    err = Console(stderr=True)
    client = make_client(err, api_base, api_key)
    try:
        with client:
            yield client, err
    except CLIENT_ERRORS as exc:
        fail(err, error_text(exc))


@group.command("list")
def list_videos(
    limit: Annotated[int | None, typer.Option(min=1, max=100, help="How many (default 20).")] = None,
    after: Annotated[str | None, typer.Option(help="Start after this video id (paging).")] = None,
    order: Annotated[Order | None, typer.Option(help="By creation time (default: desc).")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Without --api-base: the provider/model to list.")
    ] = None,
    table: Annotated[bool, typer.Option("--table", help="A table instead of JSON.")] = False,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
) -> None:
    """List videos (through a gateway: the ones this key created)."""
    with _client(api_base, api_key) as (client, _):
        page = client.videos.list(
            model=model, after=after, limit=limit, order=order.value if order is not None else None
        )
    if not table:
        _print(page)
        return
    widest = max((len(v.id) for v in page.data), default=2)
    grid = Table(  # ids are what the other commands take: never shortened
        Column("id", no_wrap=True, min_width=widest),
        "status",
        "progress",
        "model",
        "seconds",
        "size",
        "created (UTC)",
    )
    for video in page.data:
        created = dt.datetime.fromtimestamp(video.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        grid.add_row(
            video.id, video.status, f"{video.progress}%", video.model, video.seconds, video.size, created
        )
    Console().print(grid)
    if page.has_more:
        say(Console(stderr=True), "more:", f"--after {page.last_id}")


@group.command("get")
def get(video_id: VideoId, api_base: ApiBase = None, api_key: ApiKey = None) -> None:
    """Show a video's status (JSON)."""
    with _client(api_base, api_key) as (client, _):
        video = client.videos.retrieve(video_id)
    _print(video)


@group.command("wait")
def wait(
    video_id: VideoId, timeout: Timeout = 600.0, api_base: ApiBase = None, api_key: ApiKey = None
) -> None:
    """Wait for a video to finish, with a progress bar; exit status 1 when it failed."""
    with _client(api_base, api_key) as (client, err):
        done = wait_with_progress(client, client.videos.retrieve(video_id), timeout, err)
    _print(done)
    if done.status == "failed":
        fail(err, f"the video failed ({failure_reason(done)})")


@group.command("download")
def download(
    video_id: VideoId,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write it (default: ID.mp4).")
    ] = None,
    variant: Annotated[Variant, typer.Option(help="Which file.")] = Variant.video,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
) -> None:
    """Save a finished video (or its thumbnail / spritesheet) to a file."""
    path = output or Path(video_id + EXTENSIONS[variant.value])
    with _client(api_base, api_key) as (client, _):
        saved = client.videos.stream_content(video_id, path, variant=variant.value)
    typer.echo(f"Saved {saved}")


@group.command("remix")
def remix(
    video_id: VideoId,
    prompt: Annotated[str, typer.Argument(help="What to change.", show_default=False)],
    wait_for_it: Annotated[bool, typer.Option("--wait", help="Wait for the remix to finish.")] = False,
    timeout: Timeout = 600.0,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
) -> None:
    """Start a remix of a finished video (JSON of the new video)."""
    with _client(api_base, api_key) as (client, err):
        video = client.videos.remix(video_id, prompt)
        say(err, "Created", f"{video.id} (remix of {video_id}).")
        if wait_for_it:
            video = wait_with_progress(client, video, timeout, err)
    _print(video)


@group.command("delete")
def delete(video_id: VideoId, api_base: ApiBase = None, api_key: ApiKey = None) -> None:
    """Delete a video and its files."""
    with _client(api_base, api_key) as (client, _):
        deleted = client.videos.delete(video_id)
    _print(deleted)
