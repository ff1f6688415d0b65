"""The catalogue loads, every row is self-consistent, and a malformed row fails loudly."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from vidgate.catalog import ModelSpec
from vidgate.catalog import spec as catalog_spec
from vidgate.catalog.loader import parse_row
from vidgate.catalog.spec import FEATURES
from vidgate.errors import BadRequestError
from vidgate.providers.catalogue import find_model, load_catalog, models_for_provider
from vidgate.providers.registry import get_provider

BUILTIN = (
    "byteplus",
    "openai",
    "azure",
    "gemini",
    "vertex_ai",
    "local",
    "xai",
    "dashscope",
    "fal",
    "replicate",
    "luma",
    "bfl",
    "kling",
    "minimax",
    "runway",
    "volcengine",
)

ROWS = [pytest.param(spec, id=spec.id) for spec in load_catalog()]

GOOD_ROW: dict[str, Any] = {
    "id": "test/model-1",
    "aliases": ["test/model-1-latest"],
    "seconds": [4, 6, 8],
    "seconds_by_tier": {"1080p": [8]},
    "default_seconds": 8,
    "sizes": {"1280x720": "720p", "1920x1080": "1080p"},
    "default_size": "1280x720",
    "person_generation": ["allow_adult"],
    "features": ["image_input", "person_generation"],
    "prices": {"720p": 0.10, "1080p": 0.12},
    "prices_no_audio": {"720p": 0.05},
    "max_n": 2,
    "deprecated_on": dt.date(2026, 1, 1),
    "retires_on": "2026-02-01",
}


def row(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD_ROW)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_catalogue_has_every_provider() -> None:
    providers = {spec.provider for spec in load_catalog()}
    assert set(BUILTIN) <= providers
    assert [s.id for s in models_for_provider("azure")] == ["azure/sora-2", "azure/sora-2-pro"]
    assert models_for_provider("nobody") == []


@pytest.mark.parametrize("spec", ROWS)
def test_every_row_is_self_consistent(spec: ModelSpec) -> None:
    assert spec.id == f"{spec.provider}/{spec.model}"
    assert spec.provider in BUILTIN
    assert get_provider(spec.provider).name == spec.provider
    assert spec.default_size in spec.sizes
    assert spec.default_seconds in spec.allowed_seconds(spec.default_size)
    tiers = set(spec.sizes.values())
    priced = set(spec.prices) | set(spec.output_tokens_per_second)
    if spec.deployment_priced:  # no catalogue price at all: each deployment sets its own
        assert not priced
        assert not spec.price_per_input
        assert spec.price_per_video == 0
    else:
        assert tiers == priced, "every tier priced (per second or per token), and no price without a size"
    assert set(spec.prices_no_audio) <= tiers
    assert set(spec.seconds_by_tier) <= tiers
    for seconds in spec.seconds_by_tier.values():
        assert set(seconds) <= set(spec.seconds)
    assert spec.features <= FEATURES
    assert spec.has("person_generation") == bool(spec.person_generation)
    assert spec.max_n >= 1
    assert list(spec.seconds) == sorted(set(spec.seconds))
    for size in spec.sizes:
        width, _, height = size.partition("x")
        assert width.isdigit()
        assert height.isdigit()
    for alias in spec.aliases:
        assert alias.startswith(f"{spec.provider}/")
        assert find_model(alias) is spec
    assert find_model(spec.id) is spec
    if spec.deprecated_on and spec.retires_on:
        assert spec.deprecated_on <= spec.retires_on


def test_ids_and_aliases_are_unique() -> None:
    keys = [key for spec in load_catalog() for key in (spec.id, *spec.aliases)]
    assert len(keys) == len(set(keys))


def test_find_model_by_alias_and_unknown() -> None:
    sora = find_model("openai/sora-2-2025-12-08")
    assert sora is not None
    assert sora.id == "openai/sora-2"
    vertex = find_model("vertex_ai/veo-3.1-generate-preview")
    assert vertex is not None
    assert vertex.id == "vertex_ai/veo-3.1-generate-001"
    assert find_model("openai/sora-3") is None
    assert find_model("sora-2") is None


def test_video_only_prices_cover_every_tier_of_an_audio_toggle_row() -> None:
    """A row with an audio switch may lack a video-only price (none published: audio off is charged the
    audio price, e.g. Runway's resold Seedance); one it has covers every tier."""
    for spec in load_catalog():
        if spec.has("audio_toggle"):
            assert not spec.prices_no_audio or set(spec.prices_no_audio) == set(spec.prices), spec.id
        else:
            assert not spec.prices_no_audio, spec.id


def test_good_row_parses() -> None:
    spec = parse_row(row())
    assert spec.id == "test/model-1"
    assert (spec.provider, spec.model) == ("test", "model-1")
    assert spec.seconds == (4, 6, 8)
    assert spec.seconds_by_tier == {"1080p": (8,)}
    assert spec.prices == {"720p": Decimal("0.1"), "1080p": Decimal("0.12")}
    assert spec.prices_no_audio == {"720p": Decimal("0.05")}
    assert spec.features == frozenset({"image_input", "person_generation"})
    assert spec.person_generation == ("allow_adult",)
    assert spec.max_n == 2
    assert spec.send_resolution is True
    assert spec.aliases == ("test/model-1-latest",)
    assert spec.deprecated_on == dt.date(2026, 1, 1)
    assert spec.retires_on == dt.date(2026, 2, 1)


def test_optional_keys_default() -> None:
    spec = parse_row(
        row(
            aliases=None,
            seconds_by_tier=None,
            person_generation=None,
            features=None,
            prices_no_audio=None,
            max_n=None,
            deprecated_on=None,
            retires_on=None,
        )
    )
    assert spec.aliases == ()
    assert spec.features == frozenset()
    assert spec.max_n == 1
    assert spec.seconds_by_tier == {}
    assert spec.deprecated_on is None
    assert spec.retires_on is None
    assert spec.allowed_seconds("1920x1080") == (4, 6, 8)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"prices": {"720p": 0.10}}, "no price for tiers ['1080p']"),
        ({"prices": {"720p": 0.1, "1080p": 0.1, "4k": 0.2}}, "prices for tiers no size has ['4k']"),
        ({"prices_no_audio": {"8k": 0.1}}, "prices_no_audio for tiers no size has ['8k']"),
        ({"prices": {"720p": -0.1, "1080p": 0.1}}, "prices must not be negative"),
        ({"features": ["image_input", "person_generation", "telepathy"]}, "unknown features ['telepathy']"),
        ({"default_size": "640x480"}, "default_size not among sizes"),
        ({"default_seconds": 5}, "default_seconds not allowed at default_size"),
        ({"default_size": "1920x1080", "default_seconds": 4}, "default_seconds not allowed at default_size"),
        ({"seconds_by_tier": {"4k": [8]}}, "seconds_by_tier names tier '4k'"),
        ({"seconds_by_tier": {"1080p": [10]}}, "seconds_by_tier['1080p'] must be a non-empty subset"),
        ({"seconds": []}, "seconds must be a non-empty list"),
        ({"sizes": {}, "prices": {}}, "sizes must not be empty"),
        ({"person_generation": None}, "person_generation feature and the person_generation values"),
        ({"features": ["image_input"]}, "person_generation feature and the person_generation values"),
        ({"max_n": 0}, "max_n must be at least 1"),
        ({"aliases": ["other/model-1"]}, "aliases must be other 'test/...' ids"),
        ({"aliases": ["test/model-1"]}, "aliases must be other 'test/...' ids"),
        ({"deprecated_on": "2027-01-01"}, "deprecated_on is after retires_on"),
        ({"id": "model-1"}, "id must be 'provider/model'"),
        ({"id": "test/"}, "id must be 'provider/model'"),
        ({"prices": None}, "no price: give prices (per second), price_per_output_token or price_per_video"),
        ({"price_per_output_token": 0.00001}, "per-token price needs output_tokens_per_second"),
        (
            {
                "price_per_output_token": {"720p": 0.00001},
                "output_tokens_per_second": {"720p": 1, "1080p": 2},
            },
            "price_per_output_token by tier has no price for ['1080p']",
        ),
        (
            {
                "price_per_output_token": {"720p": 0.1, "1080p": 0.2, "4k": 0.3},
                "output_tokens_per_second": {"720p": 1, "1080p": 2},
            },
            "price_per_output_token names tiers no size has",
        ),
        ({"price_per_input": {"audio": 0.1}}, "price_per_input kinds must be among ['image', 'video']"),
        ({"successor": "test/model-1"}, "successor must be another model"),
        ({"default_seconds": None, "sizes": None}, "missing keys ['default_seconds', 'sizes']"),
        ({"default_second": 8}, "unknown keys ['default_second']"),
        ({"seconds": ["four"]}, "ValueError"),
        ({"retires_on": "next year"}, "ValueError"),
        ({"prices": {"720p": "cheap", "1080p": 0.1}}, "InvalidOperation"),
    ],
)
def test_malformed_row_fails_loudly(changes: dict[str, Any], reason: str) -> None:
    bad = row(**changes)
    with pytest.raises(ValueError, match="catalogue row ") as caught:
        parse_row(bad)
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"catalogue row {bad.get('id')}:")


