"""The declared pricing model of a catalogue row, in exact money.

A row may combine four kinds: per second by resolution tier (with a video-only rate when audio is
off, and another rate when the request carries a video), per output token (settled from the provider's
reported usage; another rate, and input video seconds counted too, when the request carries a video),
per input image or video, and a flat price per video. ``estimate_cost`` is the upper bound reserved at
create; ``actual_cost`` is what is charged at the terminal state (never more than the estimate; the
ledger releases the difference).
Money is counted in integer micro-dollars so that reservations and settlements add up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from vidgate.catalog.spec import ModelSpec
from vidgate.types import VideoRequest

MICROS_PER_USD = 1_000_000
_CENT_MICRO = Decimal("0.000001")


MAX_REPORTED_TOKENS = 2**53


@dataclass(frozen=True)
class Usage:
    """What a finished job reports about itself (None: not reported).

    A count that is no count (a bool, a negative, not an int) is not reported, so the job is charged its
    reservation's bound, never less; one past ``MAX_REPORTED_TOKENS`` is that (the charge is capped at
    the bound anyway, and the store's column holds it)."""

    output_tokens: int | None = None

    def __post_init__(self) -> None:
        tokens = self.output_tokens
        read = tokens if type(tokens) is int and tokens >= 0 else None
        object.__setattr__(self, "output_tokens", None if read is None else min(read, MAX_REPORTED_TOKENS))


def _per_video(
    spec: ModelSpec,
    *,
    seconds: float,
    size: str,
    generate_audio: bool | None,
    price_override: Decimal | None,
    input_video: bool,
) -> Decimal:
    rate = (
        price_override
        if price_override is not None
        else spec.price_per_second(size, generate_audio=generate_audio, input_video=input_video)
    )
    return rate * Decimal(str(seconds)) + spec.price_per_video


def _inputs(spec: ModelSpec, inputs: Mapping[str, int]) -> Decimal:
    return sum(
        (spec.price_per_input.get(kind, Decimal(0)) * count for kind, count in inputs.items()), Decimal(0)
    )


def token_bound(spec: ModelSpec, *, seconds: float, size: str, n: int, input_video: bool = False) -> int:
    """The most output tokens ``n`` videos of ``seconds`` at ``size`` may bill (0 if not token-priced).
    With an ``input_video`` the row's ``max_reference_video_seconds`` are added: Seedance bills the input
    video's seconds at the output's size too, and the gateway does not know a URL's length."""
    if spec.price_per_output_token is None:
        return 0
    per_second = spec.output_tokens_per_second[spec.tier(size)]
    billed = Decimal(str(seconds)) + (spec.max_reference_video_seconds if input_video else 0)
    return int((Decimal(per_second) * billed).to_integral_value(rounding=ROUND_HALF_UP)) * n


def has_video(inputs: Mapping[str, int] | None) -> bool:
    """Whether the counted inputs include a video (the rate some rows switch on, per token or second)."""
    return bool(inputs and inputs.get("video", 0) > 0)


def _priced_video(
    spec: ModelSpec,
    seconds: float,
    size: str,
    generate_audio: bool | None,
    price_override: Decimal | None,
    inputs: Mapping[str, int] | None,
) -> tuple[bool, Decimal]:
    """Whether an input video is counted, and the price of one video (estimate and actual alike)."""
    video = has_video(inputs)
    per_video = _per_video(
        spec,
        seconds=seconds,
        size=size,
        generate_audio=generate_audio,
        price_override=price_override,
        input_video=video,
    )
    return video, per_video


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
    video, per_video = _priced_video(spec, seconds, size, generate_audio, price_override, inputs)
    tokens = Decimal(token_bound(spec, seconds=seconds, size=size, n=n, input_video=video))
    total = per_video * n + tokens * spec.token_price(size, input_video=video) + _inputs(spec, inputs or {})
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
    video, per_video = _priced_video(spec, seconds, size, generate_audio, price_override, inputs)
    bound = token_bound(spec, seconds=seconds, size=size, n=videos, input_video=video)
    reported = usage.output_tokens if usage is not None else None
    tokens = Decimal(bound if reported is None else min(reported, bound))
    total = (
        per_video * videos + tokens * spec.token_price(size, input_video=video) + _inputs(spec, inputs or {})
    )
    return total.quantize(_CENT_MICRO, rounding=ROUND_HALF_UP)


def inputs_of(req: VideoRequest) -> dict[str, int]:
    """Input media counted for per-input surcharges (and the token rate some rows charge with a video)."""
    images = (req.input_reference is not None) + (req.last_frame is not None) + len(req.reference_images)
    videos = len(req.reference_videos) + (req.source_video is not None)
    counted = {"image": images, "video": videos}
    return {kind: count for kind, count in counted.items() if count}


def request_estimate(spec: ModelSpec, req: VideoRequest, *, price_override: Decimal | None = None) -> Decimal:
    """``estimate_cost`` for a validated request, its inputs counted: the one reading of a request that
    the gateway reserves and the SDK's direct mode shows, so the two cannot price it differently."""
    return estimate_cost(
        spec,
        seconds=req.seconds,
        size=req.size,
        n=req.n,
        generate_audio=req.generate_audio,
        price_override=price_override,
        inputs=inputs_of(req),
    )


def to_micros(usd: Decimal) -> int:
    return int((usd * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> float:
    return micros / MICROS_PER_USD
