"""The config file format: env values, both params keys, catalogue checks, and errors naming the path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from vidgate.catalog import estimate_cost
from vidgate.gateway.config import ConfigError, default_config, load_config, parse_config


def _one(params: dict[str, Any], key: str = "litellm_params", **entry: Any) -> dict[str, Any]:
    return {"model_list": [{"model_name": "m", key: params, **entry}]}


def _error(data: Any, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ or {})
    return str(caught.value)


def test_seed_format_with_env_values(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        """
model_list:
  - model_name: sora-2
    litellm_params:
      model: openai/sora-2
      api_key: os.environ/MY_OPENAI_KEY
      api_base: http://127.0.0.1:9001/v1
      rpm: 100
  - model_name: azure-sora
    params:
      model: azure/my-sora-deployment
      base_model: azure/sora-2
      api_key: os.environ/AZ_KEY
      api_base: https://res.openai.azure.com
      api_version: preview
      output_cost_per_second: 0.12
    model_info: {id: azure-east}
  - model_name: veo
    litellm_params:
      model: vertex_ai/veo-3.1-generate-001
      vertex_project: proj
      vertex_location: us-central1
general_settings:
  master_key: os.environ/MASTER
  database_url: postgresql+asyncpg://u@localhost/db
  redis_url: redis://127.0.0.1:6379/0
  content_dir: /var/lib/vidgate
router_settings:
  routing_strategy: least-busy
  fallbacks: [{sora-2: [azure-sora]}]
  cooldown_time: 12