def test_row_without_id_is_named() -> None:
    with pytest.raises(ValueError, match=r"catalogue row <row without id>: missing keys \['id'\]"):
        parse_row(row(id=None))


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (dt.date(2025, 12, 31), "active"),
        (dt.date(2026, 1, 1), "deprecated"),
        (dt.date(2026, 1, 31), "deprecated"),
        (dt.date(2026, 2, 1), "retired"),
        (dt.date(2030, 1, 1), "retired"),
    ],
)
def test_lifecycle(today: dt.date, state: str) -> None:
    assert parse_row(row()).lifecycle(today) == state


def test_lifecycle_without_dates_is_always_active() -> None:
    spec = parse_row(row(deprecated_on=None, retires_on=None))
    assert spec.lifecycle(dt.date(1990, 1, 1)) == "active"
    assert spec.lifecycle(dt.date(2100, 1, 1)) == "active"


def test_lifecycle_retirement_without_deprecation() -> None:
    spec = parse_row(row(deprecated_on=None))
    assert spec.lifecycle(dt.date(2026, 1, 31)) == "active"
    assert spec.lifecycle(dt.date(2026, 2, 1)) == "retired"


def test_catalogue_lifecycle_dates() -> None:
    sora = find_model("openai/sora-2")
    assert sora is not None
    assert sora.lifecycle(dt.date(2026, 8, 12)) == "active"
    assert sora.lifecycle(dt.date(2026, 8, 13)) == "deprecated"
    assert sora.lifecycle(dt.date(2026, 9, 24)) == "retired"
    vertex = find_model("vertex_ai/veo-3.1-generate-001")
    assert vertex is not None
    # LiteLLM's 2026-11-17 is a data error (Google: released 2025-11-17, no retirement announced).
    assert vertex.lifecycle(dt.date(2026, 12, 6)) == "active"
    assert vertex.retires_on is None
    assert find_model("azure/sora-2").retires_on == dt.date(2026, 9, 15)  # type: ignore[union-attr]
    preview = find_model("gemini/veo-3.1-generate-preview")
    assert preview is not None
    assert preview.lifecycle(dt.date(2026, 10, 22)) == "retired"
    assert preview.successor == "gemini/gemini-omni-1.2-flash"
    assert find_model("vertex_ai/veo-3.0-fast-generate-001").successor == (  # type: ignore[union-attr]
        "vertex_ai/veo-3.1-fast-generate-001"
    )
    local = find_model("local/local-1")
    assert local is not None
    assert local.lifecycle(dt.date(2100, 1, 1)) == "active"


