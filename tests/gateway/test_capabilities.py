"""What ``/v1/models`` and ``/v1/videos/models`` say about each served model, checked against literal
values from its catalogue row (minimax/models.yaml: MiniMax-H3) and the deployment's price override."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.gateway.harness import MASTER, make_gateway

from vidgate.gateway import capabilities
from vidgate.gateway.config import parse_config


def config(local_root: Path, **general: Any) -> Any:
    return parse_config(
        {
            "model_list": [
                {"model_name": "h3", "litellm_params": {"model": "minimax/MiniMax-H3", "api_key": "k"}},
                {
                    "model_name": "local-1",
                    "litellm_params": {
                        "model": "local/local-1",
                        "api_base": str(local_root),
                        "output_cost_per_second": "0.25",
                    },
                },
            ],
            "general_settings": {"master_key": MASTER, **general},
        },
        environ={},
    )


async def test_a_catalogue_row_described(local_root: Path) -> None:
    gw = make_gateway(local_root, config=config(local_root))
    by_id = {m["id"]: m for m in await gw.service.list_models(await gw.master())}
    h3 = by_id["h3"]
    assert {k: h3[k] for k in ("id", "object", "owned_by")} == {
        "id": "h3",
        "object": "model",
        "owned_by": "minimax",
    }
    assert h3["created"] == gw.service.started_at
    assert h3["catalogue_ids"] == ["minimax/MiniMax-H3"]
    assert h3["supported_resolutions"] == ["768P", "2K"]
    assert h3["supported_aspect_ratios"] == ["16:9", "9:16"]
    assert h3["supported_sizes"] == ["1366x768", "768x1366", "2560x1440", "1440x2560"]
    assert h3["supported_durations"] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert h3["sizes"][2] == {
        "size": "2560x1440",
        "resolution": "2K",
        "aspect_ratio": "16:9",
        "durations": [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    }
    assert (h3["default_size"], h3["default_duration"]) == ("1366x768", 6)
    assert h3["features"] == [
        "audio",
        "audio_toggle",
        "delete",
        "image_input",
        "last_frame",
        "list",
        "reference_images",
        "reference_videos",
    ]
    assert h3["parameters"] == [
        "prompt",
        "seconds",
        "duration",
        "size",
        "resolution",
        "aspect_ratio",
        "user",
        "extra_body",
        "input_reference",
        "frame_images",
        "last_frame",
        "reference_images",
        "input_references",
        "generate_audio",
    ]
    assert h3["pricing"] == {
        "currency": "USD",
        "per_second": {"768P": "0.08", "2K": "0.13"},
        "per_second_no_audio": {"768P": "0.08", "2K": "0.13"},
        "per_second_with_video": {},
        "per_video": "0",
        "per_input": {"image": "0.04"},
        "per_output_token": None,
        "per_output_token_by_resolution": {},
        "per_output_token_with_video": {},
        "output_tokens_per_second": {},
    }
    assert h3["pricing_skus"] == {
        "per-video-second-768P": "0.08",
        "per-video-second-2K": "0.13",
        "per-video-second-768P-no-audio": "0.08",
        "per-video-second-2K-no-audio": "0.13",
        "per-input-image": "0.04",
    }
    assert h3["lifecycle"] == {
        "status": "active",
        "deprecated_on": None,
        "retires_on": None,
        "successor": None,
        "served_after_retirement": False,
    }
    assert h3["allowed_passthrough_parameters"]["extra_body"] is True
    assert {"content", "ratio"} <= set(
        h3["allowed_passthrough_parameters"]["refused"]
    )  # MiniMax's wire names
    local = by_id["local-1"]
    assert local["pricing"]["per_second"] == {t: "0.25" for t in ("180p", "360p", "480p", "720p", "1080p")}
    assert local["parameters"][-4:] == ["input_reference", "frame_images", "negative_prompt", "seed"]
    assert "callback_url" not in local["parameters"]  # no webhook_secret: callbacks are off
    await gw.close()


async def test_only_the_keys_models_and_callbacks_when_signed(local_root: Path) -> None:
    gw = make_gateway(local_root, config=config(local_root, webhook_secret="whsec_c2l4dGVlbiBieXRlIGtleQ=="))
    key = await gw.new_key("alice", models=["local-1"])
    [only] = await gw.service.list_models(key)
    assert only["id"] == "local-1"
    assert only["parameters"][-1] == "callback_url"
    await gw.close()


def test_several_deployments_are_described_by_their_union_and_highest_price() -> None:
    a: dict[str, Any] = {
        "catalogue_ids": ["p/a"],
        "supported_resolutions": ["720p"],
        "supported_aspect_ratios": ["16:9"],
        "supported_sizes": ["1280x720"],
        "sizes": [{"size": "1280x720"}],
        "features": ["seed"],
        "parameters": ["prompt", "seed"],
        "supported_durations": [8, 4],
        "open_sizes": False,
        "open_durations": False,
        "max_reference_images": 0,
        "max_reference_videos": 0,
        "max_videos_per_request": 1,
        "pricing": {
            "per_second": {"720p": "0.1"},
            "per_second_no_audio": {},
            "per_second_with_video": {},
            "per_input": {},
            "per_video": "0",
            "per_output_token_by_resolution": {},
            "per_output_token_with_video": {"720p": "0.000002"},
        },
        "pricing_skus": {"per-video-second-720p": "0.1"},
        "allowed_passthrough_parameters": {"extra_body": True, "refused": ["seed"]},
    }
    b = {
        **a,
        "catalogue_ids": ["q/b"],
        "supported_resolutions": ["1080p", "720p"],
        "supported_durations": [6],
        "pricing": {
            **a["pricing"],
            "per_second": {"720p": "0.15", "1080p": "0.2"},
            "per_second_with_video": {"720p": "0.18"},
            "per_output_token_with_video": {"720p": "0.0000015", "1080p": "0.000003"},
        },
        "pricing_skus": {"per-video-second-720p": "0.15"},
        "allowed_passthrough_parameters": {"extra_body": True, "refused": ["duration"]},
    }
    merged = capabilities.merge([a, b])
    assert merged["catalogue_ids"] == ["p/a", "q/b"]
    assert merged["supported_resolutions"] == ["720p", "1080p"]
    assert merged["supported_durations"] == [4, 6, 8]
    assert merged["pricing"]["per_second"] == {"720p": "0.15", "1080p": "0.2"}
    assert merged["pricing"]["per_second_with_video"] == {"720p": "0.18"}
    assert merged["pricing"]["per_output_token_with_video"] == {"720p": "0.000002", "1080p": "0.000003"}
    assert merged["pricing_skus"] == {"per-video-second-720p": "0.15"}
    assert merged["allowed_passthrough_parameters"]["refused"] == ["duration", "seed"]


def test_money_is_a_plain_decimal_string() -> None:
    assert [capabilities.money(Decimal(v)) for v in ("0.10", "1E-6", "0", "12.500")] == [
        "0.1",
        "0.000001",
        "0",
        "12.5",
    ]


async def test_a_token_priced_row_by_tier(local_root: Path) -> None:
    cfg = parse_config(
        {
            "model_list": [
                {
                    "model_name": "seedance",
                    "litellm_params": {"model": "byteplus/dreamina-seedance-2-0-260128", "api_key": "k"},
                }
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    gw = make_gateway(local_root, config=cfg)
    [entry] = await gw.service.list_models(await gw.master())
    # byteplus/models.yaml: price_per_output_token {480p: 0.000007, 720p: 0.000007, 1080p: 0.0000077}
    assert entry["pricing"]["per_second"] == {}
    assert entry["pricing"]["per_output_token"] == "0.0000077"
    assert entry["pricing"]["per_output_token_by_resolution"] == {
        "480p": "0.000007",
        "720p": "0.000007",
        "1080p": "0.0000077",
    }
    assert entry["pricing"]["output_tokens_per_second"] == {"480p": 10150, "720p": 21830, "1080p": 49110}
    # price_per_output_token_with_video {480p: 0.0000043, 720p: 0.0000043, 1080p: 0.0000047}
    assert entry["pricing"]["per_output_token_with_video"] == {
        "480p": "0.0000043",
        "720p": "0.0000043",
        "1080p": "0.0000047",
    }
    assert entry["pricing_skus"] == {
        "per-output-token-480p": "0.000007",
        "per-output-token-720p": "0.000007",
        "per-output-token-1080p": "0.0000077",
        "per-output-token-480p-with-video": "0.0000043",
        "per-output-token-720p-with-video": "0.0000043",
        "per-output-token-1080p-with-video": "0.0000047",
    }
    assert entry["supported_aspect_ratios"] == ["16:9", "9:16", "1:1"]  # 864x496 is 16:9 within 3 %
    await gw.close()


def test_a_token_priced_row_with_one_rate_shows_one_with_video_sku() -> None:
    """byteplus/models.yaml: Seedance 2.0 fast, $5.6/1M tokens, $3.3/1M with an input video, every tier;
    a deployment with its own rate shows no token price at all."""
    model = "byteplus/dreamina-seedance-2-0-fast-260128"
    loaded = parse_config(
        {
            "model_list": [
                {"model_name": "fast", "litellm_params": {"model": model, "api_key": "k"}},
                {
                    "model_name": "fast-own",
                    "litellm_params": {"model": model, "api_key": "k", "output_cost_per_second": "0.3"},
                },
            ]
        },
        environ={},
    )
    fast, own = (capabilities.describe(dep, {}, callbacks=False) for dep in loaded.deployments)
    assert fast["pricing"]["per_output_token_with_video"] == {"480p": "0.0000033", "720p": "0.0000033"}
    assert fast["pricing_skus"] == {
        "per-output-token": "0.0000056",
        "per-output-token-with-video": "0.0000033",
    }
    assert own["pricing"]["per_output_token_with_video"] == {}
    assert not any(k.startswith("per-output-token") for k in own["pricing_skus"])


def test_deployment_priced_rows_are_described_at_the_deployments_price() -> None:
    """A ``priced_by: deployment`` row shows the deployment's rate and nothing else; a row's
    deployment-priced feature (Wan 2.7 reference videos) shows only where the deployment sets a price."""
    entries = [
        ("mini", "volcengine/doubao-seedance-2-0-mini-260615", {"output_cost_per_second": "0.07"}),
        ("wan-flat", "dashscope/wan2.7-r2v", {"output_cost_per_video": "1.5"}),
        ("wan", "dashscope/wan2.7-r2v", {}),
    ]
    loaded = parse_config(
        {
            "model_list": [
                {"model_name": name, "litellm_params": {"model": model, "api_key": "k", **price}}
                for name, model, price in entries
            ]
        },
        environ={},
    )
    mini, flat, wan = (capabilities.describe(dep, {}, callbacks=False) for dep in loaded.deployments)
    assert mini["pricing"]["per_second"] == {"480p": "0.07", "720p": "0.07"}
    assert (mini["pricing"]["per_video"], mini["pricing"]["per_output_token"]) == ("0", None)
    assert mini["pricing_skus"] == {"per-video-second-480p": "0.07", "per-video-second-720p": "0.07"}
    assert (flat["pricing"]["per_second"], flat["pricing"]["per_video"]) == ({}, "1.5")
    assert flat["pricing_skus"] == {"per-video": "1.5"}
    assert ("reference_videos" in flat["features"], flat["max_reference_videos"]) == (True, 3)
    assert ("reference_videos" in wan["features"], wan["max_reference_videos"]) == (False, 0)
    assert wan["pricing"]["per_second"] == {"720p": "0.086", "1080p": "0.143"}


def test_a_deployment_priced_size_is_described_only_where_the_deployment_sets_a_price() -> None:
    """BytePlus Seedance 2.0's 4k: listed, at the deployment's rate, on the deployment with its own price;
    absent from the catalogue-priced one (which refuses it)."""
    model = "byteplus/dreamina-seedance-2-0-260128"
    loaded = parse_config(
        {
            "model_list": [
                {
                    "model_name": "own",
                    "litellm_params": {"model": model, "api_key": "k", "output_cost_per_second": "0.6"},
                },
                {"model_name": "catalogue", "litellm_params": {"model": model, "api_key": "k"}},
            ]
        },
        environ={},
    )
    own, catalogue = (capabilities.describe(dep, {}, callbacks=False) for dep in loaded.deployments)
    assert own["supported_resolutions"] == ["480p", "720p", "1080p", "4k"]
    assert own["supported_sizes"][-2:] == ["3840x2160", "2160x3840"]
    assert own["pricing"]["per_second"] == {"480p": "0.6", "720p": "0.6", "1080p": "0.6", "4k": "0.6"}
    assert own["pricing"]["per_output_token"] is None
    assert catalogue["supported_resolutions"] == ["480p", "720p", "1080p"]
    assert "3840x2160" not in catalogue["supported_sizes"]
    assert "4k" not in catalogue["pricing"]["output_tokens_per_second"]


KLING_KEYS = {"api_key": "k", "secret_key": "s"}


def test_a_with_video_rate_is_described_where_the_catalogue_prices_it() -> None:
    """kling/models.yaml: kling-v3-omni bills a request with a reference video $0.126/s std, $0.168/s
    pro, $0.42/s 4k (secondary); a deployment with its own rate shows that rate alone."""
    loaded = parse_config(
        {
            "model_list": [
                {"model_name": "omni", "litellm_params": {"model": "kling/kling-v3-omni", **KLING_KEYS}},
                {
                    "model_name": "omni-own",
                    "litellm_params": {
                        "model": "kling/kling-v3-omni",
                        **KLING_KEYS,
                        "output_cost_per_second": "0.2",
                    },
                },
            ]
        },
        environ={},
    )
    omni, own = (capabilities.describe(dep, {}, callbacks=False) for dep in loaded.deployments)
    assert ("reference_videos" in omni["features"], omni["max_reference_videos"]) == (True, 1)
    assert omni["pricing"]["per_second"] == {"720p": "0.112", "1080p": "0.14", "4k": "0.42"}
    assert omni["pricing"]["per_second_with_video"] == {"720p": "0.126", "1080p": "0.168", "4k": "0.42"}
    assert {k: v for k, v in omni["pricing_skus"].items() if k.endswith("-with-video")} == {
        "per-video-second-720p-with-video": "0.126",
        "per-video-second-1080p-with-video": "0.168",
        "per-video-second-4k-with-video": "0.42",
    }
    assert own["pricing"]["per_second"] == {"720p": "0.2", "1080p": "0.2", "4k": "0.2"}
    assert (own["pricing"]["per_second_with_video"], own["pricing"]["per_second_no_audio"]) == ({}, {})
    assert not any(k.endswith("-with-video") for k in own["pricing_skus"])
