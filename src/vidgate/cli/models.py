"""``vidgate models [--provider P] [--json]``: the catalogue as a table, or as ``{"data": [...]}``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vidgate.catalog import ModelSpec, load_catalog
from vidgate.providers.registry import ALIASES, provider_names


def register(app: typer.Typer) -> None:
    app.command("models")(models)


def _prices(spec: ModelSpec) -> str:
    tiers = spec.to_dict()["resolutions"]
    assert isinstance(tiers, list)
    return "\n".join(f"{tier} ${spec.prices[tier]:.2f}" for tier in tiers)


def _lifecycle(spec: ModelSpec) -> str:
    state = spec.lifecycle()
    colour = {"active": "green", "deprecated": "yellow", "retired": "red"}[state]
    text = f"[{colour}]{state}[/]"
    if spec.retires_on is not None and state != "retired":
        text += f" (retires {spec.retires_on})"
    elif spec.retires_on is not None:
        text += f" ({spec.retires_on})"
    return text


def _seconds(spec: ModelSpec) -> str:
    text = ",".join(str(s) for s in spec.seconds)
    for tier, allowed in spec.seconds_by_tier.items():
        text += f" ({tier}: {','.join(str(s) for s in allowed)})"
    return text


def table(specs: list[ModelSpec]) -> Table:
    """One row per model. Sizes collapse to resolution tiers here (``--json`` lists every size)."""
    grid = Table(title="vidgate models", show_lines=True)
    grid.add_column("id", no_wrap=True)
    grid.add_column("seconds", min_width=7)
    grid.add_column("resolutions", min_width=11)
    grid.add_column("features", min_width=10, overflow="fold")
    grid.add_column("$/s by resolution", no_wrap=True)
    grid.add_column("lifecycle", min_width=10, overflow="fold")
    for spec in specs:
        tiers = spec.to_dict()["resolutions"]
        assert isinstance(tiers, list)
        grid.add_row(
            spec.id,
            _seconds(spec),
            " ".join(str(t) for t in tiers),
            ", ".join(sorted(spec.features)),
            _prices(spec),
            _lifecycle(spec),
        )
    return grid


def models(
    provider: Annotated[str | None, typer.Option(help="Only this provider's models.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print JSON: {"data": [...]}.')] = False,
) -> None:
    """List every model vidgate knows: durations, sizes, features, prices and lifecycle."""
    specs = list(load_catalog())
    if provider is not None:
        name = ALIASES.get(provider, provider)
        if name not in provider_names():
            typer.echo(
                f"error: unknown provider '{provider}'. Known: {', '.join(provider_names())}.", err=True
            )
            raise typer.Exit(2)
        specs = [s for s in specs if s.provider == name]
    if as_json:
        typer.echo(json.dumps({"object": "list", "data": [s.to_dict() for s in specs]}, indent=2))
        return
    Console().print(table(specs))
