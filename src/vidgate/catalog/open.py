"""Rows for an open model namespace: a model a deployment names that no catalogue row describes.

A provider that serves any model name (``ProviderSpec.open_models``: self-hosted engines, a model
aggregator) gets its row from the deployment: the sizes and durations the operator declares (else any
well-formed value, ``ModelSpec.open_sizes`` / ``open_seconds``), the provider's open features, and the
deployment's own price (a flat ``price_per_video`` here; a per-second rate is the deployment's
``price_per_second`` override). The row is validated like a catalogue row, so a bad declaration fails
at start-up, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from vidgate.catalog.loader import parse_row
from vidgate.catalog.spec import ModelSpec

# What an open row defaults to when the operator declares nothing: the OpenAI Videos API's defaults.
OPEN_DEFAULT_SIZE = "720x1280"
OPEN_DEFAULT_SECONDS = 4


def open_model(
    provider: str,
    model: str,
    *,
    features: Iterable[str] = (),
    sizes: Sequence[str] | None = None,
    seconds: Sequence[int] | None = None,
    default_size: str | None = None,
    default_seconds: int | None = None,
    price_per_video: Decimal | None = None,
) -> ModelSpec:
    """The row of ``provider/model``. ``sizes``/``seconds`` None: open (any value is accepted and
    sent). Raises ValueError naming the problem (an empty list, a default not among the values).
    Its per-second rate is 0: a per-second price is the deployment's ``price_per_second`` override."""
    size_list = [str(s) for s in sizes] if sizes is not None else None
    seconds_list = [int(s) for s in seconds] if seconds is not None else None
    chosen_size = default_size or (size_list[0] if size_list else OPEN_DEFAULT_SIZE)
    chosen_seconds = default_seconds or (seconds_list[0] if seconds_list else OPEN_DEFAULT_SECONDS)
    listed = size_list if size_list is not None else [chosen_size]
    row = {
        "id": f"{provider}/{model}",
        "seconds": seconds_list if seconds_list is not None else [chosen_seconds],
        "default_seconds": chosen_seconds,
        "sizes": {size: _tier(size) for size in listed},
        "default_size": chosen_size,
        "features": sorted(features),
        # no per-second rate of its own: the deployment's rate replaces it (the gateway requires one of
        # the two prices)
        "prices": {tier: 0 for tier in {_tier(size) for size in listed}},
        "price_per_video": str(price_per_video or 0),
    }
    if size_list is not None and not size_list:
        raise ValueError("sizes must not be empty (leave it out to accept any size)")
    if seconds_list is not None and not seconds_list:
        raise ValueError("seconds must not be empty (leave it out to accept any duration)")
    spec = parse_row(row)
    return replace(spec, open_sizes=size_list is None, open_seconds=seconds_list is None)


def _tier(size: str) -> str:
    parts = size.lower().split("x")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 5 for p in parts):
        raise ValueError(f"size '{size}' is not 'WIDTHxHEIGHT' in pixels")
    return f"{min(int(p) for p in parts)}p"
