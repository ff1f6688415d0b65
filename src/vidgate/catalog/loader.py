"""Parses a provider package's ``models.yaml`` into checked ``ModelSpec`` rows.

The index over every installed provider lives in ``vidgate.providers.catalogue`` (it needs the registry)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NoReturn

import yaml

from vidgate.catalog.spec import FEATURES, ModelSpec


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


REQUIRED_KEYS = frozenset({"id", "seconds", "default_seconds", "sizes", "default_size"})
INPUT_KINDS = frozenset({"image", "video"})
OPTIONAL_KEYS = frozenset(
    {
        "aliases",
        "features",
        "seconds_by_tier",
        "prices_no_audio",
        "prices_with_video",
        "person_generation",
        "max_n",
        "max_reference_images",
        "max_reference_videos",
        "max_reference_video_seconds",
        "seconds_with_references",
        "extend_seconds",
        "send_resolution",
        "deprecated_on",
        "retires_on",
        "successor",
        "prices",
        "price_per_output_token",
        "output_tokens_per_second",
        "price_per_output_token_with_video",
        "price_per_input",
        "price_per_video",
        "priced_by",
        "features_priced_by_deployment",
        "sizes_priced_by_deployment",
    }
)
# What a ``priced_by: deployment`` row must leave out: its price is each deployment's.
PRICE_KEYS = (
    "prices",
    "prices_no_audio",
    "prices_with_video",
    "price_per_output_token",
    "output_tokens_per_second",
    "price_per_output_token_with_video",
    "price_per_input",
    "price_per_video",
)
PRICED_BY = ("catalogue", "deployment")
# Features whose requests carry an input video (the ones ``prices_with_video`` can apply to).
VIDEO_FEATURES = frozenset({"reference_videos", "edit", "extend"})


def _prices(raw: dict[str, Any] | None) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (raw or {}).items()}


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _tier_map(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _tier_map_of(row: dict[str, Any], key: str, model_id: str) -> dict[str, Any] | None:
    """``row[key]`` when it is a ``{tier: USD}`` map (or absent); anything else is refused by name."""
    value = row.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"catalogue row {model_id}: {key} must be a {{tier: USD per second}} map")
    return value


def _token_price(value: Any) -> Decimal | None:
    """A row's per-token price: one number, or the highest of a tier map (the per-tier prices are
    ``output_token_prices``)."""
    if isinstance(value, dict):
        return max(_prices(value).values(), default=None)
    return _decimal(value)


def _with_video(row: dict[str, Any]) -> dict[str, Decimal]:
    """``price_per_output_token_with_video`` by tier: one number applies to every tier of the row."""
    value = row.get("price_per_output_token_with_video")
    if value is None or isinstance(value, dict):
        return _prices(value)
    return {str(tier): Decimal(str(value)) for tier in row["sizes"].values()}


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
    if spec.deployment_priced_features:
        _check(spec.with_deployment_price())  # the rules that read features hold when they are offered
    return spec


def _deployment_sizes(row: dict[str, Any], model_id: str) -> dict[str, str]:
    """``sizes_priced_by_deployment``: a ``{size: tier}`` map like ``sizes``, of sizes no catalogue price
    covers. The row's other rules read its catalogue sizes only: a deployment's own price replaces the
    per-second and token prices whose tiers they check (``gateway.config``)."""
    raw = row.get("sizes_priced_by_deployment", {})
    if not isinstance(raw, dict) or not raw:
        raise ValueError(
            f"catalogue row {model_id}: sizes_priced_by_deployment must be a non-empty {{size: tier}} map"
        )
    if row.get("priced_by") == "deployment":
        raise ValueError(
            f"catalogue row {model_id}: a priced_by: deployment row lists all its sizes under sizes"
        )
    sizes = {str(k): str(v) for k, v in raw.items()}
    repeated = sorted(set(sizes) & {str(k) for k in row["sizes"]})
    if repeated:
        raise ValueError(
            f"catalogue row {model_id}: sizes_priced_by_deployment repeats sizes the row always offers "
            f"{repeated}"
        )
    return sizes


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
    deployment_features = frozenset(str(f) for f in row.get("features_priced_by_deployment", []))
    unknown = (features | deployment_features) - FEATURES
    if unknown:
        raise ValueError(f"catalogue row {model_id}: unknown features {sorted(unknown)}")
    priced_by = row.get("priced_by", "catalogue")
    if priced_by not in PRICED_BY:
        raise ValueError(
            f"catalogue row {model_id}: priced_by must be 'catalogue' or 'deployment', got {priced_by!r}"
        )
    if priced_by == "deployment":
        stated = [key for key in PRICE_KEYS if key in row]
        if stated:
            raise ValueError(
                f"catalogue row {model_id}: a priced_by: deployment row carries no catalogue price "
                f"(each deployment sets its own); remove {stated}"
            )
    return ModelSpec(
        id=model_id,
        provider=provider,
        model=model,
        seconds=tuple(int(s) for s in row["seconds"]),
        default_seconds=int(row["default_seconds"]),
        sizes={str(k): str(v) for k, v in row["sizes"].items()},
        default_size=str(row["default_size"]),
        prices=_prices(row.get("prices")),
        features=features,
        seconds_by_tier={str(k): tuple(int(s) for s in v) for k, v in row.get("seconds_by_tier", {}).items()},
        prices_no_audio=_prices(row.get("prices_no_audio")),
        prices_with_video=_prices(_tier_map_of(row, "prices_with_video", model_id)),
        person_generation=tuple(str(p) for p in row.get("person_generation", [])),
        max_n=int(row.get("max_n", 1)),
        max_reference_images=int(row.get("max_reference_images", 3)),
        max_reference_videos=int(row.get("max_reference_videos", 3)),
        max_reference_video_seconds=int(row.get("max_reference_video_seconds", 0)),
        seconds_with_references=tuple(int(s) for s in row.get("seconds_with_references", [])),
        extend_seconds=tuple(int(s) for s in row.get("extend_seconds", [])),
        send_resolution=bool(row.get("send_resolution", True)),
        aliases=tuple(str(a) for a in row.get("aliases", [])),
        deprecated_on=_date(row.get("deprecated_on")),
        retires_on=_date(row.get("retires_on")),
        successor=str(row["successor"]) if row.get("successor") else None,
        price_per_output_token=_token_price(row.get("price_per_output_token")),
        output_token_prices=_prices(_tier_map(row.get("price_per_output_token"))),
        output_token_prices_with_video=_with_video(row),
        output_tokens_per_second={
            str(k): int(v) for k, v in (row.get("output_tokens_per_second") or {}).items()
        },
        price_per_input=_prices(row.get("price_per_input")),
        price_per_video=_decimal(row.get("price_per_video")) or Decimal(0),
        priced_by="deployment" if priced_by == "deployment" else "catalogue",
        deployment_priced_features=deployment_features,
        deployment_priced_sizes=_deployment_sizes(row, model_id)
        if "sizes_priced_by_deployment" in row
        else {},
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
    tokens = spec.price_per_output_token is not None
    if tokens and tiers - set(spec.output_tokens_per_second):
        fail(f"per-token price needs output_tokens_per_second for tiers {sorted(tiers)} (the reservation)")
    if set(spec.output_tokens_per_second) - tiers:
        fail("output_tokens_per_second names tiers no size has")
    unpriced = tiers - set(spec.output_token_prices)
    if spec.output_token_prices and unpriced:
        fail(f"price_per_output_token by tier has no price for {sorted(unpriced)}")
    if set(spec.output_token_prices) - tiers:
        fail("price_per_output_token names tiers no size has")
    if spec.prices and tiers - set(spec.prices):
        fail(f"no price for tiers {sorted(tiers - set(spec.prices))}")
    if not spec.prices and not tokens and not spec.price_per_video and not spec.deployment_priced:
        fail(
            "no price: give prices (per second), price_per_output_token or price_per_video, or state "
            "priced_by: deployment (every deployment must then set its own price)"
        )
    if spec.deployment_priced_features & spec.features:
        fail(
            "features_priced_by_deployment repeats features the row always offers "
            f"{sorted(spec.deployment_priced_features & spec.features)}"
        )
    if spec.deployment_priced_features and spec.deployment_priced:
        fail("a priced_by: deployment row lists all its features under features")
    if set(spec.price_per_input) - INPUT_KINDS:
        fail(f"price_per_input kinds must be among {sorted(INPUT_KINDS)}")
    if any(
        p < 0
        for p in (
            *spec.price_per_input.values(),
            spec.price_per_video,
            spec.price_per_output_token or Decimal(0),
            *spec.output_token_prices.values(),
        )
    ):
        fail("prices must not be negative")
    if spec.successor is not None and spec.successor == spec.id:
        fail("successor must be another model")
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
    if spec.max_reference_images < 1:
        fail("max_reference_images must be at least 1")
    if spec.max_reference_videos < 1:
        fail("max_reference_videos must be at least 1")
    if spec.max_reference_video_seconds < 0:
        fail("max_reference_video_seconds must not be negative")
    if spec.prices_with_video:
        if not spec.prices or not spec.features & VIDEO_FEATURES:
            fail(
                "prices_with_video needs prices (per second) and a feature that takes a video "
                f"{sorted(VIDEO_FEATURES)} (not under features_priced_by_deployment)"
            )
        if set(spec.prices_with_video) != tiers:
            fail(f"prices_with_video must price exactly the tiers {sorted(tiers)}")
        if any(p < 0 for p in spec.prices_with_video.values()):
            fail("prices must not be negative")
    if spec.output_token_prices_with_video:
        if not tokens or not spec.has("reference_videos"):
            fail("price_per_output_token_with_video needs price_per_output_token and reference_videos")
        if set(spec.output_token_prices_with_video) != tiers:
            fail(f"price_per_output_token_with_video must price exactly the tiers {sorted(tiers)}")
        if any(p < 0 for p in spec.output_token_prices_with_video.values()):
            fail("prices must not be negative")
    if set(spec.seconds_with_references) - set(spec.seconds):
        fail("seconds_with_references must be a subset of seconds")
    if spec.extend_seconds and not spec.has("extend"):
        fail("extend_seconds needs the extend feature")
    if spec.has("reframe") and not spec.has("edit"):
        fail("the reframe feature needs the edit feature")
    if any(s < 1 for s in spec.extend_seconds):
        fail("extend_seconds must be whole seconds >= 1")
    if spec.seconds_with_references and not spec.has("reference_images"):
        fail("seconds_with_references needs the reference_images feature")
    if any(not alias.startswith(f"{spec.provider}/") or alias == spec.id for alias in spec.aliases):
        fail(f"aliases must be other '{spec.provider}/...' ids")
    if spec.deprecated_on and spec.retires_on and spec.deprecated_on > spec.retires_on:
        fail("deprecated_on is after retires_on")
    if spec.default_size not in spec.sizes:
        fail("default_size not among sizes")
    if spec.default_seconds not in spec.allowed_seconds(spec.default_size):
        fail("default_seconds not allowed at default_size")


def open_row(
    template: dict[str, Any],
    model_id: str,
    *,
    per_second: Decimal | None = None,
    per_video: Decimal | None = None,
) -> ModelSpec:
    """A row for a model the catalogue does not list, on a provider with an open model namespace: the
    package's ``open_model`` template (durations, sizes, features; no id, no price) with the deployment's
    price, per second (every tier alike) and/or per video."""
    if per_second is None and per_video is None:
        raise ValueError(f"catalogue row {model_id}: an unlisted model needs a deployment price")
    priced = {"prices", "prices_with_video", "price_per_video", "price_per_output_token"}
    if "id" in template or priced & set(template):
        raise ValueError("open_model: the template has no id and no price (the deployment sets it)")
    row: dict[str, Any] = {**template, "id": model_id}
    if per_second is not None:
        row["prices"] = {tier: str(per_second) for tier in set(template.get("sizes", {}).values())}
    if per_video is not None:
        row["price_per_video"] = str(per_video)
    return parse_row(row)


def parse_catalogue(text: str) -> tuple[ModelSpec, ...]:
    """A ``models.yaml`` (``models:`` list of rows; other top-level keys hold YAML anchors) -> rows."""
    data = yaml.safe_load(text) or {}
    rows = data.get("models") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError("models.yaml: expected a top-level 'models:' list")
    return tuple(parse_row(row) for row in rows)
