"""Provider lookup: the built-ins by name, plus third-party adapters from the ``vidgate.providers``
entry-point group (an entry point names a class implementing ``Provider``)."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from vidgate.errors import BadRequestError
from vidgate.extras import explain
from vidgate.providers.base import Provider

BUILTIN: dict[str, str] = {
    "openai": "vidgate.providers.openai:OpenAIProvider",
    "azure": "vidgate.providers.azure:AzureProvider",
    "gemini": "vidgate.providers.gemini:GeminiProvider",
    "vertex_ai": "vidgate.providers.vertex:VertexProvider",
    "local": "vidgate.providers.local:LocalProvider",
}
ALIASES: dict[str, str] = {"vertex": "vertex_ai", "google": "gemini", "azure_openai": "azure"}


def _load(target: str) -> Provider:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # e.g. the local renderer without vidgate[local]
        raise explain(exc, f"The provider {module_name.rpartition('.')[2]!r}") from exc
    cls = getattr(module, attr)
    return cls()  # type: ignore[no-any-return]


def provider_names() -> list[str]:
    names = set(BUILTIN)
    names.update(ep.name for ep in entry_points(group="vidgate.providers"))
    return sorted(names)


def get_provider(name: str) -> Provider:
    """The adapter for ``name`` (``openai``, ``azure``, ``gemini``, ``vertex_ai``, ``local``, or a plugin).

    An alias gives the same instance as its canonical name (``vertex`` is ``vertex_ai``)."""
    return _provider(ALIASES.get(name, name))


@cache
def _provider(name: str) -> Provider:
    if name in BUILTIN:
        return _load(BUILTIN[name])
    for ep in entry_points(group="vidgate.providers"):
        if ep.name == name:
            return ep.load()()  # type: ignore[no-any-return]
    raise BadRequestError(
        f"Unknown provider '{name}'. Known providers: {', '.join(provider_names())}.", param="model"
    )


def split_model(model: str) -> tuple[str | None, str]:
    """``"gemini/veo-3.1-generate-preview"`` -> ("gemini", "veo-3.1-generate-preview").

    A name with no known provider prefix -> (None, model)."""
    prefix, sep, rest = model.partition("/")
    if sep and (ALIASES.get(prefix, prefix) in BUILTIN or prefix in provider_names()):
        return ALIASES.get(prefix, prefix), rest
    return None, model
