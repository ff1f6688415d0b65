"""Estimates equal the published prices written in ``tests/catalog/prices/`` (never the catalogue's own
numbers read back); money in exact micro-USD."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.catalog.prices import PRICES

from vidgate.catalog import ModelSpec, Usage, actual_cost, estimate_cost, from_micros, to_micros
from vidgate.catalog.pricing import token_bound
from vidgate.errors import BadRequestError
from vidgate.providers.catalogue import find_model, load_catalog


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None, model_id
    return found


# The rows no source prices: each deployment sets their price (``priced_by: deployment``).
DEPLOYMENT_PRICED = {
    "kling/kling-v3-0-turbo",
    "volcengine/doubao-seedance-2-0-fast-260128",
    "volcengine/doubao-seedance-2-0-mini-260615",
}


def test_every_catalogue_model_and_size_has_a_published_price() -> None:
    """A new model or size in the catalogue needs its published price written in tests/catalog/prices/,
    or to be one of the deployment-priced rows listed here."""
    catalogue = {model.id: set(model.sizes) for model in load_catalog() if not model.deployment_priced}
    published = {model_id: set(row.per_second) for model_id, row in PRICES.items()}
    assert catalogue == published
    assert {model.id for model in load_catalog() if model.deployment_priced} == DEPLOYMENT_PRICED


@pytest.mark.parametrize("model_id", sorted(DEPLOYMENT_PRICED))
def test_a_deployment_priced_row_costs_only_the_deployments_price(model_id: str) -> None:
    """No catalogue price leaks in: $0.07/s x 6 s = $0.42, or a flat $1.25 per video."""
    model = spec(model_id)
    size = model.default_size
    assert estimate_cost(model, seconds=6, size=size, price_override=Decimal("0.07")) == Decimal("0.42")
    assert actual_cost(model, seconds=6, size=size, videos=1, price_override=Decimal("0.07")) == Decimal(
        "0.42"
    )
    assert estimate_cost(model, seconds=6, size=size, n=1) == 0  # unpriced: the config refuses it unserved


@pytest.mark.parametrize("model_id", sorted(PRICES))
def test_estimates_equal_the_published_price(model_id: str) -> None:
    """For every size, the shortest and longest duration, audio on, off and unsaid, one and two videos."""
    row = PRICES[model_id]
    model = spec(model_id)
    for size in model.sizes:
        allowed = model.allowed_seconds(size)
        for seconds in {min(allowed), max(allowed)}:
            for audio in (True, False, None):
                rate = row.rate(size, audio=audio is not False)
                expected = rate * seconds
                got = estimate_cost(model, seconds=seconds, size=size, generate_audio=audio)
                assert got == expected, (model_id, size, seconds, audio, row.source)
                assert (
                    estimate_cost(model, seconds=seconds, size=size, n=2, generate_audio=audio)
                    == 2 * expected
                )


@pytest.mark.parametrize("model_id", sorted(k for k, row in PRICES.items() if row.with_video))
def test_estimates_with_an_input_video_equal_the_published_with_video_price(model_id: str) -> None:
    """For every size, the shortest and longest duration, audio off and unsaid, one video input or two."""
    row = PRICES[model_id]
    model = spec(model_id)
    for size in model.sizes:
        for seconds in {min(model.allowed_seconds(size)), max(model.allowed_seconds(size))}:
            for audio, videos in ((False, 1), (None, 2)):
                expected = row.with_video[size] * seconds
                got = estimate_cost(
                    model, seconds=seconds, size=size, generate_audio=audio, inputs={"video": videos}
                )
                assert got == expected, (model_id, size, seconds, audio, row.source)


def test_kling_omni_with_a_reference_video_is_charged_its_with_video_rate() -> None:
    """Video-3O with a video input (secondary): $0.126/s std, $0.168/s pro, $0.42/s 4k."""
    omni = spec("kling/kling-v3-omni")
    video = {"video": 1}
    assert estimate_cost(omni, seconds=5, size="1280x720", inputs=video) == Decimal("0.63")
    assert to_micros(estimate_cost(omni, seconds=5, size="1280x720", inputs=video)) == 630_000
    assert estimate_cost(omni, seconds=5, size="1920x1080", inputs=video) == Decimal("0.84")
    assert estimate_cost(omni, seconds=5, size="3840x2160", inputs=video) == Decimal("2.1")
    assert estimate_cost(omni, seconds=10, size="720x1280", generate_audio=False, inputs=video) == Decimal(
        "1.26"
    )
    assert actual_cost(omni, seconds=5, size="1280x720", videos=1, inputs=video) == Decimal("0.63")
    # Without a video: $0.112/s with audio, $0.084/s without; an image alone changes nothing.
    assert estimate_cost(omni, seconds=5, size="1280x720", inputs={"image": 1}) == Decimal("0.56")
    assert estimate_cost(omni, seconds=5, size="1280x720", generate_audio=False) == Decimal("0.42")
    # A deployment's own rate wins, video or not: 5 s x $0.20.
    own = estimate_cost(omni, seconds=5, size="1280x720", inputs=video, price_override=Decimal("0.2"))
    assert own == Decimal("1.0")


def test_published_rates() -> None:
    """A few rates from the reference price table, so a data typo cannot pass unnoticed."""
    assert estimate_cost(spec("openai/sora-2"), seconds=8, size="1280x720") == Decimal("0.80")
    assert estimate_cost(spec("openai/sora-2-pro"), seconds=4, size="1792x1024") == Decimal("2.00")
    assert estimate_cost(spec("openai/sora-2-pro"), seconds=4, size="1920x1080") == Decimal("2.80")
    assert estimate_cost(spec("gemini/veo-3.1-generate-preview"), seconds=8, size="3840x2160") == Decimal(
        "4.8"
    )
    assert estimate_cost(spec("gemini/veo-3.1-lite-generate-preview"), seconds=4, size="720x1280") == Decimal(
        "0.2"
    )
    vertex = spec("vertex_ai/veo-3.1-generate-001")
    assert estimate_cost(vertex, seconds=8, size="1920x1080", generate_audio=False) == Decimal("1.6")
    assert estimate_cost(vertex, seconds=8, size="1920x1080") == Decimal("3.2")


def test_gemini_has_no_audio_toggle_so_audio_off_changes_nothing() -> None:
    model = spec("gemini/veo-3.0-generate-001")
    assert estimate_cost(model, seconds=8, size="1280x720", generate_audio=False) == Decimal("3.2")


def test_n_multiplies() -> None:
    model = spec("vertex_ai/veo-3.0-fast-generate-001")
    one = estimate_cost(model, seconds=6, size="1920x1080")
    assert one == Decimal("0.72")
    assert estimate_cost(model, seconds=6, size="1920x1080", n=4) == one * 4 == Decimal("2.88")


def test_price_override_replaces_the_catalogue_rate() -> None:
    local = spec("local/local-1")
    assert estimate_cost(local, seconds=4, size="1280x720") == 0
    assert estimate_cost(local, seconds=4, size="1280x720", price_override=Decimal("0.025")) == Decimal("0.1")
    sora = spec("openai/sora-2")
    assert estimate_cost(sora, seconds=8, size="720x1280", n=2, price_override=Decimal("0.05")) == Decimal(
        "0.8"
    )
    vertex = spec("vertex_ai/veo-3.1-generate-001")
    overridden = estimate_cost(
        vertex, seconds=8, size="1280x720", generate_audio=False, price_override=Decimal("1")
    )
    assert overridden == Decimal("8")


def test_fractional_seconds_are_priced_exactly() -> None:
    assert estimate_cost(spec("openai/sora-2"), seconds=0.1, size="1280x720") == Decimal("0.01")
    assert estimate_cost(spec("openai/sora-2"), seconds=2.5, size="1280x720") == Decimal("0.25")


def test_estimate_is_rounded_to_whole_micro_dollars() -> None:
    cost = estimate_cost(
        spec("openai/sora-2"), seconds=4, size="1280x720", price_override=Decimal("0.0000003")
    )
    assert cost == Decimal("0.000001")
    assert cost.as_tuple().exponent == -6


def test_unknown_size_is_a_bad_request_naming_the_sizes() -> None:
    with pytest.raises(BadRequestError) as caught:
        estimate_cost(spec("openai/sora-2"), seconds=4, size="1920x1080")
    assert caught.value.param == "size"
    assert "'720x1280' and '1280x720'" in caught.value.message


def test_micros_are_exact() -> None:
    assert to_micros(Decimal("0.10") * 8) == 800_000
    assert to_micros(estimate_cost(spec("openai/sora-2"), seconds=8, size="1280x720")) == 800_000
    assert to_micros(Decimal("0.35") * 7) == 2_450_000
    assert to_micros(Decimal("0")) == 0
    assert to_micros(Decimal("0.0000005")) == 1  # half a micro rounds up
    assert to_micros(Decimal("0.0000004")) == 0
    assert from_micros(800_000) == 0.8
    assert from_micros(1) == 0.000001
    assert from_micros(0) == 0.0


def test_many_micro_additions_do_not_drift() -> None:
    """Ten thousand $0.10 one-second jobs are exactly $1000 in micros, where float addition drifts."""
    one = to_micros(estimate_cost(spec("openai/sora-2"), seconds=1, size="1280x720"))
    total = sum(one for _ in range(10_000))
    assert total == 1_000_000_000
    assert from_micros(total) == 1000.0
    drifted = sum(0.10 for _ in range(10_000))
    assert drifted != 1000.0  # what integer micros protect against


def test_reservation_and_settlement_round_trip_through_micros() -> None:
    """Each reservation is exact, so releasing what was reserved returns the balance to zero exactly."""
    model = spec("gemini/veo-3.1-fast-generate-preview")
    reservations = [
        to_micros(estimate_cost(model, seconds=s, size=size))
        for s in (4, 6, 8)
        for size in ("1280x720", "720x1280")
    ]
    balance = 0
    for micros in reservations:
        balance += micros
    assert balance == to_micros(Decimal("0.10") * (4 + 6 + 8) * 2)
    for micros in reversed(reservations):
        balance -= micros
    assert balance == 0


# ---- the declared pricing kinds: per token, per input, per video -----------------------------------


def mixed_row(**changes: object) -> ModelSpec:
    from vidgate.catalog import parse_row

    row: dict[str, object] = {
        "id": "test/mixed",
        "seconds": [2, 4],
        "default_seconds": 4,
        "sizes": {"640x360": "360p", "1280x720": "720p"},
        "default_size": "640x360",
        "prices": {"360p": 0.05, "720p": 0.10},
        "price_per_input": {"image": 0.02, "video": 0.25},
        "price_per_video": 0.01,
        **changes,
    }
    return parse_row(row)


def test_per_second_input_and_flat_prices_add_up() -> None:
    row = mixed_row()
    # 2 videos x (4 s x $0.10 + $0.01) + 3 images x $0.02 + 1 video input x $0.25 = $1.13
    usd = estimate_cost(row, seconds=4, size="1280x720", n=2, inputs={"image": 3, "video": 1})
    assert usd == Decimal("1.13")
    # One of the two videos generated: the inputs are still charged once.
    assert actual_cost(row, seconds=4, size="1280x720", videos=1, inputs={"image": 3, "video": 1}) == Decimal(
        "0.72"
    )


def test_token_priced_row_reserves_the_bound_and_settles_the_reported_tokens() -> None:
    row = mixed_row(
        prices=None,
        price_per_input=None,
        price_per_video=None,
        price_per_output_token=0.0000175,
        output_tokens_per_second={"360p": 2000, "720p": 6000},
    )
    assert token_bound(row, seconds=4, size="1280x720", n=1) == 24_000
    # Reserved: 24,000 tokens x $0.0000175 = $0.42.
    assert estimate_cost(row, seconds=4, size="1280x720") == Decimal("0.42")
    # Reported 10,000 tokens: $0.175.
    assert actual_cost(row, seconds=4, size="1280x720", videos=1, usage=Usage(output_tokens=10_000)) == (
        Decimal("0.175")
    )
    # Nothing reported: the bound is charged; more than the bound reported: capped at what was reserved.
    assert actual_cost(row, seconds=4, size="1280x720", videos=1) == Decimal("0.42")
    assert actual_cost(
        row, seconds=4, size="1280x720", videos=1, usage=Usage(output_tokens=99_999)
    ) == Decimal("0.42")


def test_a_tier_map_of_token_prices_prices_each_tier_at_its_own_rate() -> None:
    row = mixed_row(
        prices=None,
        price_per_input=None,
        price_per_video=None,
        price_per_output_token={"360p": 0.000007, "720p": 0.0000077},
        output_tokens_per_second={"360p": 2000, "720p": 6000},
    )
    # 360p, 4 s: 8,000 tokens x $7/1M = $0.056; 720p, 4 s: 24,000 tokens x $7.70/1M = $0.1848.
    assert estimate_cost(row, seconds=4, size="640x360") == Decimal("0.056")
    assert estimate_cost(row, seconds=4, size="1280x720") == Decimal("0.1848")
    # Reported 10,000 tokens at 720p: $0.077.
    assert actual_cost(row, seconds=4, size="1280x720", videos=1, usage=Usage(output_tokens=10_000)) == (
        Decimal("0.077")
    )


def test_a_request_with_an_input_video_is_priced_at_the_with_video_rate_per_second() -> None:
    """The with-video rate replaces the per-second rate (audio or not); surcharges and flat price stay."""
    row = mixed_row(features=["reference_videos"], prices_with_video={"360p": 0.07, "720p": 0.15})
    # 2 videos x (4 s x $0.15 + $0.01) + 1 video input x $0.25 = $1.47; no input: 2 x (4 s x $0.10 + $0.01).
    usd = estimate_cost(row, seconds=4, size="1280x720", n=2, generate_audio=False, inputs={"video": 1})
    assert usd == Decimal("1.47")
    assert estimate_cost(row, seconds=4, size="1280x720", n=2) == Decimal("0.82")
    # One of two videos generated at 360p: 4 s x $0.07 + $0.01 + $0.25 = $0.54.
    assert actual_cost(row, seconds=4, size="640x360", videos=1, inputs={"video": 1}) == Decimal("0.54")
    # A deployment's own rate replaces it: 2 x (4 s x $0.20 + $0.01) + $0.25 = $1.87.
    own = estimate_cost(
        row, seconds=4, size="1280x720", n=2, inputs={"video": 1}, price_override=Decimal("0.2")
    )
    assert own == Decimal("1.87")


def test_a_request_with_an_input_video_is_priced_at_the_with_video_token_rate() -> None:
    """Seedance bills a task with an input video at another token rate and counts the input's seconds
    too: the bound adds the row's max_reference_video_seconds, the rate is the with-video one."""
    row = mixed_row(
        prices=None,
        price_per_input=None,
        price_per_video=None,
        features=["reference_videos"],
        price_per_output_token={"360p": 0.000007, "720p": 0.0000077},
        price_per_output_token_with_video={"360p": 0.0000043, "720p": 0.0000047},
        max_reference_video_seconds=15,
        output_tokens_per_second={"360p": 2000, "720p": 6000},
    )
    assert token_bound(row, seconds=4, size="1280x720", n=1, input_video=True) == 114_000
    # 720p, 4 s + 15 s of input video: 114,000 tokens x $4.70/1M = $0.5358; without a video $0.1848.
    assert estimate_cost(row, seconds=4, size="1280x720", inputs={"video": 1}) == Decimal("0.5358")
    assert estimate_cost(row, seconds=4, size="1280x720", inputs={"image": 1}) == Decimal("0.1848")
    # Reported 50,000 tokens with a video: $0.235.
    assert actual_cost(
        row, seconds=4, size="1280x720", videos=1, inputs={"video": 2}, usage=Usage(output_tokens=50_000)
    ) == Decimal("0.235")


