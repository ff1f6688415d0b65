"""``vidgate videos edit|extend SOURCE PROMPT``: an edit or an extension of a video, from the shell.

``SOURCE`` is a video id, or the path of an MP4 to upload (then ``--model`` names the model; through a
gateway its default applies without it). Prints the new video's JSON; ``--wait`` waits for it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vidgate.cli.common import ApiBase, ApiKey, say, wait_with_progress
from vidgate.cli.videos import Timeout, _client, _print, group

Source = Annotated[
    str, typer.Argument(help="A video id, or the path of an MP4 file to upload.", show_default=False)
]
Prompt = Annotated[str, typer.Argument(help="What to change or what happens next.", show_default=False)]
Model = Annotated[str | None, typer.Option("--model", "-m", help="The model, for an uploaded MP4.")]
Wait = Annotated[bool, typer.Option("--wait", help="Wait for the new video to finish.")]


def register(app: typer.Typer) -> None:
    """The commands join ``vidgate videos`` (registered by ``cli.videos``)."""
    group.command("edit")(edit)
    group.command("extend")(extend)


def edit(
    source: Source,
    prompt: Prompt,
    model: Model = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="Output size WIDTHxHEIGHT (default: the source's); another aspect ratio reframes, "
            "where the model can."
        ),
    ] = None,
    wait_for_it: Wait = False,
    timeout: Timeout = 600.0,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
) -> None:
    """Edit a video (it keeps the source's length, which is what is charged)."""
    with _client(api_base, api_key) as (client, err):
        video = client.videos.edit(prompt=prompt, video=source, model=model, size=size)
        say(err, "Created", f"{video.id} (edit of {source}).")
        if wait_for_it:
            video = wait_with_progress(client, video, timeout, err)
    _print(video)


def extend(
    source: Source,
    prompt: Prompt,
    seconds: Annotated[str | None, typer.Option(help="Seconds to add (the model's lengths).")] = None,
    model: Model = None,
    wait_for_it: Wait = False,
    timeout: Timeout = 600.0,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
) -> None:
    """Extend a video by --seconds (those seconds are what is charged)."""
    with _client(api_base, api_key) as (client, err):
        video = client.videos.extend(prompt=prompt, video=source, seconds=seconds, model=model)
        say(err, "Created", f"{video.id} (extension of {source}).")
        if wait_for_it:
            video = wait_with_progress(client, video, timeout, err)
    _print(video)
