"""A retired catalogue row is refused with 400 model_retired naming its successor, unless kept."""

from __future__ import annotations

import datetime as dt

import pytest

from vidgate.errors import BadRequestError
from vidgate.gateway.config import parse_config
from vidgate.gateway.lifecycle import check_active
from vidgate.gateway.routing import Deployment


def deployment(model: str, **params: object) -> Deployment:
    entry = {"model_name": "m", "litellm_params": {"model": model, **params}}
    return parse_config({"model_list": [entry]}, environ={}).deployments[0]


def test_a_retired_model_names_its_successor() -> None:
    dep = deployment("gemini/veo-3.1-generate-preview", api_key="k")  # shut 2026-10-22
    check_active(dep, dt.date(2026, 10, 21))
    with pytest.raises(BadRequestError) as caught:
        check_active(dep, dt.date(2026, 10, 22))
    error = caught.value
    assert (error.status_code, error.code, error.param) == (400, "model_retired", "model")
    assert error.message == (
        "Model 'm' (gemini/veo-3.1-generate-preview) was retired on 2026-10-22. "
        "Use 'gemini/gemini-omni-1.2-flash' instead."
    )


def test_without_a_successor_the_message_says_so() -> None:
    with pytest.raises(BadRequestError, match=r"was retired on 2026-09-24\. It has no successor\."):
        check_active(deployment("openai/sora-2", api_key="k"), dt.date(2026, 12, 6))


def test_the_operator_can_keep_a_retired_model() -> None:
    check_active(deployment("openai/sora-2", api_key="k", allow_retired=True), dt.date(2026, 12, 6))


def test_live_models_stay_active() -> None:
    check_active(deployment("vertex_ai/veo-3.1-generate-001", vertex_project="p"), dt.date(2026, 12, 6))
    check_active(deployment("local/local-1"), dt.date(2100, 1, 1))
