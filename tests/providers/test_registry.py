"""Provider lookup: built-ins, aliases, entry-point plugins, unknown names, and model-name splitting."""

from __future__ import annotations

import pytest

from vidgate.errors import BadRequestError
from vidgate.providers.azure.adapter import AzureProvider
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.local.adapter import LocalProvider
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.providers.registry import aliases, get_provider, get_spec, provider_names, split_model
from vidgate.providers.vertex_ai.adapter import VertexProvider

BUILTIN = ("openai", "azure", "gemini", "vertex_ai", "local", "fal", "replicate")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("openai", OpenAIProvider),
        ("azure", AzureProvider),
        ("gemini", GeminiProvider),
        ("vertex_ai", VertexProvider),
        ("local", LocalProvider),
    ],
)
def test_every_builtin(name: str, cls: type) -> None:
    provider = get_provider(name)
    assert isinstance(provider, cls)
    assert provider.name == name
    assert get_spec(name).name == name
    assert get_provider(name) is provider  # one instance per process


def test_builtins_come_from_the_entry_point_group() -> None:
    """The built-ins are registered in pyproject.toml exactly as a plugin is: the group lists them."""
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="vidgate.providers")}
    assert names["openai"] == "vidgate.providers.openai:SPEC"
    assert set(BUILTIN) <= set(names)


@pytest.mark.parametrize(
    ("alias", "canonical"), [("vertex", "vertex_ai"), ("google", "gemini"), ("azure_openai", "azure")]
)
def test_aliases_give_the_canonical_instance(alias: str, canonical: str) -> None:
    assert aliases()[alias] == canonical
    assert get_provider(alias) is get_provider(canonical)
    assert get_provider(alias).name == canonical


def test_unknown_provider_is_a_bad_request_on_model() -> None:
    with pytest.raises(BadRequestError) as caught:
        get_provider("acme")
    err = caught.value
    assert err.param == "model"
    assert err.status_code == 400
    assert err.message.startswith("Unknown provider 'acme'. Known providers: ")
    for name in BUILTIN:
        assert name in err.message


def test_provider_names_lists_builtins_sorted() -> None:
    names = provider_names()
    assert set(BUILTIN) <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini/veo-3.1-generate-preview", ("gemini", "veo-3.1-generate-preview")),
        ("openai/sora-2", ("openai", "sora-2")),
        ("azure/my-deployment", ("azure", "my-deployment")),
        ("vertex_ai/veo-3.1-generate-001", ("vertex_ai", "veo-3.1-generate-001")),
        ("vertex/veo-3.1-generate-001", ("vertex_ai", "veo-3.1-generate-001")),
        ("google/veo-2.0-generate-001", ("gemini", "veo-2.0-generate-001")),
        ("local/local-1", ("local", "local-1")),
        ("sora-2", (None, "sora-2")),
        ("acme/model", (None, "acme/model")),
        ("openai/org/model", ("openai", "org/model")),
    ],
)
def test_split_model(model: str, expected: tuple[str | None, str]) -> None:
    assert split_model(model) == expected


# The out-of-tree plugin (tests/fixtures/acme_video) is exercised in tests/providers/test_plugin.py.