def test_to_dict() -> None:
    data = parse_row(
        row(
            sizes={"3840x2160": "4k", "1920x1080": "1080p", "1280x720": "720p"},
            prices={"720p": 0.10, "1080p": 0.12, "4k": 0.3},
        )
    ).to_dict(today=dt.date(2026, 2, 1))
    assert data == {
        "id": "test/model-1",
        "object": "model",
        "provider": "test",
        "model": "model-1",
        "seconds": [4, 6, 8],
        "default_seconds": 8,
        "seconds_by_resolution": {"1080p": [8]},
        "sizes": ["3840x2160", "1920x1080", "1280x720"],
        "default_size": "1280x720",
        "resolutions": ["720p", "1080p", "4k"],
        "features": ["image_input", "person_generation"],
        "max_videos_per_request": 2,
        "max_reference_images": 0,
        "max_reference_videos": 0,
        "max_reference_video_seconds": 0,
        "seconds_with_reference_images": [],
        "extend_seconds": [],
        "person_generation": ["allow_adult"],
        "price_per_second": {"720p": 0.1, "1080p": 0.12, "4k": 0.3},
        "price_per_output_token": None,
        "price_per_output_token_by_resolution": {},
        "output_tokens_per_second": {},
        "price_per_output_token_with_video": {},
        "price_per_input": {},
        "price_per_video": 0.0,
        "priced_by": "catalogue",
        "features_priced_by_deployment": [],
        "sizes_priced_by_deployment": {},
        "successor": None,
        "price_per_second_no_audio": {"720p": 0.05},
        "price_per_second_with_video": {},
        "aliases": ["test/model-1-latest"],
        "deprecated_on": "2026-01-01",
        "retires_on": "2026-02-01",
        "lifecycle": "retired",
        "open_sizes": False,
        "open_seconds": False,
    }
    json.dumps(data)  # plain JSON types only


