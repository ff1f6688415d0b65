"""Cost = seconds x the catalogue's per-second rate for the model and resolution, x videos.

Money is counted in integer micro-dollars so that reservations and settlements add up exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from vidgate.catalog.spec import ModelSpec

MICROS_PER_USD = 1_000_000


def estimate_cost(
    spec: ModelSpec,
    *,
    seconds: float,
    size: str,
    n: int = 1,
    generate_audio: bool | None = None,
    price_override: Decimal | None = None,
) -> Decimal:
    """USD cost of ``n`` videos of ``seconds`` at ``size``; ``price_override`` is a deployment's own $/s."""
    rate = (
        price_override
        if price_override is not None
        else spec.price_per_second(size, generate_audio=generate_audio)
    )
    return (rate * Decimal(str(seconds)) * n).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def to_micros(usd: Decimal) -> int:
    return int((usd * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> float:
    return micros / MICROS_PER_USD
