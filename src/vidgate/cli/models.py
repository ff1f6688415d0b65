"""``vidgate models [--provider P] [--active] [--json]``: the catalogue of every installed provider, as a
table or as ``{"data": [...]}``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from vidgate.catalog import ModelSpec
from vidgate.providers.catalogue import active_models, load_catalog
from vidgate.providers.registry import canonical, provider_names


def register(app: typer.Typer) -> None:
    app.command("models")(models)


DEPLOYMENT_PRICED = "set by the deployment"


def _prices(spec: ModelSpec, sep: str = "\n") -> str:
    if spec.deployment_priced:
        return DEPLOYMENT_PRICED  # no catalogue price: each deployment sets output_cost_per_second/_video
    tiers = spec.to_dict()["resolutions"]
    assert isinstance(tiers, list)
    parts = [f"{tier} ${spec.prices[tier]:.2f}" for tier in tiers if tier in spec.prices]
    if spec.output_token_prices:
        parts += [
            f"{tier} ${spec.output_token_prices[tier] * 1_000_000:.2f}/1M output tokens"
            for tier in tiers
            if tier in spec.output_token_prices
        ]
    elif spec.price_per_output_token is not None:
        parts.append(f"${spec.price_per_output_token * 1_000_000:.2f}/1M output tokens")
    parts += [f"+${price:.2f}/input {kind}" for kind, price in sorted(spec.price_per_input.items())]
    if spec.price_per_video:
        parts.append(f"+${spec.price_per_video:.2f}/video")
    return sep.join(parts)


def _lifecycle(spec: ModelSpec) -> str:
    state = spec.lifecycle()
    colour = {"active": "green", "deprecated": "yellow", "retired": "red"}[state]
    text = f"[{colour}]{state}[/]"
    if spec.retires_on is not None and state != "retired":
        text += f" (retires {spec.retires_on})"
    elif spec.retires_on is not None:
        text += f" ({spec.retires_on})"
    if spec.successor is not None and state != "active":
        text += f" -> {spec.successor}"
    return text


def _seconds(spec: ModelSpec) -> str:
    """Comma *and space* separated, so a long list wraps inside its cell instead of being cut short."""
    text = ", ".join(str(s) for s in spec.seconds)
    for tier, allowed in spec.seconds_by_tier.items():
        text += f" ({tier}: {', '.join(str(s) for s in allowed)})"
    return text


def _resolutions(spec: ModelSpec) -> str:
    """The row's tiers; a tier (or a size of a listed tier) only a deployment with its own price serves
    is marked so."""
    tiers = spec.to_dict()["resolutions"]
    assert isinstance(tiers, list)
    served = spec.with_deployment_price().to_dict()["resolutions"]
    assert isinstance(served, list)
    marked = [f"{t} (deployment-priced)" for t in served if t not in tiers]
    marked += [
        f"{size} (deployment-priced)" for size, tier in spec.deployment_priced_sizes.items() if tier in tiers
    ]
    return " ".join([*(str(t) for t in tiers), *marked])


COLUMNS: tuple[tuple[str, bool], ...] = (  # (header, no_wrap)
    ("id", True),
    ("seconds", False),
    ("resolutions", False),
    ("features", False),
    ("$/s by resolution", True),
    ("lifecycle", False),
)


def _features(spec: ModelSpec) -> str:
    """The row's features; those only a deployment with its own price offers are marked so."""
    marked = [f"{f} (deployment-priced)" for f in sorted(spec.deployment_priced_features)]
    return ", ".join([*sorted(spec.features), *marked])


def _row(spec: ModelSpec) -> tuple[str, ...]:
    return (spec.id, _seconds(spec), _resolutions(spec), _features(spec), _prices(spec), _lifecycle(spec))


def _pieces(specs: list[ModelSpec], index: int, words: bool) -> list[str]:
    header = COLUMNS[index][0]
    cells = [header, *(Text.from_markup(_row(spec)[index]).plain for spec in specs)]
    return [p for cell in cells for p in (cell.split() if words else cell.splitlines())]


def column_widths(specs: list[ModelSpec], width: int) -> list[int] | None:
    """Each column's width in a table ``width`` cells wide, or None when the table cannot fit.

    A wrapping column never gets less than its longest word (so nothing is cut off with an ellipsis)
    nor more than its longest line; the room between goes to the columns in proportion to what they lack.
    """
    natural = [max(cell_len(p) for p in _pieces(specs, i, words=False)) for i in range(len(COLUMNS))]
    least = [
        natural[i] if no_wrap else max(cell_len(p) for p in _pieces(specs, i, words=True))
        for i, (_, no_wrap) in enumerate(COLUMNS)
    ]
    room = width - (3 * len(COLUMNS) + 1)  # a border and one space of padding either side of each cell
    if sum(least) > room:
        return None
    if sum(natural) <= room:
        return natural
    spare, lack = room - sum(least), sum(n - m for n, m in zip(natural, least, strict=True))
    widths = [m + (n - m) * spare // lack for n, m in zip(natural, least, strict=True)]
    return widths


def table(specs: list[ModelSpec], widths: list[int] | None = None) -> Table:
    """One row per model. Sizes collapse to resolution tiers here (``--json`` lists every size)."""
    grid = Table(title="vidgate models", show_lines=True)
    for index, (header, no_wrap) in enumerate(COLUMNS):
        grid.add_column(header, no_wrap=no_wrap, width=None if widths is None else widths[index])
    for spec in specs:
        grid.add_row(*_row(spec))
    return grid


def listing(specs: list[ModelSpec]) -> Group:
    """The same facts as ``table``, one block per model, for terminals too narrow for the table."""
    blocks: list[RenderableType] = [Text("vidgate models", style="bold")]
    for spec in specs:
        block = Table.grid(padding=(0, 1))
        block.add_column(no_wrap=True)
        block.add_column()
        block.add_row("  seconds", _seconds(spec))
        block.add_row("  resolutions", _resolutions(spec))
        block.add_row("  $/s", _prices(spec, sep=", "))
        block.add_row("  features", _features(spec))
        block.add_row("  lifecycle", _lifecycle(spec))
        blocks += [Text(""), Text(spec.id, style="bold"), block]
    return Group(*blocks)


def render(specs: list[ModelSpec], console: Console) -> RenderableType:
    """The table when it fits the terminal without cutting a word, else the per-model listing."""
    widths = column_widths(specs, console.width)
    return listing(specs) if widths is None else table(specs, widths)


def models(
    provider: Annotated[str | None, typer.Option(help="Only this provider's models.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only models usable today (not retired).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help='Print JSON: {"data": [...]}.')] = False,
) -> None:
    """List every model of the installed providers: durations, sizes, features, prices and lifecycle."""
    specs = active_models() if active else list(load_catalog())
    if provider is not None:
        name = canonical(provider)
        if name is None:
            typer.echo(
                f"error: unknown provider '{provider}'. Known: {', '.join(provider_names())}.", err=True
            )
            raise typer.Exit(2)
        specs = [s for s in specs if s.provider == name]
    if as_json:
        typer.echo(json.dumps({"object": "list", "data": [s.to_dict() for s in specs]}, indent=2))
        return
    console = Console()
    console.print(render(specs, console))
