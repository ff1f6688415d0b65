"""The ``vidgate`` command: one typer app, one module per command group.

Each module in ``COMMAND_MODULES`` exposes ``register(app)``; a new group (``serve``, ``keys``) is a new
module added to that tuple, nothing else. The modules import only the client's dependencies at import
time (``pip install vidgate``); ``serve`` and ``emulate`` import the gateway's and the renderer's inside
the command, and say which extra to install when they are missing.
"""

from __future__ import annotations

from types import ModuleType

import typer

from vidgate.cli import emulate, generate, keys, models, serve, video_edits, videos

app = typer.Typer(
    name="vidgate",
    help="One OpenAI-style Videos API over every video-generation provider.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[ModuleType, ...] = (generate, videos, video_edits, models, emulate, serve, keys)

for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
