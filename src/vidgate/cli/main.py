"""The ``vidgate`` command: one typer app, one module per command group.

Each module in ``COMMAND_MODULES`` exposes ``register(app)``; a new group (``serve``, ``keys``) is a new
module added to that tuple, nothing else.
"""

from __future__ import annotations

from types import ModuleType

import typer

from vidgate.cli import emulate, generate, keys, models, serve

app = typer.Typer(
    name="vidgate",
    help="One OpenAI-style Videos API over every video-generation provider.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[ModuleType, ...] = (generate, models, emulate, serve, keys)

for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