@pytest.mark.parametrize(
    ("today", "lifecycle"),
    [
        (dt.date(2025, 12, 31), "active"),
        (dt.date(2026, 1, 1), "deprecated"),
        (dt.date(2026, 1, 31), "deprecated"),
        (dt.date(2026, 2, 1), "retired"),
    ],
)
def test_to_dict_lifecycle_is_what_the_dates_imply(today: dt.date, lifecycle: str) -> None:
    """The fixture row is deprecated on 2026-01-01 and retires on 2026-02-01."""
    assert parse_row(row()).to_dict(today=today)["lifecycle"] == lifecycle


def test_lifecycle_without_a_date_is_judged_on_the_current_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_spec, "current_date", lambda: dt.date(2026, 1, 15))
    assert parse_row(row()).lifecycle() == "deprecated"
    assert parse_row(row()).to_dict()["lifecycle"] == "deprecated"


@pytest.mark.parametrize("spec", ROWS)
def test_every_row_serialises(spec: ModelSpec) -> None:
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["id"] == spec.id
    resolutions = data["resolutions"]
    assert isinstance(resolutions, list)
    assert set(resolutions) == set(spec.sizes.values())


def test_specs_are_hashable_and_compare_by_value() -> None:
    specs = load_catalog()
    assert len(set(specs)) == len(specs)
    assert parse_row(row()) == parse_row(row())
    assert hash(parse_row(row())) == hash(parse_row(row()))
    assert {parse_row(row()): "cached"}[parse_row(row())] == "cached"
    assert parse_row(row()) != parse_row(row(prices={"720p": 0.2, "1080p": 0.12}))


