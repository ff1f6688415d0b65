"""What each served model accepts and costs, for ``GET /v1/videos/models`` and ``GET /v1/models``.

One entry per public model name, built from its deployments' catalogue rows and prices (the
deployment's own ``output_cost_per_second`` wins, as it does when a request is priced). The shape is
documented in ARCHITECTURE.md ("Capabilities"); OpenRouter's names (``supported_resolutions``,
``supported_aspect_ratios``, ``supported_sizes``, ``pricing_skus``, ``allowed_passthrough_parameters``)
sit beside vidgate's exact ones. Prices are decimal strings in USD: never floats.

A name served by several deployments whose rows differ is described by the union of what they
accept (a request is sent to a deployment that accepts it) and, per price, the highest (what a
request may cost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from vidgate.catalog.openrouter import resolutions
from vidgate.catalog.ratios import ratio_of, ratios
from vidgate.catalog.spec import ModelSpec
from vidgate.gateway.routing import Deployment

#: Parameters every model takes; the rest depend on the row's features (``_FEATURE_PARAMS``).
BASE_PARAMS = ("prompt", "seconds", "duration", "size", "resolution", "aspect_ratio", "user", "extra_body")
_FEATURE_PARAMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("image_input", ("input_reference", "frame_images")),
    ("last_frame", ("last_frame",)),
    ("reference_images", ("reference_images", "input_references")),
    ("reference_videos", ("input_references",)),  # its video_url items
    ("negative_prompt", ("negative_prompt",)),
    ("person_generation", ("person_generation",)),
    ("seed", ("seed",)),
    ("audio_toggle", ("generate_audio",)),
)


def money(value: Decimal) -> str:
    """An exact USD amount as a plain decimal string (``"0.1"``, never ``1E-1``)."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def parameters(spec: ModelSpec, *, callbacks: bool) -> list[str]:
    out = list(BASE_PARAMS)
    for feature, names in _FEATURE_PARAMS:
        if spec.has(feature):
            out.extend(name for name in names if name not in out)
    if spec.max_n > 1:
        out.append("n")
    if callbacks:
        out.append("callback_url")
    return out


def pricing(dep: Deployment) -> dict[str, Any]:
    """The deployment's prices: per second by tier (its override, else the row's), the audio-off and
    input-video rates, per video, per input and per output token (with an input video too)."""
    spec = dep.spec
    tiers = resolutions(spec)
    per_second = {
        tier: dep.price_per_second if dep.price_per_second is not None else spec.prices[tier]
        for tier in tiers
        if dep.price_per_second is not None or tier in spec.prices
    }
    overridden = dep.price_per_second is not None  # the deployment's one rate, audio or not
    no_audio = {} if overridden else {t: p for t, p in spec.prices_no_audio.items() if t in tiers}
    with_video = {} if overridden else {t: p for t, p in spec.prices_with_video.items() if t in tiers}
    return {
        "currency": "USD",
        "per_second": {tier: money(price) for tier, price in per_second.items()},
        "per_second_no_audio": {tier: money(price) for tier, price in no_audio.items()},
        "per_second_with_video": {tier: money(price) for tier, price in with_video.items()},
        "per_video": money(spec.price_per_video),
        "per_input": {kind: money(price) for kind, price in sorted(spec.price_per_input.items())},
        "per_output_token": _optional(spec.price_per_output_token),  # the highest, when by tier
        "per_output_token_by_resolution": {t: money(p) for t, p in spec.output_token_prices.items()},
        "per_output_token_with_video": {
            t: money(p) for t, p in spec.output_token_prices_with_video.items() if t in tiers
        },
        "output_tokens_per_second": dict(spec.output_tokens_per_second),
    }


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def skus(prices: Mapping[str, Any]) -> dict[str, str]:
    """OpenRouter's ``pricing_skus`` spelling of the same prices."""
    out: dict[str, str] = {}
    for tier, price in prices["per_second"].items():
        out[f"per-video-second-{tier}"] = price
    for tier, price in prices["per_second_no_audio"].items():
        out[f"per-video-second-{tier}-no-audio"] = price
    for tier, price in prices["per_second_with_video"].items():
        out[f"per-video-second-{tier}-with-video"] = price
    if Decimal(prices["per_video"]):
        out["per-video"] = prices["per_video"]
    for kind, price in prices["per_input"].items():
        out[f"per-input-{kind}"] = price
    for tier, price in prices["per_output_token_by_resolution"].items():
        out[f"per-output-token-{tier}"] = price
    if prices["per_output_token"] is not None and not prices["per_output_token_by_resolution"]:
        out["per-output-token"] = prices["per_output_token"]
    out.update(_token_with_video_skus(prices))
    return out


