"""LiteLLM configs load: implemented keys take effect, LiteLLM-only keys are named once, typos fail."""

from __future__ import annotations

import pytest

from vidgate.gateway.config import ConfigError, default_config, parse_config, weak_master_key
from vidgate.gateway.litellm_keys import Section, UnknownKeyError, sort_keys

LOCAL = {"model_name": "m", "litellm_params": {"model": "local/local-1"}}


def test_litellm_only_keys_are_dropped_and_named_in_one_warning() -> None:
    config = parse_config(
        {
            "model_list": [{**LOCAL, "litellm_params": {"model": "local/local-1", "tpm": 9}}],
            "litellm_settings": {"modify_params": True, "set_verbose": True, "callbacks": ["langfuse"]},
            "router_settings": {"redis_password": "os.environ/NOT_SET_ANYWHERE"},
            "general_settings": {"master_key": "sk-a-long-enough-master-key", "store_model_in_db": True},
            "environment_variables": {"X": "1"},
        },
        environ={},
    )
    assert config.ignored_settings == (
        "model_list[0].litellm_params.tpm",
        "litellm_settings.modify_params",
        "litellm_settings.set_verbose",
        "router_settings.redis_password",  # dropped before os.environ/ is read: no "not set" error
        "general_settings.store_model_in_db",
        "environment_variables",
    )
    warnings = config.startup_warnings()
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "these LiteLLM settings are not implemented by vidgate and have no effect: "
    )
    assert "litellm_settings.modify_params, litellm_settings.set_verbose" in warnings[0]
    # a callback vidgate does not implement: named once, the config still loads
    assert warnings[1] == (
        "these LiteLLM callbacks are not implemented by vidgate and are not called: langfuse"
    )


def test_drop_params_is_implemented_globally_and_per_deployment() -> None:
    config = parse_config(
        {
            "model_list": [
                LOCAL,
                {"model_name": "n", "litellm_params": {"model": "local/local-1", "drop_params": False}},
            ],
            "litellm_settings": {"drop_params": True},
        },
        environ={},
    )
    assert config.ignored_settings == ()
    assert {d.model_name: d.drop_params for d in config.deployments} == {"m": True, "n": False}


def test_litellm_spellings_of_implemented_settings_take_effect() -> None:
    config = parse_config(
        {
            "model_list": [
                LOCAL,
                {"model_name": "n", "litellm_params": {"model": "local/local-1", "rpm": 5}},
            ],
            "litellm_settings": {
                "num_retries": 4,
                "allowed_fails": 3,
                "cooldown_time": 7,
                "fallbacks": [{"m": ["n"]}],
            },
            "router_settings": {"redis_url": "redis://cache:6379/1"},
        },
        environ={},
    )
    rs = config.router_settings
    assert (rs.num_retries, rs.allowed_fails, rs.cooldown_time) == (4, 3, 7.0)
    assert config.fallbacks() == {"m": ["n"]}
    assert config.redis_url == "redis://cache:6379/1"
    assert config.ignored_settings == ()
    assert config.startup_warnings() == []


def test_timeout_is_each_deployments_own_else_the_routers() -> None:
    """LiteLLM's ``timeout`` (seconds): a deployment's own, else ``router_settings.timeout``, else none
    (the transport's 600 s); it bounds each call to that deployment's provider."""
    config = parse_config(
        {
            "model_list": [
                LOCAL,
                {"model_name": "n", "litellm_params": {"model": "local/local-1", "timeout": 12.5}},
            ],
            "router_settings": {"timeout": 30},
        },
        environ={},
    )
    assert {d.model_name: d.timeout for d in config.deployments} == {"m": 30.0, "n": 12.5}
    assert config.ignored_settings == ()
    assert parse_config({"model_list": [LOCAL]}, environ={}).deployments[0].timeout is None