def test_reference_image_rules_are_row_data() -> None:
    veo_like = parse_row(
        row(
            features=["reference_images", "person_generation"],
            seconds_with_references=[8],
            max_reference_images=2,
        )
    )
    assert (veo_like.seconds_with_references, veo_like.max_reference_images) == ((8,), 2)
    assert veo_like.to_dict(today=dt.date(2026, 2, 1))["seconds_with_reference_images"] == [8]
    with pytest.raises(ValueError, match="seconds_with_references must be a subset of seconds"):
        parse_row(row(features=["reference_images", "person_generation"], seconds_with_references=[5]))
    with pytest.raises(ValueError, match="needs the reference_images feature"):
        parse_row(row(seconds_with_references=[8]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"price_per_output_token_with_video": 0.000001},
            "price_per_output_token_with_video needs price_per_output_token and reference_videos",
        ),
        (
            {
                "prices": None,
                "features": ["reference_videos"],
                "person_generation": None,
                "price_per_output_token": 0.00001,
                "price_per_output_token_with_video": {"720p": 0.000001},
                "output_tokens_per_second": {"720p": 1, "1080p": 2},
            },
            "price_per_output_token_with_video must price exactly the tiers",
        ),
        ({"max_reference_videos": 0}, "max_reference_videos must be at least 1"),
        ({"max_reference_video_seconds": -1}, "max_reference_video_seconds must not be negative"),
    ],
)
def test_reference_video_fields_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_row(row(**changes))


def test_a_single_with_video_token_price_applies_to_every_tier() -> None:
    spec = parse_row(
        row(
            prices=None,
            features=["reference_videos"],
            person_generation=None,
            price_per_output_token=0.00001,
            price_per_output_token_with_video=0.000006,
            output_tokens_per_second={"720p": 1, "1080p": 2},
        )
    )
    assert spec.output_token_prices_with_video == {"720p": Decimal("0.000006"), "1080p": Decimal("0.000006")}
    assert spec.token_price("1920x1080", input_video=True) == Decimal("0.000006")
    assert spec.token_price("1920x1080") == Decimal("0.00001")


VIDEO_RATE = {"720p": 0.15, "1080p": 0.2}  # GOOD_ROW's tiers


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prices_with_video": VIDEO_RATE}, r"prices_with_video needs prices \(per second\) and a feature"),
        (  # a with-video rate on a row that offers input videos only at a deployment's own price
            {"prices_with_video": VIDEO_RATE, "features_priced_by_deployment": ["reference_videos"]},
            "prices_with_video needs prices",
        ),
        (
            {
                "prices": None,
                "price_per_video": 0.5,
                "features": ["edit", "person_generation"],
                "prices_with_video": VIDEO_RATE,
            },
            "prices_with_video needs prices",
        ),
        (
            {"features": ["reference_videos", "person_generation"], "prices_with_video": {"720p": 0.15}},
            r"prices_with_video must price exactly the tiers \['1080p', '720p'\]",
        ),
        (
            {"features": ["extend", "person_generation"], "prices_with_video": {**VIDEO_RATE, "4k": 0.3}},
            "prices_with_video must price exactly the tiers",
        ),
        (
            {
                "features": ["reference_videos", "person_generation"],
                "prices_with_video": {**VIDEO_RATE, "720p": -1},
            },
            "prices must not be negative",
        ),
        (
            {"features": ["reference_videos", "person_generation"], "prices_with_video": 0.15},
            "prices_with_video must be a {tier: USD per second} map",
        ),
        (
            {
                "prices": None,
                "prices_no_audio": None,
                "priced_by": "deployment",
                "prices_with_video": VIDEO_RATE,
            },
            r"remove \['prices_with_video'\]",
        ),
    ],
)
def test_the_with_video_rate_is_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_row(row(**changes))


