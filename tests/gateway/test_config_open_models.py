"""Deployments of a provider with an open model namespace: the row comes from the deployment, and a
price is required (``output_cost_per_second`` or ``output_cost_per_video``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from vidgate.catalog import estimate_cost, validate
from vidgate.errors import BadRequestError
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.gateway.routing import Deployment

BASE = "http://gpu-1:8000/v1"


def deployment(**params: Any) -> Deployment:
    values = {"model": "openai_compatible/Wan-AI/Wan2.2-T2V-A14B-Diffusers", "api_base": BASE, **params}
    config = parse_config({"model_list": [{"model_name": "wan", "litellm_params": values}]}, environ={})
    return config.deployments[0]


def error(**params: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        deployment(**params)
    return str(caught.value)


def test_a_deployment_without_a_price_is_refused_naming_the_fields() -> None:
    message = error()
    assert message.startswith("model_list[0].litellm_params.output_cost_per_second:")
    assert "output_cost_per_video" in message


def test_an_explicit_zero_price_is_accepted() -> None:
    dep = deployment(output_cost_per_second=0)
    assert dep.price_per_second == Decimal(0)
    assert dep.model == "Wan-AI/Wan2.2-T2V-A14B-Diffusers"  # slashes of the model name kept
    assert dep.spec.id == "openai_compatible/Wan-AI/Wan2.2-T2V-A14B-Diffusers"


def test_declared_sizes_and_seconds_are_validated_and_priced_per_second() -> None:
    dep = deployment(output_cost_per_second="0.05", sizes=["832x480", "1280x720"], seconds=[5, 10])
    spec = dep.spec
    assert (spec.default_size, spec.default_seconds) == ("832x480", 5)
    assert not spec.open_sizes
    req = validate(spec, prompt="a heron", seconds="10", size="1280x720")
    cost = estimate_cost(spec, seconds=req.seconds, size=req.size, price_override=dep.price_per_second)
    assert cost == Decimal("0.50")  # $0.05/s x 10 s
    with pytest.raises(BadRequestError) as caught:
        validate(spec, prompt="a heron", seconds="7")
    assert caught.value.param == "seconds"
    with pytest.raises(BadRequestError) as size:
        validate(spec, prompt="a heron", size="640x360")
    assert size.value.param == "size"


def test_without_declarations_any_size_and_duration_pass_with_a_flat_price() -> None:
    dep = deployment(output_cost_per_video="0.30")
    spec = dep.spec
    assert spec.open_sizes
    assert spec.open_seconds
    req = validate(spec, prompt="a heron", seconds="13", size="1504x832")
    assert (req.seconds, req.size, req.resolution) == (13, "1504x832", "832p")
    assert estimate_cost(spec, seconds=13, size="1504x832") == Decimal("0.30")
    assert validate(spec, prompt="a heron").size == "720x1280"  # the Videos API's defaults
    for bad, param in (("0", "seconds"), ("601", "seconds"), ("4.5", "seconds")):
        with pytest.raises(BadRequestError) as caught:
            validate(spec, prompt="x", seconds=bad)
        assert caught.value.param == param
    for size in ("1280", "1280x", "0x720", "1280x720x2", "１２８０x720"):
        with pytest.raises(BadRequestError) as caught:
            validate(spec, prompt="x", size=size)
        assert caught.value.param == "size"


def test_declaration_errors_name_the_field() -> None:
    assert error(output_cost_per_video=1, sizes=["big"]).startswith("model_list[0].litellm_params.sizes:")
    assert "seconds" in error(output_cost_per_video=1, seconds=[])
    assert "default_size" in error(output_cost_per_video=1, sizes=["832x480"], default_size="1280x720")


def test_a_catalogue_model_keeps_its_row_and_may_take_a_flat_price() -> None:
    config = parse_config(
        {
            "model_list": [
                {
                    "model_name": "local-1",
                    "litellm_params": {"model": "local/local-1", "output_cost_per_video": "0.07"},
                }
            ]
        },
        environ={},
    )
    spec = config.deployments[0].spec
    assert spec.price_per_video == Decimal("0.07")
    assert estimate_cost(spec, seconds=2, size="320x180") == Decimal("0.07")
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "model_list": [
                    {"model_name": "l", "litellm_params": {"model": "local/local-1", "sizes": ["1x1"]}}
                ]
            },
            environ={},
        )
    assert str(caught.value).startswith("model_list[0].litellm_params.sizes: only for a model")


def test_a_closed_provider_still_refuses_unknown_models() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "model_list": [
                    {
                        "model_name": "x",
                        "litellm_params": {
                            "model": "openai/sora-9",
                            "api_key": "k",
                            "output_cost_per_second": 1,
                        },
                    }
                ]
            },
            environ={},
        )
    assert "not in the model catalogue" in str(caught.value)


def test_dialect_settings_are_checked() -> None:
    message = error(output_cost_per_second=1, seconds_type="float")
    assert message.startswith("model_list[0].litellm_params.seconds_type:")
    variants = error(output_cost_per_second=1, content_variants="video,poster")
    assert variants.startswith("model_list[0].litellm_params.content_variants:")
    assert (
        deployment(output_cost_per_second=1, content_variants="thumbnail, video").credentials.options[
            "content_variants"
        ]
        == "thumbnail,video"
    )
    missing = error(output_cost_per_second=1, api_base=None)
    assert missing.startswith("model_list[0].litellm_params.api_base: the openai_compatible provider needs")
    assert "OPENAI_COMPATIBLE_API_BASE" in missing
