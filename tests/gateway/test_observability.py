"""Callbacks and tracing settings in LiteLLM's names: implemented ones configured, others one warning."""

from __future__ import annotations

import pytest

from vidgate.gateway.config import ConfigError, parse_config
from vidgate.gateway.observability import HttpLogger

LOCAL = {"model_name": "m", "litellm_params": {"model": "local/local-1"}}


def _parse(
    litellm: dict[str, object], callback_settings: dict[str, object] | None = None, **env: str
) -> object:
    data: dict[str, object] = {"model_list": [LOCAL], "litellm_settings": litellm}
    if callback_settings is not None:
        data["callback_settings"] = callback_settings
    return parse_config(data, environ=env)


def test_otel_endpoint_from_settings_or_the_standard_variables() -> None:
    own = _parse({"callbacks": ["otel"]}, {"otel": {"endpoint": "http://collector:4318/v1/traces"}})
    assert own.observability.otel_endpoint == "http://collector:4318/v1/traces"  # type: ignore[attr-defined]
    standard = _parse({"success_callback": ["otel"]}, OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4318/")
    assert standard.observability.otel_endpoint == "http://c:4318/v1/traces"  # type: ignore[attr-defined]
    litellm = _parse({"callbacks": ["otel"]}, OTEL_ENDPOINT="http://c:4318")
    assert litellm.observability.otel_endpoint == "http://c:4318/v1/traces"  # type: ignore[attr-defined]
    off = _parse({})
    assert off.observability.otel_endpoint is None  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="the 'otel' callback needs an OTLP/HTTP endpoint"):
        _parse({"callbacks": ["otel"]})


def test_generic_api_loggers_and_their_events() -> None:
    config = _parse(
        {
            "success_callback": ["generic_api", "audit"],
            "failure_callback": ["generic_api", "langfuse", "sentry"],
        },
        {"audit": {"callback_type": "generic_api", "endpoint": "https://audit.example/in", "batch_size": 10}},
        GENERIC_LOGGER_ENDPOINT="https://logs.example/in",
        GENERIC_LOGGER_HEADERS="Authorization=Bearer t,X-Team=video",
    )
    obs = config.observability  # type: ignore[attr-defined]
    assert obs.http_loggers == (
        HttpLogger(
            name="generic_api",
            endpoint="https://logs.example/in",
            headers={"Authorization": "Bearer t", "X-Team": "video"},
            events=frozenset({"success", "failure"}),
        ),
        HttpLogger(
            name="audit", endpoint="https://audit.example/in", events=frozenset({"success"}), batch_size=10
        ),
    )
    assert obs.ignored_callbacks == ("langfuse", "sentry")
    assert config.startup_warnings() == [  # type: ignore[attr-defined]
        "these LiteLLM callbacks are not implemented by vidgate and are not called: langfuse, sentry"
    ]


@pytest.mark.parametrize(
    ("litellm", "settings", "message"),
    [
        ({"callbacks": ["generic_api"]}, None,
         r"callback_settings\.generic_api\.endpoint: the 'generic_api' callback"),
        ({"callbacks": ["generic_api"]}, {"generic_api": {"endpoint": "https://x", "batch_size": 0}},
         r"callback_settings\.generic_api\.batch_size: expected an integer"),
        ({"callbacks": ["generic_api"]}, {"generic_api": {"endpoint": "https://x", "retries": 2}},
         r"callback_settings\.generic_api\.retries: unknown setting"),
    ],
)  # fmt: skip
def test_errors_name_the_setting(
    litellm: dict[str, object], settings: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _parse(litellm, settings)
