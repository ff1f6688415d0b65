"""The ``guardrails:`` config section: LiteLLM's shape, built-ins and plugins by entry point, errors
that name the setting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.guards import guard_plugin

from vidgate.gateway.config import ConfigError, parse_config
from vidgate.gateway.guardrails.blocklist import Blocklist
from vidgate.gateway.guardrails.moderation import OpenAIModeration

LOCAL = {"model_name": "m", "litellm_params": {"model": "local/local-1"}}


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with guard_plugin(tmp_path / "site", monkeypatch):
        yield


def _parse(guardrails: Any, environ: dict[str, str] | None = None) -> Any:
    return parse_config({"model_list": [LOCAL], "guardrails": guardrails}, environ=environ or {})


def test_litellm_shape_loads() -> None:
    config = _parse(
        [
            {
                "guardrail_name": "no-brands",
                "litellm_params": {
                    "guardrail": "blocklist",
                    "mode": "pre_call",
                    "default_on": True,
                    "blocked_words": ["acme", "globex"],
                },
            },
            {
                "guardrail_name": "moderation",
                "litellm_params": {
                    "guardrail": "openai_moderation",
                    "mode": ["pre_call", "post_call"],
                    "api_base": "http://moderation.test/v1",
                    "api_key": "os.environ/MOD_KEY",
                    "unreachable_fallback": "fail_open",
                    "timeout": 2.5,
                },
                "guardrail_info": {"owner": "trust and safety"},
            },
        ],
        environ={"MOD_KEY": "sk-moderation-key-123"},
    )
    first, second = config.guardrails
    assert (first.name, first.kind, first.modes, first.default_on, first.fail_open, first.timeout) == (
        "no-brands", "blocklist", frozenset({"pre_call"}), True, False, 10.0,
    )  # fmt: skip
    assert isinstance(first.guard, Blocklist)
    assert (second.modes, second.default_on, second.fail_open, second.timeout) == (
        frozenset({"pre_call", "post_call"}), False, True, 2.5,
    )  # fmt: skip
    assert isinstance(second.guard, OpenAIModeration)
    assert (second.guard.url, second.guard.api_key) == (
        "http://moderation.test/v1/moderations",
        "sk-moderation-key-123",
    )


@pytest.mark.usefixtures("plugin")
def test_a_plugin_is_found_by_its_entry_point() -> None:
    config = _parse([{"guardrail_name": "p", "litellm_params": {"guardrail": "no_word", "word": "fox"}}])
    assert type(config.guardrails[0].guard).__name__ == "NoWord"
    with pytest.raises(
        ConfigError, match=r"guardrails\[0\]\.litellm_params\.word: required setting is missing"
    ):
        _parse([{"guardrail_name": "p", "litellm_params": {"guardrail": "no_word"}}])


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("x", "guardrails: Input should be a valid list"),
        ([{"litellm_params": {"guardrail": "blocklist"}}], r"guardrails\[0\]\.guardrail_name: required"),
        ([{"guardrail_name": "a"}], r"guardrails\[0\]\.litellm_params: required"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "aporia"}}],
         r"guardrails\[0\]\.litellm_params\.guardrail: unknown guardrail 'aporia' \(installed: blocklist, "),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "blocklist", "mode": "during_call",
                                                      "blocked_words": ["x"]}}],
         r"guardrails\[0\]\.litellm_params\.mode: 'during_call' is not supported"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "blocklist", "blocked_words": ["x"],
                                                      "unreachable_fallback": "maybe"}}],
         r"unreachable_fallback: expected fail_closed or fail_open"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "blocklist", "blocked_words": ["x"],
                                                      "timeout": 0}}],
         r"guardrails\[0\]\.litellm_params\.timeout: expected seconds"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "blocklist", "blocked_words": ["x"]}},
          {"guardrail_name": "a", "litellm_params": {"guardrail": "blocklist", "blocked_words": ["y"]}}],
         r"guardrails\[1\]\.guardrail_name: 'a' is configured twice"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "openai_moderation", "api_base": "ftp://x"}}],
         r"guardrails\[0\]\.litellm_params\.api_base: expected an http\(s\) URL"),
        ([{"guardrail_name": "a", "litellm_params": {"guardrail": "openai_moderation", "threshold": 1}}],
         r"guardrails\[0\]\.litellm_params\.threshold: unknown setting of the openai_moderation guardrail"),
    ],
)  # fmt: skip
def test_errors_name_the_setting(entries: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _parse(entries)
