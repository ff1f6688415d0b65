"""Provider lookup: built-ins, aliases, entry-point plugins, unknown names, and model-name splitting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from vidgate.errors import BadRequestError
from vidgate.providers import registry
from vidgate.providers.azure import AzureProvider
from vidgate.providers.base import BaseProvider, Capability
from vidgate.providers.gemini import GeminiProvider
from vidgate.providers.local import LocalProvider
from vidgate.providers.openai import OpenAIProvider
from vidgate.providers.registry import ALIASES, BUILTIN, get_provider, provider_names, split_model
from vidgate.providers.vertex import VertexProvider


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
    assert Capability.CREATE in provider.capabilities
    assert get_provider(name) is provider  # one instance per process


@pytest.mark.parametrize(("alias", "canonical"), sorted(ALIASES.items()))
def test_aliases_give_the_canonical_instance(alias: str, canonical: str) -> None:
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


# ---- entry-point plugins ------------------------------------------------------------------------


class AcmeProvider(BaseProvider):
    name: ClassVar[str] = "acme"


@dataclass
class FakeEntryPoint:
    name: str
    target: type

    def load(self) -> type:
        return self.target


@pytest.fixture
def acme_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def entry_points(*, group: str) -> list[Any]:
        assert group == "vidgate.providers"
        return [FakeEntryPoint("acme", AcmeProvider)]

    monkeypatch.setattr(registry, "entry_points", entry_points)
    registry._provider.cache_clear()
    yield
    registry._provider.cache_clear()


@pytest.mark.usefixtures("acme_plugin")
def test_entry_point_plugin_is_found_and_split() -> None:
    provider = get_provider("acme")
    assert isinstance(provider, AcmeProvider)
    assert "acme" in provider_names()
    assert split_model("acme/model-x") == ("acme", "model-x")
