"""Reads ``models.yaml`` once into ``ModelSpec`` rows, indexed by id and alias."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, NoReturn

import yaml

from vidgate.catalog.spec import FEATURES, ModelSpec


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


REQUIRED_KEYS = frozenset({"id", "seconds", "default_seconds", "sizes", "default_size", "prices"})
OPTIONAL_KEYS = frozenset(
    {
        "aliases",
        "features",
        "seconds_by_tier",
        "prices_no_audio",
        "person_generation",
        "max_n",
        "send_resolution",
        "deprecated_on",
        "retires_on",
    }
)


def _prices(raw: dict[str, Any] | None) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (raw or {}).items()}


def parse_row(row: dict[str, Any]) -> ModelSpec:
    """One YAML row -> ModelSpec, checking the row is consistent (a bad row fails loudly at load)."""
    model_id = str(row.get("id", "<row without id>"))
    try:
        spec = _build(row, model_id)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if str(exc).startswith(f"catalogue row {model_id}:"):
            raise
        raise ValueError(f"catalogue row {model_id}: {type(exc).__name__}: {exc}") from exc
    _check(spec)
    return spec


def _build(row: dict[str, Any], model_id: str) -> ModelSpec:
    missing_keys = REQUIRED_KEYS - set(row)
    if missing_keys:
        raise ValueError(f"catalogue row {model_id}: missing keys {sorted(missing_keys)}")
    unknown_keys = set(row) - REQUIRED_KEYS - OPTIONAL_KEYS
    if unknown_keys:
        raise ValueError(f"catalogue row {model_id}: unknown keys {sorted(unknown_keys)}")
    provider, _, model = model_id.partition("/")
    if not provider or not model:
        raise ValueError(f"catalogue row {model_id}: id must be 'provider/model'")
    features = frozenset(str(f) for f in row.get("features", []))
    unknown = features - FEATURES
    if unknown:
        raise ValueError(f"catalogue row {model_id}: unknown features {sorted(unknown)}")
    return ModelSpec(
        id=model_id,
        provider=provider,
        model=model,
        seconds=tuple(int(s) for s in row["seconds"]),
        default_seconds=int(row["default_seconds"]),
        sizes={str(k): str(v) for k, v in row["sizes"].items()},
        default_size=str(row["default_size"]),
        prices=_prices(row["prices"]),
        features=features,
        seconds_by_tier={str(k): tuple(int(s) for s in v) for k, v in row.get("seconds_by_tier", {}).items()},
        prices_no_audio=_prices(row.get("prices_no_audio")),
        person_generation=tuple(str(p) for p in row.get("person_generation", [])),
        max_n=int(row.get("max_n", 1)),
        send_resolution=bool(row.get("send_resolution", True)),
        aliases=tuple(str(a) for a in row.get("aliases", [])),
        deprecated_on=_date(row.get("deprecated_on")),
        retires_on=_date(row.get("retires_on")),
    )


def _check(spec: ModelSpec) -> None:
    """Every rule a row must keep, so validation and pricing never meet a hole at request time."""

    def fail(reason: str) -> NoReturn:
        raise ValueError(f"catalogue row {spec.id}: {reason}")

    tiers = set(spec.sizes.values())
    if not spec.seconds or any(s <= 0 for s in spec.seconds):
        fail("seconds must be a non-empty list of positive integers")
    if not spec.sizes:
        fail("sizes must not be empty")
    if tiers - set(spec.prices):
        fail(f"no price for tiers {sorted(tiers - set(spec.prices))}")
    if set(spec.prices) - tiers:
        fail(f"prices for tiers no size has {sorted(set(spec.prices) - tiers)}")
    if set(spec.prices_no_audio) - tiers:
        fail(f"prices_no_audio for tiers no size has {sorted(set(spec.prices_no_audio) - tiers)}")
    if any(p < 0 for p in (*spec.prices.values(), *spec.prices_no_audio.values())):
        fail("prices must not be negative")
    for tier, seconds in spec.seconds_by_tier.items():
        if tier not in tiers:
            fail(f"seconds_by_tier names tier {tier!r} that no size has")
        if not seconds or set(seconds) - set(spec.seconds):
            fail(f"seconds_by_tier[{tier!r}] must be a non-empty subset of seconds")
    if spec.has("person_generation") != bool(spec.person_generation):
        fail("the person_generation feature and the person_generation values must come together")
    if spec.max_n < 1:
        fail("max_n must be at least 1")
    if any(not alias.startswith(f"{spec.provider}/") or alias == spec.id for alias in spec.aliases):
        fail(f"aliases must be other '{spec.provider}/...' ids")
    if spec.deprecated_on and spec.retires_on and spec.deprecated_on > spec.retires_on:
        fail("deprecated_on is after retires_on")
    if spec.default_size not in spec.sizes:
        fail("default_size not among sizes")
    if spec.default_seconds not in spec.allowed_seconds(spec.default_size):
        fail("default_seconds not allowed at default_size")


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
