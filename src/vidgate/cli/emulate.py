"""``vidgate emulate <provider>``: serve a provider's wire format on loopback.

The providers with an emulator are those whose ``ProviderSpec`` names one (``emulator =
"module:create_app"``, a factory taking ``EmulatorSettings``); this command runs it with uvicorn and
prints the environment variables (``ProviderSpec.emulator_env``) that point vidgate at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vidgate.cli.common import require_modules
from vidgate.errors import APIError
from vidgate.providers.registry import get_spec, specs
from vidgate.providers.spec import ProviderSpec

# The emulators are Starlette apps that render real MP4s: the `server` and `local` extras.
EMULATOR_MODULES = ("uvicorn", "starlette", "multipart", "av", "numpy", "PIL")

FIRST_FREE_PORT = 8100


def register(app: typer.Typer) -> None:
    app.command("emulate")(emulate)


def emulated() -> dict[str, ProviderSpec]:
    """Every installed provider that ships an emulator, by name."""
    return {name: spec for name, spec in specs().items() if spec.emulator is not None}


def env_hint(spec: ProviderSpec, url: str, key: str) -> list[str]:
    """The variables that point vidgate's SDK at this emulator."""
    return [line.format(url=url, key=key) for line in spec.emulator_env]


def emulate(
    provider: Annotated[str, typer.Argument(help="Which provider's wire format to serve (or an alias).")],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port (default: the provider's own, e.g. openai 8101).")
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
    try:
        spec = get_spec(provider)
    except APIError:
        spec = None
    if spec is None or spec.emulator is None:
        typer.echo(f"error: no emulator for '{provider}'. Emulated: {', '.join(emulated())}.", err=True)
        raise typer.Exit(2)
    require_modules(Console(stderr=True), "`vidgate emulate`", EMULATOR_MODULES)
    import uvicorn

    from vidgate.emulators.common import EmulatorSettings

    factory = spec.emulator_factory()
    assert factory is not None
    settings = EmulatorSettings(api_key=api_key, processing_seconds=processing_seconds, cache_dir=cache_dir)
    app = factory(settings)
    bound = port if port is not None else (spec.emulator_port or FIRST_FREE_PORT)
    url = f"http://{host}:{bound}"
    typer.echo(f"{spec.name} emulator on {url}. Point vidgate at it with:", err=True)
    for line in env_hint(spec, url, api_key or "any-key"):
        typer.echo(f"  export {line}", err=True)
    uvicorn.run(app, host=host, port=bound, log_level="warning")