def test_the_with_video_rate_is_per_second_by_tier_whatever_the_audio() -> None:
    spec = parse_row(row(features=["reference_videos", "person_generation"], prices_with_video=VIDEO_RATE))
    assert spec.prices_with_video == {"720p": Decimal("0.15"), "1080p": Decimal("0.2")}
    assert spec.price_per_second("1280x720", input_video=True) == Decimal("0.15")
    assert spec.price_per_second("1280x720", generate_audio=False, input_video=True) == Decimal("0.15")
    assert spec.price_per_second("1280x720", generate_audio=False) == Decimal("0.05")
    assert spec.price_per_second("1920x1080") == Decimal("0.12")
    assert spec.to_dict(today=dt.date(2025, 1, 1))["price_per_second_with_video"] == {
        "720p": 0.15,
        "1080p": 0.2,
    }


def unpriced(**changes: Any) -> dict[str, Any]:
    """GOOD_ROW with no price at all (and no person_generation, to keep the row short)."""
    base: dict[str, Any] = {"prices": None, "prices_no_audio": None, "person_generation": None}
    base["features"] = ["image_input"]
    return row(**{**base, **changes})


def test_a_row_priced_by_the_deployment_parses_and_shows_no_price() -> None:
    spec = parse_row(unpriced(priced_by="deployment"))
    assert (spec.priced_by, spec.deployment_priced, spec.prices, spec.price_per_video) == (
        "deployment",
        True,
        {},
        Decimal(0),
    )
    data = spec.to_dict(today=dt.date(2025, 1, 1))
    assert (data["priced_by"], data["price_per_second"], data["price_per_video"]) == ("deployment", {}, None)
    assert data["price_per_output_token"] is None


def test_a_row_that_forgets_its_price_is_still_refused() -> None:
    with pytest.raises(ValueError, match=r"no price: .* or state priced_by: deployment"):
        parse_row(unpriced())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"priced_by": "operator"}, "priced_by must be 'catalogue' or 'deployment', got 'operator'"),
        (
            {"priced_by": "deployment", "prices": {"720p": 0.1, "1080p": 0.1}},
            r"a priced_by: deployment row carries no catalogue price .*remove \['prices'\]",
        ),
        (
            {"priced_by": "deployment", "price_per_video": 0.5, "price_per_input": {"image": 0.01}},
            r"remove \['price_per_input', 'price_per_video'\]",
        ),
        ({"features_priced_by_deployment": ["telepathy"]}, r"unknown features \['telepathy'\]"),
        (
            {"prices": {"720p": 0.1, "1080p": 0.1}, "features_priced_by_deployment": ["image_input"]},
            r"features_priced_by_deployment repeats features the row always offers \['image_input'\]",
        ),
        (
            {"priced_by": "deployment", "features_priced_by_deployment": ["reference_videos"]},
            "a priced_by: deployment row lists all its features under features",
        ),
        (  # the rules that read features hold for the features a priced deployment adds
            {"prices": {"720p": 0.1, "1080p": 0.1}, "features_priced_by_deployment": ["reframe"]},
            "the reframe feature needs the edit feature",
        ),
    ],
)
def test_pricing_markers_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_row(unpriced(**changes))


def test_deployment_priced_features_are_offered_only_with_a_deployment_price() -> None:
    spec = parse_row(
        unpriced(prices={"720p": 0.1, "1080p": 0.1}, features_priced_by_deployment=["reference_videos"])
    )
    assert not spec.has("reference_videos")
    assert spec.may_offer("reference_videos")
    assert spec.to_dict(today=dt.date(2025, 1, 1))["features_priced_by_deployment"] == ["reference_videos"]
    priced = spec.with_deployment_price()
    assert priced.has("reference_videos")
    assert priced.deployment_priced_features == frozenset()
    assert priced.features == frozenset({"image_input", "reference_videos"})


