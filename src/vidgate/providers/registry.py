"""Provider lookup. Every provider, built-in or plugin, is a ``ProviderSpec`` registered in the
``vidgate.providers`` entry-point group (``name = "package:SPEC"``); nothing here names one."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from vidgate.errors import BadRequestError
from vidgate.extras import explain
from vidgate.providers.base import Provider
from vidgate.providers.spec import ProviderSpec

GROUP = "vidgate.providers"


@cache
def specs() -> dict[str, ProviderSpec]:
    """Every installed provider by canonical name (entry points are read once per process)."""
    found: dict[str, ProviderSpec] = {}
    for ep in entry_points(group=GROUP):
        try:
            spec = ep.load()
        except ImportError as exc:  # e.g. the local renderer without vidgate[local]
            raise explain(exc, f"The provider {ep.name!r}") from exc
        if not isinstance(spec, ProviderSpec):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a ProviderSpec")
        if spec.name != ep.name:
            raise ValueError(f"entry point {ep.name} loads the spec of '{spec.name}'")
        found[spec.name] = spec
    return dict(sorted(found.items()))


@cache
def aliases() -> dict[str, str]:
    """Other names of providers (``vertex`` -> ``vertex_ai``)."""
    return {alias: spec.name for spec in specs().values() for alias in spec.aliases}


def provider_names() -> list[str]:
    return list(specs())


def canonical(name: str) -> str | None:
    """The canonical provider name for ``name`` or an alias, None if nothing is installed by that name."""
    name = aliases().get(name, name)
    return name if name in specs() else None


def get_spec(name: str) -> ProviderSpec:
    """The spec for ``name`` (or an alias); unknown -> BadRequestError(param="model") listing the known."""
    found = canonical(name)
    if found is None:
        raise BadRequestError(
            f"Unknown provider '{name}'. Known providers: {', '.join(provider_names())}.", param="model"
        )
    return specs()[found]


def get_provider(name: str) -> Provider:
    """The adapter for ``name``; an alias gives the same instance as its canonical name."""
    return _adapter(get_spec(name).name)


@cache
def _adapter(name: str) -> Provider:
    try:
        return specs()[name].adapter()
    except ImportError as exc:  # e.g. the local renderer without vidgate[local]
        raise explain(exc, f"The provider {name!r}") from exc


def split_model(model: str) -> tuple[str | None, str]:
    """``"gemini/veo-3.1-generate-preview"`` -> ("gemini", ...); no known provider prefix -> (None, model)."""
    prefix, sep, rest = model.partition("/")
    if sep:
        found = canonical(prefix)
        if found is not None:
            return found, rest
    return None, model


def reset() -> None:
    """Forget loaded specs and adapters (tests that install a plugin at run time)."""
    from vidgate.providers import catalogue

    specs.cache_clear()
    aliases.cache_clear()
    _adapter.cache_clear()
    catalogue.reset()
