"""What the client commands share: the gateway options, the client they build, the progress bar, and
SDK errors restated in the CLI's own terms (``--api-key``, not ``api_key=...``)."""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Annotated, NoReturn

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
from vidgate.extras import EXTRA_OF_MODULE, MissingExtraError
from vidgate.sdk import Client
from vidgate.types import Video

API_BASE_ENV = "VIDGATE_API_BASE"
API_KEY_ENV = "VIDGATE_API_KEY"

ApiBase = Annotated[
    str | None,
    typer.Option(
        "--api-base",
        envvar=API_BASE_ENV,
        help="A vidgate gateway's URL: the command then goes through it, and model names and video ids "
        "are the gateway's. Without it the SDK calls the provider directly.",
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help=f"With --api-base: a key of that gateway (default: ${API_KEY_ENV}). Without: the provider's "
        "API key (Vertex AI: an access token); default: the provider's env var.",
        show_default=False,
    ),
]

# SDK argument -> the CLI flag that sets it (None: no flag; the environment variable in the message stays).
FLAGS: dict[str, str | None] = {
    "api_key": "--api-key",
    "api_base": "--api-base",
    "model": "--model",
    "seconds": "--seconds",
    "size": "--size",
    "duration": "--duration",
    "resolution": "--resolution",
    "aspect_ratio": "--aspect-ratio",
    "input_reference": "--image",
    "negative_prompt": "--negative-prompt",
    "seed": "--seed",
    "timeout": "--timeout",
    "variant": "--variant",
    "limit": "--limit",
    "order": "--order",
    "after": "--after",
    "vertex_project": None,
    "vertex_location": None,
    "base_model": None,
}
_ARGUMENT = re.compile(r"\b(?:pass )?(" + "|".join(FLAGS) + r")=(\.\.\.|'[^']*')(?:,? or |, )?")


def _as_flag(match: re.Match[str]) -> str:
    flag = FLAGS[match.group(1)]
    if flag is None:
        return ""
    value = match.group(2)
    shown = flag if value == "..." else f"{flag} {value.strip(chr(39))}"
    return f"pass {shown}{' or ' if match.group(0).rstrip().endswith(('or', ',')) else ''}"


def in_flags(message: str) -> str:
    """An SDK message with its argument names as the CLI's flags."""
    text = message.replace("set vidgate.api_key, ", "").replace(" (or vidgate.api_base)", "")
    text = text.replace("vidgate.api_key", "--api-key").replace("vidgate.api_base", "--api-base")
    text = _ARGUMENT.sub(_as_flag, text)
    return re.sub(r"\bset api_base\b", "pass --api-base", text)


def error_text(exc: BaseException) -> str:
    """What the CLI prints for a failure: flags instead of SDK arguments, the param when it has a flag."""
    text = in_flags(exc.message if isinstance(exc, APIError) else str(exc))
    if isinstance(exc, APIError) and exc.param:
        flag = FLAGS.get(exc.param)
        if flag and flag not in text:
            text = f"{flag}: {text}"
    return text


def say(err: Console, label: str, text: object) -> None:
    """One line on stderr; ``text`` is shown literally (``[fault:429]``, ``vidgate[google]`` survive)."""
    err.print(f"{label} {escape(str(text))}", highlight=False, soft_wrap=True)


def fail(err: Console, text: object, code: int = 1) -> NoReturn:
    say(err, "[red]error:[/]", text)
    raise typer.Exit(code)


def make_client(err: Console, api_base: str | None, api_key: str | None) -> Client:
    """A gateway client when ``--api-base`` is given (every model name and id is the gateway's), else
    the SDK's direct mode (``--api-key`` is the provider's key, or Vertex AI's access token)."""
    if api_base:
        key = api_key or os.environ.get(API_KEY_ENV) or None
        if key is None:
            fail(err, f"--api-base needs a key of that gateway: pass --api-key or set {API_KEY_ENV}.", 2)
        return Client(api_key=key, api_base=api_base, gateway=True)
    # Vertex AI takes a Bearer token where other providers take a key: --api-key serves as either.
    return Client(api_key=api_key, vertex_access_token=api_key)


def describe(video: Video) -> str:
    return video.status.replace("_", " ")


def wait_with_progress(client: Client, video: Video, timeout: float, err: Console) -> Video:
    """Poll until done, with a progress bar on stderr."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task(describe(video), total=100, completed=video.progress)

        def show(polled: Video) -> None:
            progress.update(task, completed=polled.progress, description=describe(polled))

        return client.videos.wait(video.id, timeout=timeout, on_progress=show)


def failure_reason(video: Video) -> str:
    return f"{video.error.code}: {video.error.message}" if video.error else "no reason given"


CLIENT_ERRORS = (APIError, OSError, MissingExtraError)


def require_modules(err: Console, what: str, modules: tuple[str, ...]) -> None:
    """Exit 2 naming the extra to install when one of ``modules`` (top-level names) is missing."""
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a finder that refuses the name
            found = False
        if not found:
            fail(err, MissingExtraError(what, EXTRA_OF_MODULE.get(module, "all"), module), 2)
