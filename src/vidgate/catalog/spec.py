"""``ModelSpec``: one catalogue row, typed, with the lifecycle and price lookups that read it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from vidgate.errors import BadRequestError, invalid_value

Lifecycle = Literal["active", "deprecated", "retired"]
# Who sets a row's price: the catalogue (its price fields), or each deployment that serves it
# (``output_cost_per_second`` / ``output_cost_per_video``), for a model whose price no source gives.
PricedBy = Literal["catalogue", "deployment"]
_SIDE = re.compile(r"[1-9][0-9]{0,4}")  # ASCII digits, 1..99999 pixels

FEATURES: frozenset[str] = frozenset(
    {
        "image_input",
        "image_exact_size",
        "last_frame",
        "reference_images",
        "negative_prompt",
        "person_generation",
        "seed",
        "audio",
        "audio_toggle",
        "remix",
        "edit",  # POST /v1/videos/edits: the model changes a source video (task "edit")
        # an edit may take another aspect ratio (``size`` on /v1/videos/edits, needs ``edit``); the output
        # keeps the source's resolution tier (Luma's reframe takes an aspect ratio, no resolution)
        "reframe",
        "extend",  # POST /v1/videos/extensions: the model continues a source video (task "extend")
        "reference_videos",  # reference videos beside the prompt (VideoRequest.reference_videos)
        "list",
        "delete",
    }
)


def current_date() -> dt.date:
    """The date lifecycles are judged on: one place, so that tests can fix the clock."""
    return dt.date.today()


@dataclass(frozen=True)
class ModelSpec:
    """What one model accepts and costs. ``id`` is ``provider/model``.

    Hashable (the dict fields are left out of the hash), so a spec can key a dict or a cache."""

    id: str
    provider: str
    model: str
    seconds: tuple[int, ...]
    default_seconds: int
    sizes: dict[str, str] = field(hash=False)
    default_size: str
    prices: dict[str, Decimal] = field(hash=False)  # USD per second by tier (empty: not per-second)
    features: frozenset[str] = frozenset()
    seconds_by_tier: dict[str, tuple[int, ...]] = field(default_factory=dict, hash=False)
    prices_no_audio: dict[str, Decimal] = field(default_factory=dict, hash=False)
    # USD per second by tier when the request carries an input video (Kling's omni bills a reference
    # video's output seconds at another rate), whatever its audio; empty: the same rate with or without.
    prices_with_video: dict[str, Decimal] = field(default_factory=dict, hash=False)
    person_generation: tuple[str, ...] = ()
    max_n: int = 1
    max_reference_images: int = 3
    max_reference_videos: int = 3  # reference videos one request may carry (``reference_videos`` rows)
    # The most seconds of reference video one request may carry in all (0: no bound stated). A token-priced
    # row bills them too (Seedance counts input video seconds as output tokens), so its reservation adds them.
    max_reference_video_seconds: int = 0
    seconds_with_references: tuple[int, ...] = ()  # durations allowed with reference images (empty: any)
    extend_seconds: tuple[int, ...] = ()  # lengths an extension may add (empty: the row's ``seconds``)
    send_resolution: bool = True
    aliases: tuple[str, ...] = ()
    deprecated_on: dt.date | None = None
    retires_on: dt.date | None = None
    successor: str | None = None  # the catalogue id to use instead once this one retires
    price_per_output_token: Decimal | None = None  # USD per output token, settled from reported usage
    # USD per output token by resolution tier, where the provider charges a tier more per token (the
    # YAML gives ``price_per_output_token`` as a tier map); ``price_per_output_token`` is then the highest.
    output_token_prices: dict[str, Decimal] = field(default_factory=dict, hash=False)
    output_tokens_per_second: dict[str, int] = field(default_factory=dict, hash=False)  # reservation bound
    # USD per output token by tier when the request carries an input video (Seedance bills such a task at
    # another rate); empty: the same rate with or without one.
    output_token_prices_with_video: dict[str, Decimal] = field(default_factory=dict, hash=False)
    price_per_input: dict[str, Decimal] = field(default_factory=dict, hash=False)  # USD per input image/video
    price_per_video: Decimal = Decimal(0)  # flat USD per generated video
    # A model named on a deployment, not in the catalogue (``catalog.open_model``): any well-formed
    # ``WxH`` size / any whole number of seconds up to OPEN_MAX_SECONDS is accepted and sent.
    open_sizes: bool = False
    open_seconds: bool = False
    # "deployment": the row has no catalogue price; a deployment serving it must set its own (config).
    priced_by: PricedBy = "catalogue"
    # Features the catalogue price does not cover (e.g. reference videos the provider bills by their
    # unknown length): offered only by a deployment that sets its own price (``with_deployment_price``).
    deployment_priced_features: frozenset[str] = frozenset()
    # Sizes (size -> tier) the catalogue price does not cover (BytePlus Seedance 2.0's 4k: no token price
    # known): offered, like ``deployment_priced_features``, only by a deployment that sets its own price.
    deployment_priced_sizes: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def deployment_priced(self) -> bool:
        return self.priced_by == "deployment"

    def with_deployment_price(self) -> ModelSpec:
        """The row as a deployment with its own price serves it: its deployment-priced features and
        sizes offered."""
        if not self.deployment_priced_features and not self.deployment_priced_sizes:
            return self
        return replace(
            self,
            features=self.features | self.deployment_priced_features,
            sizes={**self.sizes, **self.deployment_priced_sizes},
            deployment_priced_features=frozenset(),
            deployment_priced_sizes={},
        )

    def has(self, feature: str) -> bool:
        return feature in self.features

    def unpriced_note(self, feature: str) -> str:
        """The end of a 400 for ``feature`` on this row: why, when only a self-priced deployment offers it."""
        if feature not in self.deployment_priced_features:
            return ""
        return (
            f" here: its catalogue price does not cover '{feature}' (only a deployment that sets its own "
            "price, output_cost_per_second or output_cost_per_video, offers it)"
        )

    def unpriced_size(self, param: str, value: str) -> BadRequestError:
        """The 400 for a size (or, ``param="resolution"``, a tier) only a self-priced deployment serves:
        OpenAI's wording, the catalogue-priced values, and why."""
        tiers = sorted(set(self.sizes.values()), key=_tier_order)
        allowed = list(self.sizes) if param == "size" else tiers
        supported = invalid_value(param, value, allowed).message
        return BadRequestError(
            f"{supported} Model '{self.id}' offers {param} '{value}' only on a deployment that sets its own "
            "price (output_cost_per_second or output_cost_per_video): the catalogue price does not cover it.",
            param=param,
            code="invalid_value",
        )

    def may_offer(self, feature: str) -> bool:
        """Whether some deployment of this row offers ``feature`` (outright, or once it sets its own
        price): for an adapter's own check, after the gateway validated the deployment's row."""
        return feature in self.features or feature in self.deployment_priced_features

    def tier(self, size: str) -> str:
        """The resolution tier of ``size``; a size the model lacks is a BadRequestError naming the sizes.

        An open-size model's unlisted size has the tier ``"<shorter side>p"``."""
        if size in self.sizes:
            return self.sizes[size]
        if size in self.deployment_priced_sizes:
            raise self.unpriced_size("size", size)
        if self.open_sizes:
            dims = size.split("x")
            if len(dims) == 2 and all(_SIDE.fullmatch(d) for d in dims):
                return f"{min(int(d) for d in dims)}p"
            raise BadRequestError(
                f"Invalid size '{size[:40]}': expected 'WIDTHxHEIGHT' in pixels (e.g. '1280x720').",
                param="size",
                code="invalid_value",
            )
        raise invalid_value("size", size, list(self.sizes))

    def allowed_seconds(self, size: str | None = None) -> tuple[int, ...]:
        """Durations allowed at ``size`` (Veo 3.1 allows only 8 s at 1080p and 4k)."""
        if size is not None and size in self.sizes:
            return self.seconds_by_tier.get(self.sizes[size], self.seconds)
        return self.seconds

    def price_per_second(
        self, size: str, *, generate_audio: bool | None = None, input_video: bool = False
    ) -> Decimal:
        """USD per second at ``size``; ``input_video``: the request carries a video, which some providers
        bill at another rate (``prices_with_video``, before the audio switch); ``generate_audio=False``
        picks Vertex's video-only rate if any."""
        tier = self.tier(size)
        if not self.prices:
            return Decimal(0)
        if input_video and tier in self.prices_with_video:
            return self.prices_with_video[tier]
        if generate_audio is False and tier in self.prices_no_audio:
            return self.prices_no_audio[tier]
        if self.open_sizes and tier not in self.prices:
            return Decimal(0)  # an open row has no rate of its own (the deployment's applies)
        return self.prices[tier]

    def token_price(self, size: str, *, input_video: bool = False) -> Decimal:
        """USD per output token at ``size`` (0 when the row is not token-priced); ``input_video``: the
        request carries a video, which some providers bill at another rate."""
        if self.price_per_output_token is None:
            return Decimal(0)
        tier = self.tier(size)
        if input_video and tier in self.output_token_prices_with_video:
            return self.output_token_prices_with_video[tier]
        return self.output_token_prices.get(tier, self.price_per_output_token)

    def lifecycle(self, today: dt.date | None = None) -> Lifecycle:
        today = today or current_date()
        if self.retires_on is not None and today >= self.retires_on:
            return "retired"
        if self.deprecated_on is not None and today >= self.deprecated_on:
            return "deprecated"
        return "active"

    def to_dict(self, today: dt.date | None = None) -> dict[str, object]:
        """The JSON shape of ``vidgate models --json`` and the gateway's model details (lifecycle as of
        ``today``, by default the current date)."""
        return {
            "id": self.id,
            "object": "model",
            "provider": self.provider,
            "model": self.model,
            "seconds": list(self.seconds),
            "default_seconds": self.default_seconds,
            "seconds_by_resolution": {k: list(v) for k, v in self.seconds_by_tier.items()},
            "sizes": list(self.sizes),
            "default_size": self.default_size,
            "resolutions": sorted(set(self.sizes.values()), key=_tier_order),
            "features": sorted(self.features),
            "max_videos_per_request": self.max_n,
            "max_reference_images": self.max_reference_images if self.has("reference_images") else 0,
            "max_reference_videos": self.max_reference_videos if self.may_offer("reference_videos") else 0,
            "max_reference_video_seconds": self.max_reference_video_seconds,
            "seconds_with_reference_images": list(self.seconds_with_references),
            "extend_seconds": list(self.extend_seconds or self.seconds) if self.has("extend") else [],
            "person_generation": list(self.person_generation),
            "price_per_second": {k: float(v) for k, v in self.prices.items()},
            "price_per_second_no_audio": {k: float(v) for k, v in self.prices_no_audio.items()},
            "price_per_second_with_video": {k: float(v) for k, v in self.prices_with_video.items()},
            "aliases": list(self.aliases),
            "price_per_output_token": _num(self.price_per_output_token),
            "price_per_output_token_by_resolution": {
                k: float(v) for k, v in self.output_token_prices.items()
            },
            "output_tokens_per_second": dict(self.output_tokens_per_second),
            "price_per_output_token_with_video": {
                k: float(v) for k, v in self.output_token_prices_with_video.items()
            },
            "price_per_input": {k: float(v) for k, v in self.price_per_input.items()},
            # null, not 0, on a deployment-priced row: it has no price until a deployment sets one
            "price_per_video": None if self.deployment_priced else float(self.price_per_video),
            "priced_by": self.priced_by,
            "features_priced_by_deployment": sorted(self.deployment_priced_features),
            "sizes_priced_by_deployment": dict(self.deployment_priced_sizes),
            "successor": self.successor,
            "deprecated_on": self.deprecated_on.isoformat() if self.deprecated_on else None,
            "retires_on": self.retires_on.isoformat() if self.retires_on else None,
            "lifecycle": self.lifecycle(today),
            "open_sizes": self.open_sizes,
            "open_seconds": self.open_seconds,
        }


def _tier_order(tier: str) -> int:
    digits = "".join(ch for ch in tier if ch.isdigit())
    value = int(digits) if digits else 0
    return value * 1000 if tier.endswith("k") else value


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
