"""The LiteLLM proxy config keys vidgate knows, and the pass that sorts a config's keys before validation.

A LiteLLM ``config.yaml`` should load unchanged. Per section, a key is one of:

- *implemented*: vidgate's own settings (the pydantic models' fields) and the LiteLLM keys vidgate
  translates (``litellm_settings.num_retries`` -> ``router_settings.num_retries``, ...): kept.
- *known to LiteLLM, not implemented here* (``modify_params``, ``request_timeout``, ...):
  dropped, and named once in a start-up warning, so a LiteLLM config keeps working and nobody believes
  a setting took effect when it did not.
- anything else: a ConfigError naming the path, with the closest known key (a typo must not be ignored).

The lists follow LiteLLM's proxy config reference (docs.litellm.ai/docs/proxy/config_settings) for the
sections vidgate reads.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LITELLM_TOP_LEVEL = frozenset(
    {
        "environment_variables",
        "credential_list",
        "files_settings",
        "finetune_settings",
        "assistant_settings",
        "vector_store_registry",
        "mcp_servers",
        "mcp_aliases",
        "search_tools",
        "prompts",
        "include",
        "model_group_settings",
        "team_settings",
    }
)

LITELLM_SETTINGS = frozenset(
    {
        "modify_params",
        "max_parallel_requests",
        "timeout",
        "set_verbose",
        "json_logs",
        "service_callback",
        "cache",
        "cache_params",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
        "max_budget",
        "budget_duration",
        "max_end_user_budget",
        "default_max_internal_user_budget",
        "max_internal_user_budget",
        "internal_user_budget_duration",
        "telemetry",
        "turn_off_message_logging",
        "redact_messages_in_exceptions",
        "redact_user_api_key_info",
        "default_team_settings",
        "default_internal_user_params",
        "default_key_generate_params",
        "upperbound_key_generate_params",
        "key_generation_settings",
        "disable_end_user_cost_tracking",
        "disable_end_user_cost_tracking_prometheus_only",
        "enable_preview_features",
        "force_ipv4",
        "return_response_headers",
        "ssl_verify",
        "public_model_groups",
        "public_model_groups_links",
        "langfuse_default_tags",
        "enable_json_schema_validation",
        "disable_copilot_system_to_assistant",
        "disable_add_transform_inline_image_block",
        "disable_hf_tokenizer_download",
        "extra_spend_tag_headers",
        "cache_responses",
        "enable_azure_ad_token_refresh",
        "use_chat_completions_url_for_anthropic_messages",
        "check_provider_endpoint",
        "default_redis_batch_cache_expiry",
        "default_redis_ttl",
        "disable_token_counter",
        "model_alias_map",
        "mcp_aliases",
        "callback_settings",
        "user_url_validation",
        "user_url_validator",
    }
)

GENERAL_SETTINGS = frozenset(
    {
        "database_connection_pool_limit",
        "database_connection_timeout",
        "allow_requests_on_db_unavailable",
        "custom_auth",
        "custom_auth_settings",
        "custom_key_generate",
        "custom_sso",
        "max_parallel_requests",
        "global_max_parallel_requests",
        "max_request_size_mb",
        "max_response_size_mb",
        "infer_model_from_keys",
        "background_health_checks",
        "health_check_interval",
        "health_check_details",
        "health_check_ignore_transient_errors",
        "alerting",
        "alerting_threshold",
        "alerting_args",
        "alert_types",
        "alert_to_webhook_url",
        "proxy_batch_write_at",
        "proxy_budget_rescheduler_min_time",
        "proxy_budget_rescheduler_max_time",
        "enforce_user_param",
        "allowed_routes",
        "admin_only_routes",
        "public_routes",
        "key_management_system",
        "key_management_settings",
        "use_google_kms",
        "use_azure_key_vault",
        "disable_spend_logs",
        "disable_error_logs",
        "disable_master_key_return",
        "disable_retry_on_max_parallel_request_limit_error",
        "disable_reset_budget",
        "disable_adding_master_key_hash_to_db",
        "disable_prisma_schema_update",
        "enable_jwt_auth",
        "litellm_jwtauth",
        "store_model_in_db",
        "store_prompts_in_spend_logs",
        "supported_db_objects",
        "maximum_spend_logs_retention_period",
        "maximum_spend_logs_retention_interval",
        "user_header_name",
        "user_api_key_cache_ttl",
        "forward_openai_org_id",
        "forward_client_headers_to_llm_api",
        "allowed_ips",
        "enable_oauth2_auth",
        "enable_oauth2_proxy_auth",
        "oauth2_config_mappings",
        "service_account_settings",
        "pass_through_endpoints",
        "spend_report_frequency",
        "embedding_model",
        "moderation_model",
        "enable_public_model_hub",
        "ui_access_mode",
        "allowed_domains",
        "use_client_credentials_pass_through_routes",
        "use_redis_transaction_buffer",
        "use_shared_health_check",
        "enable_health_check_routing",
        "role_permissions",
        "mcp_server_url",
        "otel",
        "proxy_admin_email",
        "callback_settings",
    }
)

ROUTER_SETTINGS = frozenset(
    {
        "redis_host",
        "redis_port",
        "redis_password",
        "cache_responses",
        "cache_kwargs",
        "stream_timeout",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
        "retry_policy",
        "allowed_fails_policy",
        "model_group_alias",
        "model_group_retry_policy",
        "enable_pre_call_checks",
        "optional_pre_call_checks",
        "enable_tag_filtering",
        "tag_filtering_match_any",
        "retry_after",
        "max_fallbacks",
        "disable_cooldowns",
        "routing_strategy_args",
        "provider_budget_config",
        "polling_interval",
        "ignore_invalid_deployments",
        "default_litellm_params",
        "default_max_parallel_requests",
        "default_priority",
        "set_verbose",
        "debug_level",
        "client_ttl",
        "cooldown_time_seconds",
        "assistants_config",
        "search_tools",
    }
)

LITELLM_PARAMS = frozenset(
    {
        "stream_timeout",
        "max_retries",
        "tpm",
        "order",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "input_cost_per_pixel",
        "output_cost_per_pixel",
        "output_cost_per_image",
        "output_cost_per_video_per_second",
        "custom_llm_provider",
        "headers",
        "region_name",
        "vertex_credentials",
        "vertex_ai_project",
        "vertex_ai_location",
        "vertex_ai_credentials",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "aws_profile_name",
        "aws_role_name",
        "aws_session_name",
        "aws_web_identity_token",
        "aws_sts_endpoint",
        "aws_bedrock_runtime_endpoint",
        "azure_ad_token",
        "azure_ad_token_provider",
        "azure_username",
        "azure_password",
        "tenant_id",
        "client_id",
        "client_secret",
        "api_type",
        "watsonx_region_name",
        "use_in_pass_through",
        "use_litellm_proxy",
        "merge_reasoning_content_in_choices",
        "mock_response",
        "tags",
        "max_budget",
        "budget_duration",
        "additional_drop_params",
        "configurable_clientside_auth_params",
        "litellm_credential_name",
        "litellm_trace_id",
        "model_info",
        "auto_router_config",
        "auto_router_config_path",
        "auto_router_default_model",
        "auto_router_embedding_model",
    }
)

#: LiteLLM keys vidgate translates: ``litellm_settings.X`` -> ``router_settings.X`` (router's own wins).
LITELLM_TO_ROUTER = ("num_retries", "fallbacks", "allowed_fails", "cooldown_time")
# LiteLLM's global default for every call (``litellm.request_timeout``), under vidgate's name for it
LITELLM_RENAMED_TO_ROUTER = {"request_timeout": "timeout"}


@dataclass(frozen=True)
class Section:
    """One mapping of a config: the keys vidgate reads, and LiteLLM's keys it accepts but ignores."""

    implemented: frozenset[str]
    litellm_only: frozenset[str] = frozenset()
    children: Mapping[str, Section] = field(default_factory=dict)  # sub-mappings checked the same way
    list_children: Mapping[str, Section] = field(default_factory=dict)  # lists of mappings


def _suggest(key: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def sort_keys(data: Mapping[str, Any], section: Section, where: str = "") -> tuple[dict[str, Any], list[str]]:
    """``data`` without LiteLLM-only keys, and the paths of those dropped.

    Raises ``UnknownKeyError`` (message: the path, and the closest known key) on a key neither vidgate nor
    LiteLLM knows; values that are not of the expected shape are left for validation to report."""
    kept: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in data.items():
        path = _join(where, str(key))
        if key in section.implemented:
            if key in section.children and isinstance(value, Mapping):
                value, more = sort_keys(value, section.children[key], path)
                ignored.extend(more)
            elif key in section.list_children and isinstance(value, list):
                items: list[Any] = []
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        item, more = sort_keys(item, section.list_children[key], f"{path}[{index}]")
                        ignored.extend(more)
                    items.append(item)
                value = items
            kept[key] = value
        elif key in section.litellm_only:
            ignored.append(path)
        else:
            hint = _suggest(str(key), section.implemented | section.litellm_only)
            raise UnknownKeyError(f"{path}: unknown setting{hint}")
    return kept, ignored


class UnknownKeyError(ValueError):
    """A key that is neither vidgate's nor LiteLLM's: most likely a typo."""