def test_the_catalogues_deployment_priced_rows() -> None:
    """Written out: a row losing its marker (or gaining one) must be a deliberate change."""
    offered_when_priced = {
        s.id: sorted(s.deployment_priced_features) for s in load_catalog() if s.deployment_priced_features
    }
    assert offered_when_priced == {
        "dashscope/wan2.7-r2v": ["reference_videos"],
        "runway/hailuo3": ["reference_images", "reference_videos"],
        "runway/seedance2": ["reference_videos"],
        "runway/seedance2_5": ["reference_videos"],
        "runway/seedance2_fast": ["reference_videos"],
        "runway/seedance2_mini": ["reference_videos"],
        "volcengine/doubao-seedance-2-0-260128": ["reference_videos"],
        "volcengine/doubao-seedance-2-5-260628": ["reference_videos"],
    }
    fast = find_model("volcengine/doubao-seedance-2-0-fast-260128")
    assert fast is not None
    assert (fast.deployment_priced, fast.has("reference_videos"), fast.max_reference_videos) == (
        True,
        True,
        3,
    )


PRICED_HD = {"prices": {"720p": 0.1, "1080p": 0.1}, "sizes": {"1920x1080": "1080p", "1280x720": "720p"}}


def test_deployment_priced_sizes_are_served_only_with_a_deployment_price() -> None:
    spec = parse_row(unpriced(**PRICED_HD, sizes_priced_by_deployment={"3840x2160": "4k"}))
    assert list(spec.sizes) == ["1920x1080", "1280x720"]
    with pytest.raises(BadRequestError) as caught:
        spec.tier("3840x2160")
    assert caught.value.param == "size"
    assert "only on a deployment that sets its own price" in caught.value.message
    data = spec.to_dict(today=dt.date(2025, 1, 1))
    assert (data["sizes_priced_by_deployment"], data["resolutions"]) == (
        {"3840x2160": "4k"},
        ["720p", "1080p"],
    )
    priced = spec.with_deployment_price()
    assert (priced.tier("3840x2160"), priced.deployment_priced_sizes) == ("4k", {})
    assert list(priced.sizes) == ["1920x1080", "1280x720", "3840x2160"]


def test_a_token_priced_row_may_leave_a_deployment_priced_tier_unpriced() -> None:
    """The token rules (a price and a reservation bound per tier) cover the catalogue's sizes only."""
    tokens = {"480p": 10, "720p": 20}
    spec = parse_row(
        unpriced(
            sizes={"864x496": "480p", "1280x720": "720p"},
            seconds_by_tier=None,
            price_per_output_token={"480p": 0.000007, "720p": 0.000007},
            output_tokens_per_second=tokens,
            sizes_priced_by_deployment={"3840x2160": "4k", "2160x3840": "4k"},
        )
    )
    assert spec.output_tokens_per_second == tokens
    assert set(spec.with_deployment_price().sizes.values()) == {"480p", "720p", "4k"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sizes_priced_by_deployment": ["3840x2160"]}, r"must be a non-empty \{size: tier\} map"),
        ({"sizes_priced_by_deployment": {}}, r"must be a non-empty \{size: tier\} map"),
        (
            {"sizes_priced_by_deployment": {"1280x720": "720p", "3840x2160": "4k"}},
            r"sizes_priced_by_deployment repeats sizes the row always offers \['1280x720'\]",
        ),
        (
            {"priced_by": "deployment", "prices": None, "sizes_priced_by_deployment": {"3840x2160": "4k"}},
            "a priced_by: deployment row lists all its sizes under sizes",
        ),
        (
            {"sizes_priced_by_deployment": {"3840x2160": "4k"}, "default_size": "3840x2160"},
            "default_size not among sizes",  # the default is always served, so catalogue-priced
        ),
    ],
)
def test_deployment_priced_sizes_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_row(unpriced(**{**PRICED_HD, **changes}))


def test_the_catalogues_deployment_priced_sizes() -> None:
    """Written out: BytePlus Seedance 2.0's 4k has no catalogue price (byteplus/models.yaml)."""
    served_when_priced = {
        s.id: s.deployment_priced_sizes for s in load_catalog() if s.deployment_priced_sizes
    }
    assert served_when_priced == {
        "byteplus/dreamina-seedance-2-0-260128": {"3840x2160": "4k", "2160x3840": "4k"},
    }