litellm_settings: {request_logging: true}
""",
        encoding="utf-8",
    )
    config = load_config(path, {"MY_OPENAI_KEY": "sk-up", "AZ_KEY": "az", "MASTER": "sk-master-123"})
    sora, azure, veo = config.deployments
    assert (sora.provider, sora.model, sora.spec.id, sora.rpm) == ("openai", "sora-2", "openai/sora-2", 100)
    assert (sora.credentials.api_key, sora.credentials.api_base) == ("sk-up", "http://127.0.0.1:9001/v1")
    assert (azure.id, azure.model, azure.spec.id) == ("azure-east", "my-sora-deployment", "azure/sora-2")
    assert azure.price_per_second == Decimal("0.12")
    assert (veo.credentials.project, veo.credentials.location) == ("proj", "us-central1")
    assert config.master_key == "sk-master-123"
    assert (config.database_url, config.redis_url) == (
        "postgresql+asyncpg://u@localhost/db",
        "redis://127.0.0.1:6379/0",
    )
    assert config.content_dir == Path("/var/lib/vidgate")
    assert config.fallbacks() == {"sora-2": ["azure-sora"]}
    assert config.request_logging is True
    router = config.router()
    assert (router.strategy, router.cooldown_time) == ("least-busy", 12)
    planned = router.plan("sora-2", may_use=lambda name: True)
    assert [d.model_name for d in planned] == ["sora-2", "azure-sora"]


def test_deployment_ids_are_stable_and_distinct() -> None:
    data = {
        "model_list": [
            {"model_name": "a", "litellm_params": {"model": "local/local-1", "api_base": "/tmp/x"}},
            {"model_name": "a", "litellm_params": {"model": "local/local-1", "api_base": "/tmp/y"}},
        ]
    }
    first = parse_config(data, {})
    again = parse_config({"model_list": list(reversed(data["model_list"]))}, {})
    assert {d.id for d in first.deployments} == {d.id for d in again.deployments}
    assert len({d.id for d in first.deployments}) == 2
    assert all(d.id.startswith("dep-") for d in first.deployments)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_one({"model": "foo/bar"}), "model_list[0].litellm_params.model: unknown provider 'foo'"),
        (_one({"model": "sora-2"}), "model_list[0].litellm_params.model: expected 'provider/model'"),
        (
            _one({"model": "openai/sora-9", "api_key": "k"}),
            "model_list[0].litellm_params.model: 'openai/sora-9' is not in the model catalogue",
        ),
        (
            _one({"model": "azure/my-dep", "api_key": "k", "api_base": "https://x"}),
            "set base_model to the catalogue model it serves",
        ),
        (
            _one(
                {"model": "azure/my-dep", "base_model": "azure/nope", "api_key": "k", "api_base": "https://x"}
            ),
            "model_list[0].litellm_params.base_model: 'azure/nope' is not in the model catalogue",
        ),
        (
            _one(
                {
                    "model": "azure/my-dep",
                    "base_model": "openai/sora-2",
                    "api_key": "k",
                    "api_base": "https://x",
                }
            ),
            "belongs to provider 'openai', not 'azure'",
        ),
        (
            _one({"model": "openai/sora-2", "allow_retired": True}),
            "model_list[0].litellm_params.api_key: the openai provider needs an API key",
        ),
        (
            _one({"model": "azure/sora-2", "allow_retired": True, "api_key": "k"}),
            "model_list[0].litellm_params.api_base",
        ),
        (_one({"model": "vertex_ai/veo-3.1-generate-001"}), "model_list[0].litellm_params.vertex_project"),
        (
            _one({"model": "local/local-1", "api_kye": "x"}),
            "model_list[0].litellm_params.api_kye: unknown setting",
        ),
        (
            _one({"model": "local/local-1", "rpm": 0}),
            "model_list[0].litellm_params.rpm: Input should be greater than 0",
        ),
        (
            _one({"model": "local/local-1"}, key="params", litellm_params={"model": "local/local-1"}),
            "exactly one of",
        ),
        ({"model_list": [{"model_name": "m"}]}, "give exactly one of 'litellm_params' or 'params'"),
        ({"modle_list": []}, "modle_list: unknown setting"),
        (
            _one({"model": "local/local-1", "api_key": "os.environ/NOT_SET"}),
            "model_list[0].litellm_params.api_key: environment variable NOT_SET is not set",
        ),
        (
            {"general_settings": {"database_url": "mysql://x"}},
            "general_settings.database_url: unsupported database 'mysql'",
        ),
        (
            {"general_settings": {"master_key": " "}},
            "general_settings.master_key: must not be empty",
        ),
        (
            {"litellm_settings": {"drop_param": True}},
            "litellm_settings.drop_param: unknown setting; did you mean 'drop_params'?",
        ),
        (
            {"general_settings": {"master_kye": "k"}},
            "general_settings.master_kye: unknown setting; did you mean 'master_key'?",
        ),
        (
            {"router_settings": {"num_retrys": 1}},
            "router_settings.num_retrys: unknown setting; did you mean 'num_retries'?",
        ),
        (
            {"videos_settings": [{"api_key": "k"}]},
            "videos_settings[0].custom_llm_provider: required setting is missing",
        ),
        (
            {"videos_settings": [{"custom_llm_provider": "openai"}]},
            "videos_settings[0].api_key: the openai provider needs an API key",
        ),
        (
            {"videos_settings": [{"custom_llm_provider": "openai", "api_key": "k", "modle": "x"}]},
            "videos_settings[0].modle: unknown setting",
        ),
        ({"router_settings": {"routing_strategy": "round-robin"}}, "router_settings.routing_strategy"),
        (
            {**_one({"model": "local/local-1"}), "router_settings": {"fallbacks": [{"m": ["ghost"]}]}},
            "router_settings.fallbacks[0].m: fallback 'ghost' is not a model_name",
        ),
        (
            {"model_list": [{"model_name": "m", "litellm_params": {"model": "local/local-1"}}] * 2},
            "model_list[1]: same deployment as model_list[0]",
        ),
        ([1, 2], "the config must be a mapping"),
    ],
)
def test_errors_name_the_path(data: Any, message: str) -> None:
    assert message in _error(data)


def test_provider_env_credentials_are_pinned_at_start() -> None:
    config = parse_config(
        _one({"model": "gemini/veo-3.1-generate-preview", "allow_retired": True}), {"GEMINI_API_KEY": "g-key"}
    )
    assert config.deployments[0].credentials.api_key == "g-key"


def test_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model_list:\n  - model_name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml:3:1: invalid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")
    nested = tmp_path / "nested.yaml"
    nested.write_text(
        "model_list:\n  - model_name: x\n    litellm_params: {model: foo/bar}\n", encoding="utf-8"
    )
    with pytest.raises(
        ConfigError, match=r"nested\.yaml: model_list\[0\]\.litellm_params\.model: unknown provider"
    ):
        load_config(nested)


def test_default_config_serves_every_local_model() -> None:
    config = default_config()
    assert [d.model_name for d in config.deployments] == ["local-1", "local/local-1"]
    assert {d.spec.id for d in config.deployments} == {"local/local-1"}
    assert config.master_key is not None
    assert config.master_key.startswith("sk-")
    assert config.master_key_generated
    assert config.database_url == "sqlite:///./vidgate.db"
    assert config.content_dir == Path("./data/content")
    assert default_config().master_key != config.master_key
    fixed = default_config(master_key="sk-mine-12345")
    assert (fixed.master_key, fixed.master_key_generated) == ("sk-mine-12345", False)


def test_request_body_timeout_is_seconds_0_to_3600_default_30() -> None:
    assert parse_config({"model_list": []}, environ={}).request_body_timeout == 30.0
    for bad in (0, -1, 3601, True, "5", None):
        with pytest.raises(ConfigError, match=r"general_settings\.request_body_timeout"):
            parse_config({"general_settings": {"request_body_timeout": bad}}, environ={})
    good = {"general_settings": {"request_body_timeout": 5}}
    assert parse_config(good, environ={}).request_body_timeout == 5.0


def test_public_base_url_must_be_a_plain_http_url() -> None:
    for bad in ("ftp://x", "https://x/?a=1", "gateway.example"):
        with pytest.raises(ConfigError, match=r"general_settings\.public_base_url"):
            parse_config({"model_list": [], "general_settings": {"public_base_url": bad}}, environ={})
    good = {"model_list": [], "general_settings": {"public_base_url": "https://gw.example/"}}
    assert parse_config(good, environ={}).public_base_url == "https://gw.example"


# ---- deployment prices and open model namespaces ------------------------------------------------


def _estimate(params: dict[str, Any], seconds: int, size: str) -> Decimal:
    config = parse_config(_one(params), {})
    dep = config.deployments[0]
    return estimate_cost(dep.spec, seconds=seconds, size=size, price_override=dep.price_per_second)


def test_a_per_video_price_replaces_a_catalogue_rows_prices() -> None:
    params = {"model": "openai/sora-2", "api_key": "k", "output_cost_per_video": "0.70"}
    assert _estimate(params, 8, "720x1280") == Decimal("0.70")  # not $0.10/s x 8


def test_an_open_namespace_serves_unlisted_paths_at_the_deployment_price() -> None:
    per_video = {"model": "fal/someone/some-app/v1", "api_key": "k", "output_cost_per_video": "0.25"}
    assert _estimate(per_video, 9, "1920x1080") == Decimal("0.25")
    per_second = {"model": "fal/someone/some-app", "api_key": "k", "output_cost_per_second": "0.05"}
    assert _estimate(per_second, 3, "720x720") == Decimal("0.15")


def test_an_unlisted_path_without_a_price_names_both_settings() -> None:
    message = _error(_one({"model": "fal/someone/some-app", "api_key": "k"}))
    assert "output_cost_per_second or output_cost_per_video" in message
    assert message.startswith("model_list[0].litellm_params.output_cost_per_second:")


def test_a_closed_namespace_still_refuses_unlisted_models() -> None:
    message = _error(_one({"model": "openai/sora-9", "api_key": "k", "output_cost_per_video": "1"}))
    assert "not in the model catalogue" in message
