"""The declared pricing model of a catalogue row, in exact money.

A row may combine four kinds: per second by resolution tier (with a video-only rate when audio is
off), per output token (settled from the provider's reported usage), per input image or video, and a
flat price per video. ``estimate_cost`` is the upper bound reserved at create; ``actual_cost`` is what
is charged at the terminal state (never more than the estimate; the ledger releases the difference).
Money is counted in integer micro-dollars so that reservations and settlements add up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from vidgate.catalog.spec import ModelSpec

MICROS_PER_USD = 1_000_000
_CENT_MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Usage:
    """What a finished job reports about itself (None: not reported)."""

    output_tokens: int | None = None


def _per_video(
    spec: ModelSpec,
    *,
    seconds: float,
    size: str,
    generate_audio: bool | None,
    price_override: Decimal | None,
) -> Decimal:
    rate = (
        price_override
        if price_override is not None
        else spec.price_per_second(size, generate_audio=generate_audio)
    )
    return rate * Decimal(str(seconds)) + spec.price_per_video


def _inputs(spec: ModelSpec, inputs: Mapping[str, int]) -> Decimal:
    return sum(
        (spec.price_per_input.get(kind, Decimal(0)) * count for kind, count in inputs.items()), Decimal(0)
    )


def token_bound(spec: ModelSpec, *, seconds: float, size: str, n: int) -> int:
    """The most output tokens ``n`` videos of ``seconds`` at ``size`` may bill (0 if not token-priced)."""
    if spec.price_per_output_token is None:
        return 0
    per_second = spec.output_tokens_per_second[spec.tier(size)]
    return int((Decimal(per_second) * Decimal(str(seconds))).to_integral_value(rounding=ROUND_HALF_UP)) * n


def estimate_cost(
    spec: ModelSpec,
    *,
    seconds: float,
    size: str,
    n: int = 1,
    generate_audio: bool | None = None,
    price_override: Decimal | None = None,
    inputs: Mapping[str, int] | None = None,
) -> Decimal:
    """USD upper bound for ``n`` videos of ``seconds`` at ``size`` (``price_override``: a deployment's $/s;
    ``inputs``: counts of input ``image``/``video``)."""
    per_video = _per_video(
        spec, seconds=seconds, size=size, generate_audio=generate_audio, price_override=price_override
    )
    tokens = Decimal(token_bound(spec, seconds=seconds, size=size, n=n))
    total = per_video * n + tokens * spec.token_price(size) + _inputs(spec, inputs or {})
    return total.quantize(_CENT_MICRO, rounding=ROUND_HALF_UP)


def actual_cost(
    spec: ModelSpec,
    *,
    seconds: float,
    size: str,
    videos: int,
    generate_audio: bool | None = None,
    price_override: Decimal | None = None,
    inputs: Mapping[str, int] | None = None,
    usage: Usage | None = None,
) -> Decimal:
    """USD for what was generated: ``videos`` produced, tokens as reported (the bound when a
    token-priced provider reports none). Never more than ``estimate_cost`` for the same request."""
    per_video = _per_video(
        spec, seconds=seconds, size=size, generate_audio=generate_audio, price_override=price_override
    )
    bound = token_bound(spec, seconds=seconds, size=size, n=videos)
    reported = usage.output_tokens if usage is not None else None
    tokens = Decimal(bound if reported is None else min(reported, bound))
    total = per_video * videos + tokens * spec.token_price(size) + _inputs(spec, inputs or {})
    return total.quantize(_CENT_MICRO, rounding=ROUND_HALF_UP)


def to_micros(usd: Decimal) -> int:
    return int((usd * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> float:
    return micros / MICROS_PER_USD
