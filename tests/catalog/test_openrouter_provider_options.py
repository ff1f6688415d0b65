"""OpenRouter's ``provider: {options: {"<provider>": {...}}}``: read with its shape checked (a 400 naming
the path), the serving provider's entry picked, merged into ``extra_body`` without a silent overwrite."""

from __future__ import annotations

from typing import Any

import pytest

from vidgate.catalog.openrouter import merge_options, parse, provider_options
from vidgate.errors import BadRequestError


def refused(body: dict[str, Any]) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        parse(body)
    return caught.value


def test_the_serving_providers_options_are_picked_and_the_others_ignored() -> None:
    fields, _ = parse(
        {
            "provider": {
                "options": {"vertex_ai": {"enhancePrompt": True}, "fal": {"num_inference_steps": 30}},
                "order": ["google-vertex"],  # OpenRouter's routing preferences mean nothing here
                "allow_fallbacks": False,
            }
        }
    )
    assert fields.given() == ["provider.options"]
    assert provider_options(fields, "fal") == ("provider.options.fal", {"num_inference_steps": 30})
    assert provider_options(fields, "vertex_ai") == ("provider.options.vertex_ai", {"enhancePrompt": True})
    assert provider_options(fields, "gemini") == ("provider.options.gemini", {})


def test_routing_preferences_alone_give_no_options() -> None:
    fields, _ = parse({"provider": {"sort": "price"}})
    assert fields.provider_options is None
    assert fields.given() == []
    assert provider_options(fields, "fal") == ("provider.options.fal", {})


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"provider": "fal"}, "provider"),
        ({"provider": ["fal"]}, "provider"),
        ({"provider": {"options": ["fal"]}}, "provider.options"),
        ({"provider": {"options": {"fal": "steps=30"}}}, "provider.options.fal"),
        ({"provider": {"options": {"fal": None}}}, "provider.options.fal"),
    ],
)
def test_a_wrong_shape_is_a_400_naming_its_path(body: dict[str, Any], param: str) -> None:
    error = refused(body)
    assert error.status_code == 400
    assert error.param == param
    assert f"'{param}'" in str(error)


def test_merging_adds_to_extra_body_and_refuses_a_field_given_twice() -> None:
    merged = merge_options({"seed_mode": "fixed"}, {"num_inference_steps": 30}, "provider.options.fal")
    assert merged == {"seed_mode": "fixed", "num_inference_steps": 30}
    assert merge_options(None, {}, "provider.options.fal") == {}
    with pytest.raises(BadRequestError) as twice:
        merge_options({"steps": 20}, {"steps": 30}, "provider.options.fal")
    assert twice.value.param == "provider.options.fal.steps"
    assert "extra_body.steps" in str(twice.value)