def test_litellm_request_timeout_is_the_default_under_router_and_deployment_timeouts() -> None:
    """LiteLLM's ``litellm_settings.request_timeout`` is its global default: under the router's
    ``timeout`` and each deployment's own (it was dropped as not implemented: a hung provider then held
    a create for the transport's 600 s)."""
    only_global = parse_config(
        {"model_list": [LOCAL], "litellm_settings": {"request_timeout": 45}}, environ={}
    )
    assert only_global.deployments[0].timeout == 45.0
    assert only_global.ignored_settings == ()
    layered = parse_config(
        {
            "model_list": [
                LOCAL,
                {"model_name": "n", "litellm_params": {"model": "local/local-1", "timeout": 12.5}},
            ],
            "litellm_settings": {"request_timeout": 45},
            "router_settings": {"timeout": 30},
        },
        environ={},
    )
    assert {d.model_name: d.timeout for d in layered.deployments} == {"m": 30.0, "n": 12.5}


@pytest.mark.parametrize("value", [0, -1, 3601, "soon", True, float("nan")])
def test_a_request_timeout_out_of_range_names_litellm_settings(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"model_list": [LOCAL], "litellm_settings": {"request_timeout": value}}, environ={})
    assert "litellm_settings.request_timeout" in str(caught.value)


@pytest.mark.parametrize("value", [0, -1, 3601, "soon", True])
def test_a_timeout_out_of_range_names_its_key(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"model_list": [{**LOCAL, "litellm_params": {"model": "local/local-1", "timeout": value}}]},
            environ={},
        )
    assert "timeout" in str(caught.value)


def test_router_settings_win_over_litellm_settings() -> None:
    config = parse_config(
        {
            "model_list": [LOCAL],
            "litellm_settings": {"num_retries": 4},
            "router_settings": {"num_retries": 1},
        },
        environ={},
    )
    assert config.router_settings.num_retries == 1


def test_videos_settings_serve_every_catalogue_model_of_the_provider() -> None:
    """Seed 002: credentials per provider for the /videos endpoints, no model_list."""
    config = parse_config(
        {"videos_settings": [{"custom_llm_provider": "openai", "api_key": "os.environ/OPENAI_API_KEY"}]},
        environ={"OPENAI_API_KEY": "sk-openai"},
    )
    by_name = {d.model_name: d for d in config.deployments}
    assert sorted(by_name) == ["openai/sora-2", "openai/sora-2-pro", "sora-2", "sora-2-pro"]
    assert {(d.provider, d.model, d.credentials.api_key) for d in config.deployments} == {
        ("openai", "sora-2", "sk-openai"),
        ("openai", "sora-2-pro", "sk-openai"),
    }


def test_model_list_names_win_over_videos_settings() -> None:
    config = parse_config(
        {
            "model_list": [{"model_name": "sora-2", "litellm_params": {"model": "local/local-1"}}],
            "videos_settings": [{"custom_llm_provider": "openai", "api_key": "k"}],
        },
        environ={},
    )
    assert {d.model_name: d.provider for d in config.deployments}["sora-2"] == "local"


def test_short_master_keys_are_accepted_with_a_loud_warning_from_config_and_environment() -> None:
    from_file = parse_config({"general_settings": {"master_key": "sk-1234"}}, environ={})
    assert from_file.master_key == "sk-1234"
    from_env = default_config(master_key="sk-1234")
    assert from_file.startup_warnings() == from_env.startup_warnings()
    assert from_env.startup_warnings() == [
        "WARNING: the master key is only 7 characters long; anyone who guesses it is an admin of this "
        "gateway. Use 16+ random characters (or leave it out to get one)."
    ]
    assert weak_master_key("sk-" + "x" * 13) is None
    assert default_config().startup_warnings() == []


def test_sort_keys_suggests_the_closest_key() -> None:
    section = Section(frozenset({"alpha"}), frozenset({"beta_gamma"}))
    assert sort_keys({"alpha": 1, "beta_gamma": 2}, section, "s") == ({"alpha": 1}, ["s.beta_gamma"])
    with pytest.raises(
        UnknownKeyError, match=r"^s\.beta_gama: unknown setting; did you mean 'beta_gamma'\?$"
    ):
        sort_keys({"beta_gama": 1}, section, "s")
    with pytest.raises(UnknownKeyError, match=r"^s\.zzz: unknown setting$"):
        sort_keys({"zzz": 1}, section, "s")


def test_a_typo_in_a_model_entry_is_still_an_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"model_list\[0\]\.litellm_params\.api_kye: unknown setting; did you mean 'api_key'",
    ):
        parse_config(
            {"model_list": [{**LOCAL, "litellm_params": {"model": "local/local-1", "api_kye": "k"}}]}, {}
        )
