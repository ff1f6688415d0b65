"""The model catalogue: every installed provider's ``models.yaml`` rows, indexed by id and alias."""

from __future__ import annotations

import datetime as dt
from functools import cache

from vidgate.catalog import ModelSpec
from vidgate.providers import registry


@cache
def load_catalog() -> tuple[ModelSpec, ...]:
    return tuple(row for spec in registry.specs().values() for row in spec.models)


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
    """The row for ``provider/model`` (or an alias), or None."""
    return _index().get(model_id)


def models_for_provider(provider: str) -> list[ModelSpec]:
    return [s for s in load_catalog() if s.provider == provider]


def active_models(today: dt.date | None = None) -> list[ModelSpec]:
    """Rows usable today (not past retirement; ``catalog.spec.current_date`` by default)."""
    return [s for s in load_catalog() if s.lifecycle(today) != "retired"]


def reset() -> None:
    load_catalog.cache_clear()
    _index.cache_clear()