def _token_with_video_skus(prices: Mapping[str, Any]) -> dict[str, str]:
    """The with-video token rate spelled as the plain one is: by tier where the row prices tokens by
    tier (or the with-video rates differ by tier), else one ``per-output-token-with-video``."""
    with_video: Mapping[str, str] = prices["per_output_token_with_video"]
    if prices["per_output_token_by_resolution"] or len(set(with_video.values())) > 1:
        return {f"per-output-token-{tier}-with-video": price for tier, price in with_video.items()}
    one = next(iter(with_video.values()), None)
    return {} if one is None else {"per-output-token-with-video": one}


def describe(
    dep: Deployment, reserved: Mapping[str, str], *, callbacks: bool, today: dt.date | None = None
) -> dict[str, Any]:
    """One deployment's capabilities (the fields besides OpenAI's ``id/object/created/owned_by``)."""
    spec = dep.spec
    prices = pricing(dep)
    return {
        "provider": dep.provider,
        "catalogue_ids": [spec.id],
        "supported_resolutions": resolutions(spec),
        "supported_aspect_ratios": ratios(spec),
        "supported_sizes": list(spec.sizes),
        "supported_durations": list(spec.seconds),
        "sizes": [
            {
                "size": size,
                "resolution": tier,
                "aspect_ratio": ratio_of(size),
                "durations": list(spec.allowed_seconds(size)),
            }
            for size, tier in spec.sizes.items()
        ],
        "default_size": spec.default_size,
        "default_duration": spec.default_seconds,
        "open_sizes": spec.open_sizes,
        "open_durations": spec.open_seconds,
        "features": sorted(spec.features),
        "parameters": parameters(spec, callbacks=callbacks),
        "max_reference_images": spec.max_reference_images if spec.has("reference_images") else 0,
        "max_reference_videos": spec.max_reference_videos if spec.has("reference_videos") else 0,
        "max_videos_per_request": spec.max_n,
        "pricing": prices,
        "pricing_skus": skus(prices),
        "lifecycle": {
            "status": spec.lifecycle(today),
            "deprecated_on": spec.deprecated_on.isoformat() if spec.deprecated_on else None,
            "retires_on": spec.retires_on.isoformat() if spec.retires_on else None,
            "successor": spec.successor,
            "served_after_retirement": dep.allow_retired,
        },
        "allowed_passthrough_parameters": {
            "extra_body": True,
            "refused": sorted(reserved),
        },
    }


def _union(values: Sequence[Sequence[Any]]) -> list[Any]:
    out: list[Any] = []
    for items in values:
        out.extend(item for item in items if item not in out)
    return out


def _highest(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for prices in maps:
        for key, price in prices.items():
            if key not in out or Decimal(price) > Decimal(out[key]):
                out[key] = price
    return out


def merge(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One description of a name served by several deployments (see the module docstring)."""
    if len(entries) == 1:
        return entries[0]
    first = dict(entries[0])
    for key in (
        "catalogue_ids",
        "supported_resolutions",
        "supported_aspect_ratios",
        "supported_sizes",
        "sizes",
        "features",
        "parameters",
    ):
        first[key] = _union([e[key] for e in entries])
    first["supported_durations"] = sorted(set(_union([e["supported_durations"] for e in entries])))
    first["open_sizes"] = any(e["open_sizes"] for e in entries)
    first["open_durations"] = any(e["open_durations"] for e in entries)
    first["max_reference_images"] = max(e["max_reference_images"] for e in entries)
    first["max_reference_videos"] = max(e["max_reference_videos"] for e in entries)
    first["max_videos_per_request"] = max(e["max_videos_per_request"] for e in entries)
    prices = dict(first["pricing"])
    for key in (
        "per_second",
        "per_second_no_audio",
        "per_second_with_video",
        "per_input",
        "per_output_token_by_resolution",
        "per_output_token_with_video",
    ):
        prices[key] = _highest([e["pricing"][key] for e in entries])
    prices["per_video"] = max((e["pricing"]["per_video"] for e in entries), key=Decimal)
    first["pricing"] = prices
    first["pricing_skus"] = _highest([e["pricing_skus"] for e in entries])
    first["allowed_passthrough_parameters"] = {
        "extra_body": True,
        "refused": sorted(set(_union([e["allowed_passthrough_parameters"]["refused"] for e in entries]))),
    }
    return first
