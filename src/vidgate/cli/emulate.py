"""``vidgate emulate openai|azure|gemini|vertex``: serve a provider's wire format on loopback.

Each emulator module exposes ``create_app(EmulatorSettings)``; this command runs it with uvicorn and
prints the environment variables that point vidgate (or the provider's official SDK) at it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from vidgate.cli.common import require_modules

# The emulators are Starlette apps that render real MP4s: the `server` and `local` extras.
EMULATOR_MODULES = ("uvicorn", "starlette", "multipart", "av", "numpy", "PIL")


class Emulated(StrEnum):
    openai = "openai"
    azure = "azure"
    gemini = "gemini"
    vertex = "vertex"


DEFAULT_PORTS = {Emulated.openai: 8101, Emulated.azure: 8102, Emulated.gemini: 8103, Emulated.vertex: 8104}


def register(app: typer.Typer) -> None:
    app.command("emulate")(emulate)


def env_hint(provider: Emulated, url: str, key: str) -> list[str]:
    """The variables that point vidgate's SDK at this emulator."""
    if provider is Emulated.openai:
        return [f"OPENAI_BASE_URL={url}/v1", f"OPENAI_API_KEY={key}"]
    if provider is Emulated.azure:
        return [f"AZURE_OPENAI_API_BASE={url}", f"AZURE_OPENAI_API_KEY={key}"]
    if provider is Emulated.gemini:
        return [f"GEMINI_API_BASE={url}", f"GEMINI_API_KEY={key}"]
    return [f"VERTEXAI_API_BASE={url}", "VERTEXAI_PROJECT=my-project", f"VERTEXAI_ACCESS_TOKEN={key}"]


def factory(provider: Emulated) -> Callable[..., Any]:
    """The emulator module's ``create_app(EmulatorSettings)``."""
    module = importlib.import_module(f"vidgate.emulators.{provider.value}")
    create_app: Callable[..., Any] = module.create_app
    return create_app


def emulate(
    provider: Annotated[Emulated, typer.Argument(help="Which provider's wire format to serve.")],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port (default: openai 8101, azure 8102, gemini 8103, vertex 8104).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="The only key (or Vertex token) accepted; default: any non-empty one.")
    ] = None,
    processing_seconds: Annotated[float, typer.Option(help="Seconds from create to a finished video.")] = 2.0,
    cache_dir: Annotated[Path | None, typer.Option(help="Where rendered videos are cached.")] = None,
) -> None:
    r"""Run an emulator of a provider's video API (real MP4s; fault tokens such as \[fault:429] in prompts).

    Fault tokens in a prompt (xN fires N times, e.g. \[fault:503x2]):
    create: \[fault:429] \[fault:500] \[fault:503]
    polls: \[fault:poll-429] \[fault:poll-500] \[fault:poll-503] \[fault:drop]
    download: \[fault:download-503]; every reply: \[fault:slow]
    outcome: \[fault:fail] \[fault:filtered].
    """
    if processing_seconds < 0:
        typer.echo("error: --processing-seconds must be >= 0", err=True)
        raise typer.Exit(2)
    require_modules(Console(stderr=True), "`vidgate emulate`", EMULATOR_MODULES)
    import uvicorn

    from vidgate.emulators.common import EmulatorSettings

    settings = EmulatorSettings(api_key=api_key, processing_seconds=processing_seconds, cache_dir=cache_dir)
    app = factory(provider)(settings)
    bound = DEFAULT_PORTS[provider] if port is None else port
    url = f"http://{host}:{bound}"
    typer.echo(f"{provider.value} emulator on {url}. Point vidgate at it with:", err=True)
    for line in env_hint(provider, url, api_key or "any-key"):
        typer.echo(f"  export {line}", err=True)
    uvicorn.run(app, host=host, port=bound, log_level="warning")
