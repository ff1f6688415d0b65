"""Catalogue rows whose price the deployment sets (``priced_by: deployment``) and features only a
deployment with its own price offers (``features_priced_by_deployment``): the config requires the price,
names the path when it is missing, and ``videos_settings`` leaves such rows out with one warning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from vidgate.catalog import estimate_cost
from vidgate.gateway.config import ConfigError, GatewayConfig, parse_config
from vidgate.gateway.routing import Deployment

FAST = "volcengine/doubao-seedance-2-0-fast-260128"
MINI = "volcengine/doubao-seedance-2-0-mini-260615"
SEEDANCE_2 = "volcengine/doubao-seedance-2-0-260128"


def config(*entries: dict[str, Any], key: str = "litellm_params", **top: Any) -> GatewayConfig:
    model_list = [{"model_name": f"m{i}", key: {"api_key": "k", **e}} for i, e in enumerate(entries)]
    return parse_config({"model_list": model_list, **top}, environ={})


def error(*entries: dict[str, Any], key: str = "litellm_params") -> str:
    with pytest.raises(ConfigError) as caught:
        config(*entries, key=key)
    return str(caught.value)


def cost(dep: Deployment, seconds: int, size: str, *, videos: int = 0) -> Decimal:
    inputs = {"video": videos} if videos else None
    return estimate_cost(
        dep.spec, seconds=seconds, size=size, price_override=dep.price_per_second, inputs=inputs
    )


def test_a_deployment_priced_row_without_a_price_is_refused_naming_the_path() -> None:
    message = error(
        {"model": SEEDANCE_2}, {"model": "volcengine/doubao-seedance-2-5-260628"}, {"model": FAST}
    )
    assert message.startswith("model_list[2].litellm_params.output_cost_per_second: ")
    assert f"{FAST} has no catalogue price, it is priced by the deployment" in message
    assert "output_cost_per_second or output_cost_per_video" in message
    assert error({"model": "kling/kling-v3-0-turbo"}, key="params").startswith(
        "model_list[0].params.output_cost_per_second: kling/kling-v3-0-turbo has no catalogue price"
    )


def test_a_deployment_naming_the_row_as_base_model_needs_the_price_too() -> None:
    message = error({"model": "volcengine/ep-20261201-fast", "base_model": FAST})
    assert message.startswith("model_list[0].litellm_params.output_cost_per_second: ")


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ({"output_cost_per_second": "0.07"}, Decimal("0.35")),  # $0.07/s x 5 s
        ({"output_cost_per_video": "0.9"}, Decimal("0.9")),
        ({"output_cost_per_second": "0.07", "output_cost_per_video": "0.1"}, Decimal("0.45")),
        ({"output_cost_per_second": "0"}, Decimal("0")),  # free, stated
    ],
)
def test_the_deployments_price_is_the_rows_price(prices: dict[str, str], expected: Decimal) -> None:
    (dep,) = config({"model": MINI, **prices}).deployments
    assert dep.spec.deployment_priced
    assert cost(dep, 5, "1280x720") == expected
    assert cost(dep, 5, "864x496", videos=2) == expected  # reference videos: the same price


def test_deployment_priced_features_come_with_a_deployment_price() -> None:
    catalogue, priced = config(
        {"model": SEEDANCE_2}, {"model": SEEDANCE_2, "output_cost_per_second": "0.2"}
    ).deployments
    assert not catalogue.spec.has("reference_videos")
    assert priced.spec.has("reference_videos")
    assert cost(catalogue, 4, "1280x720") == Decimal("0.568")  # the catalogue's $0.142/s x 4 s
    assert cost(priced, 4, "1280x720", videos=1) == Decimal("0.8")  # the deployment's $0.2/s x 4 s


def test_a_per_second_price_replaces_a_token_priced_rows_prices() -> None:
    """BytePlus bills tokens; a deployment rate of $0.1/s is the whole price, not added to the tokens."""
    (dep,) = config(
        {"model": "byteplus/dreamina-seedance-2-0-260128", "output_cost_per_second": "0.1"}
    ).deployments
    assert dep.spec.price_per_output_token is None
    assert cost(dep, 5, "1920x1080") == Decimal("0.5")
    assert cost(dep, 5, "1920x1080", videos=1) == Decimal("0.5")


def test_videos_settings_leaves_unpriced_rows_out_with_one_warning() -> None:
    data = {"videos_settings": [{"custom_llm_provider": "volcengine", "api_key": "k"}]}
    loaded = parse_config(data, environ={})
    served = {dep.model_name for dep in loaded.deployments}
    assert served == {
        "doubao-seedance-2-0-260128",
        SEEDANCE_2,
        "doubao-seedance-2-5-260628",
        "volcengine/doubao-seedance-2-5-260628",
    }
    assert loaded.unpriced_models == (f"videos_settings[0]: {FAST}", f"videos_settings[0]: {MINI}")
    warnings = [w for w in loaded.startup_warnings() if "no catalogue price" in w]
    assert len(warnings) == 1
    assert FAST in warnings[0]
    assert MINI in warnings[0]
    assert "output_cost_per_second or output_cost_per_video" in warnings[0]


def test_videos_settings_with_a_price_serves_every_row_at_that_price() -> None:
    entry = {"custom_llm_provider": "volcengine", "api_key": "k", "output_cost_per_second": "0.05"}
    loaded = parse_config({"videos_settings": [entry]}, environ={})
    by_name = {dep.model_name: dep for dep in loaded.deployments}
    assert loaded.unpriced_models == ()
    assert not [w for w in loaded.startup_warnings() if "no catalogue price" in w]
    assert cost(by_name[FAST], 6, "1280x720") == Decimal("0.3")
    assert cost(by_name["doubao-seedance-2-0-mini-260615"], 6, "1280x720") == Decimal("0.3")


def test_deployment_priced_sizes_come_with_a_deployment_price() -> None:
    """BytePlus Seedance 2.0's 4k (``sizes_priced_by_deployment``): only a deployment with its own price
    serves it, at exactly that price (no token price: none is known for 4k)."""
    byteplus = "byteplus/dreamina-seedance-2-0-260128"
    catalogue, per_second, per_video = config(
        {"model": byteplus},
        {"model": byteplus, "output_cost_per_second": "0.6"},
        {"model": byteplus, "output_cost_per_video": "2.5"},
    ).deployments
    assert "3840x2160" not in catalogue.spec.sizes
    assert catalogue.spec.deployment_priced_sizes == {"3840x2160": "4k", "2160x3840": "4k"}
    for dep in (per_second, per_video):
        assert (dep.spec.sizes["3840x2160"], dep.spec.sizes["2160x3840"]) == ("4k", "4k")
        assert dep.spec.deployment_priced_sizes == {}
    assert cost(per_second, 5, "3840x2160") == Decimal("3.0")  # $0.6/s x 5 s
    assert cost(per_video, 5, "2160x3840") == Decimal("2.5")