def test_byteplus_with_video_token_rates() -> None:
    """LiteLLM's ModelArk rates with an input video ($4.3/1M to 720p, $4.7/1M at 1080p; fast $3.3, mini
    $2.1), reserved over the output's seconds plus 15 s of input video."""
    seedance = spec("byteplus/dreamina-seedance-2-0-260128")
    # 21,830 tokens/s x 20 s = 436,600 x $4.3/1M = $1.87738 (without a video: 109,150 x $7/1M = $0.76405).
    assert estimate_cost(seedance, seconds=5, size="1280x720", inputs={"video": 1}) == Decimal("1.87738")
    assert estimate_cost(seedance, seconds=5, size="1280x720") == Decimal("0.76405")
    # 49,110 x 19 s = 933,090 x $4.7/1M = $4.385523.
    assert estimate_cost(seedance, seconds=4, size="1920x1080", inputs={"video": 3}) == Decimal("4.385523")
    fast = spec("byteplus/dreamina-seedance-2-0-fast-260128")
    # 10,150 x 19 s = 192,850 x $3.3/1M = $0.636405.
    assert estimate_cost(fast, seconds=4, size="864x496", inputs={"video": 1}) == Decimal("0.636405")
    mini = spec("byteplus/dreamina-seedance-2-0-mini-260615")
    # 21,830 x 30 s = 654,900 x $2.1/1M = $1.37529.
    assert estimate_cost(mini, seconds=15, size="720x1280", inputs={"video": 1}) == Decimal("1.37529")
