"""ProviderConfig: settings from the config or arguments, then the declared env vars; required and
secret settings; unknown names listed with the known ones."""

from __future__ import annotations

import pytest

from vidgate.providers.azure.config import AzureConfig
from vidgate.providers.spec import MissingSetting, UnknownSetting
from vidgate.providers.vertex_ai.config import VertexConfig


def test_given_wins_over_env_and_env_fills_the_rest() -> None:
    env = {"AZURE_OPENAI_API_KEY": "env-key", "AZURE_API_BASE": "https://env", "AZURE_API_VERSION": "v1"}
    config = AzureConfig.resolve("azure", {"api_base": "https://given"}, env)
    creds = config.credentials({"x-extra": "1"})
    assert (creds.api_key, creds.api_base, creds.api_version) == ("env-key", "https://given", "v1")
    assert creds.extra_headers == {"x-extra": "1"}


def test_missing_required_setting_names_it_and_its_env_vars() -> None:
    with pytest.raises(MissingSetting) as caught:
        VertexConfig.resolve("vertex_ai", {}, {})
    assert (caught.value.name, caught.value.secret) == ("vertex_project", False)
    assert str(caught.value) == (
        "the vertex_ai provider needs a project "
        "(or set VERTEXAI_PROJECT or VERTEX_PROJECT or GOOGLE_CLOUD_PROJECT)"
    )
    with pytest.raises(MissingSetting) as key:
        AzureConfig.resolve("azure", {"api_base": "https://x"}, {})
    assert (key.value.name, key.value.secret) == ("api_key", True)


def test_defaults_and_either_or() -> None:
    vertex = VertexConfig.resolve("vertex_ai", {"vertex_project": "p"}, {})
    assert vertex.credentials({}).location == "us-central1"
    token_only = AzureConfig.resolve("azure", {"api_base": "https://x", "access_token": "t"}, {})
    assert token_only.credentials({}).access_token == "t"


def test_unknown_setting_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSetting) as caught:
        VertexConfig.resolve("vertex_ai", {"vertex_projcet": "p"}, {})
    assert caught.value.name == "vertex_projcet"
    assert str(caught.value) == (
        "unknown setting for provider 'vertex_ai' "
        "(known: vertex_project, vertex_location, api_base, api_version, access_token)"
    )


def test_secrets_are_declared_and_redacted() -> None:
    assert AzureConfig.secret_fields() == frozenset({"api_key", "access_token"})
    config = AzureConfig.resolve("azure", {"api_key": "sk-live", "api_base": "https://x"}, {})
    assert config.redacted() == {
        "api_key": "***",
        "api_base": "https://x",
        "api_version": None,
        "access_token": None,
    }
