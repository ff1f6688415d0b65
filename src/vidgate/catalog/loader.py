"""Reads ``models.yaml`` once into ``ModelSpec`` rows, indexed by id and alias."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from vidgate.catalog.spec import FEATURES, ModelSpec


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _prices(raw: dict[str, Any] | None) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (raw or {}).items()}


def parse_row(row: dict[str, Any]) -> ModelSpec:
    """One YAML row -> ModelSpec, checking the row is consistent (a bad row fails loudly at load)."""
    model_id = str(row["id"])
    provider, _, model = model_id.partition("/")
    sizes = {str(k): str(v) for k, v in row["sizes"].items()}
    prices = _prices(row.get("prices"))
    features = frozenset(row.get("features", []))
    unknown = features - FEATURES
    if unknown:
        raise ValueError(f"catalogue row {model_id}: unknown features {sorted(unknown)}")
    missing = set(sizes.values()) - set(prices)
    if missing:
        raise ValueError(f"catalogue row {model_id}: no price for tiers {sorted(missing)}")
    spec = ModelSpec(
        id=model_id,
        provider=provider,
        model=model,
        seconds=tuple(int(s) for s in row["seconds"]),
        default_seconds=int(row["default_seconds"]),
        sizes=sizes,
        default_size=str(row["default_size"]),
        prices=prices,
        features=features,
        seconds_by_tier={str(k): tuple(int(s) for s in v) for k, v in row.get("seconds_by_tier", {}).items()},
        prices_no_audio=_prices(row.get("prices_no_audio")),
        person_generation=tuple(row.get("person_generation", [])),
        max_n=int(row.get("max_n", 1)),
        send_resolution=bool(row.get("send_resolution", True)),
        aliases=tuple(row.get("aliases", [])),
        deprecated_on=_date(row.get("deprecated_on")),
        retires_on=_date(row.get("retires_on")),
    )
    if spec.default_size not in spec.sizes:
        raise ValueError(f"catalogue row {model_id}: default_size not among sizes")
    if spec.default_seconds not in spec.allowed_seconds(spec.default_size):
        raise ValueError(f"catalogue row {model_id}: default_seconds not allowed at default_size")
    return spec


@cache
def load_catalog() -> tuple[ModelSpec, ...]:
    text = resources.files("vidgate.catalog").joinpath("models.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return tuple(parse_row(row) for row in data["models"])


@cache
def _index() -> dict[str, ModelSpec]:
    index: dict[str, ModelSpec] = {}
    for spec in load_catalog():
        for key in (spec.id, *spec.aliases):
            if key in index:
                raise ValueError(f"catalogue: duplicate model id or alias {key}")
            index[key] = spec
    return index


def find_model(model_id: str) -> ModelSpec | None:
    """The spec for ``provider/model`` (or an alias), or None."""
    return _index().get(model_id)


def models_for_provider(provider: str) -> list[ModelSpec]:
    return [s for s in load_catalog() if s.provider == provider]
