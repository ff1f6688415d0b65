"""Model name -> provider, catalogue row and credentials; video id -> the same.

Model names:

- ``provider/model`` (every installed provider: ``vidgate models`` lists them).
- With ``vidgate.api_base`` set (and no ``api_base`` argument), every bare name is sent unchanged to
  that OpenAI-compatible endpoint (the vidgate gateway, or a LiteLLM proxy): *proxy mode*. The gateway
  owns its model names (its ``sora-2`` may be any deployment) and validates; the SDK does not apply the
  catalogue, and the ids it returns are the gateway's.
- Otherwise a bare name the catalogue knows under exactly one provider (``sora-2`` -> openai). Rows of a
  provider whose model names are the caller's deployment names (``ProviderSpec.bare_names`` False,
  e.g. Azure) are not matched by bare name.
- Otherwise, when an ``api_base`` argument is given, the name goes to that endpoint in proxy mode too.

Credentials, per setting: the argument wins, then the module attribute (``vidgate.api_key``,
``vidgate.api_base``), then the environment variables the provider's config model declares. A missing
secret is an AuthenticationError naming the variable, any other missing setting a BadRequestError naming
the parameter, both raised before any network call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from urllib.parse import urlsplit

from vidgate import settings
from vidgate.catalog import ModelSpec
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError
from vidgate.providers.base import Credentials, Provider
from vidgate.providers.catalogue import find_model, load_catalog, models_for_provider
from vidgate.providers.registry import get_spec, provider_names, specs, split_model
from vidgate.providers.spec import MissingSetting, UnknownSetting
from vidgate.sdk.ids import VideoRef, decode


def _naming_help() -> str:
    return (
        f"Name models as 'provider/model' (providers: {', '.join(provider_names())}), e.g. "
        "'local/local-1'; run `vidgate models` for the list. To use a gateway's model names, set "
        "api_base (or vidgate.api_base) to its URL."
    )


@dataclass(frozen=True)
class ClientConfig:
    """What a Client was configured with (None = fall back to module attributes, then env vars)."""

    api_key: str | None = None
    api_base: str | None = None
    api_version: str | None = None
    organization: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    custom_llm_provider: str | None = None
    base_model: str | None = None
    vertex_project: str | None = None
    vertex_location: str | None = None
    vertex_access_token: str | None = None
    gateway: bool = False  # api_base is a gateway: every name and id is the gateway's (the CLI's --api-base)

    def provider_settings(self) -> dict[str, str | None]:
        """The arguments by the setting names provider config models use (``access_token`` is the
        SDK's ``vertex_access_token``); each provider takes the ones its model declares."""
        return {
            "api_key": self.api_key,
            "api_base": self.api_base,
            "api_version": self.api_version,
            "organization": self.organization,
            "vertex_project": self.vertex_project,
            "vertex_location": self.vertex_location,
            "access_token": self.vertex_access_token,
        }


@dataclass(frozen=True)
class Route:
    """Where a model lives. ``proxy`` means an OpenAI-compatible gateway at the configured api_base."""

    provider: str
    model: str
    spec: ModelSpec | None
    proxy: bool = False


@dataclass(frozen=True)
class Target:
    """A route plus the provider adapter and the credentials to call it with."""

    route: Route
    adapter: Provider
    creds: Credentials

    @property
    def provider(self) -> str:
        return self.route.provider

    def with_headers(self, extra: Mapping[str, str] | None) -> Target:
        if not extra:
            return self
        merged = {**self.creds.extra_headers, **extra}
        return replace(self, creds=replace(self.creds, extra_headers=merged))


def module_setting(name: str) -> str | None:
    """``vidgate.<name>`` as set by the caller (read at call time, without importing the package root)."""
    value = getattr(sys.modules.get("vidgate"), name, None)
    return value if isinstance(value, str) and value else None


def configured_api_base(config: ClientConfig) -> str | None:
    return config.api_base or module_setting("api_base")


def uses_gateway(config: ClientConfig) -> bool:
    """Whether a call naming no model goes to a gateway (``gateway=True``, or an api_base is set)."""
    return config.gateway or bool(configured_api_base(config))


def _provider_name(name: str) -> str:
    return get_spec(name).name  # unknown provider -> BadRequestError(param="model") listing the known ones


def _bare_candidates(model: str) -> list[ModelSpec]:
    found: dict[str, ModelSpec] = {}
    registered = specs()
    for spec in load_catalog():
        if not registered[spec.provider].bare_names:
            continue
        names = {spec.model, *(alias.partition("/")[2] for alias in spec.aliases)}
        if model in names:
            found[spec.id] = spec
    return list(found.values())


def _spec_for(provider: str, model: str, config: ClientConfig) -> ModelSpec:
    spec = find_model(f"{provider}/{model}")
    if spec is not None:
        return spec
    default_base = get_spec(provider).default_base_model
    if default_base is not None:
        # The model is the caller's deployment name; the row is base_model, else the provider's default.
        base = config.base_model or default_base
        base_spec = find_model(base if "/" in base else f"{provider}/{base}")
        if base_spec is None:
            known = ", ".join(s.model for s in models_for_provider(provider))
            raise BadRequestError(
                f"Unknown base_model '{base}'. Known {provider} models: {known}.", param="base_model"
            )
        return base_spec
    # An open namespace (an aggregator's model path): the template row; direct mode charges nothing.
    open_spec = get_spec(provider).open_row(model, per_second=Decimal(0))
    if open_spec is not None:
        return open_spec
    known = ", ".join(s.id for s in models_for_provider(provider)) or "(none)"
    raise BadRequestError(
        f"Unknown model '{provider}/{model}'. Known {provider} models: {known}.", param="model"
    )


def resolve_model(model: object, config: ClientConfig) -> Route:
    """Which provider serves ``model``, and its catalogue row (None in proxy mode)."""
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError(f"Missing required parameter: 'model'. {_naming_help()}", param="model")
    if config.gateway:
        return Route("openai", model, None, proxy=True)
    prefix, name = split_model(model)
    if prefix is None and config.custom_llm_provider:
        prefix = config.custom_llm_provider
    if prefix is not None:
        provider = _provider_name(prefix)
        return Route(provider, name, _spec_for(provider, name, config))
    if config.api_base is None and module_setting("api_base"):
        # ``vidgate.api_base = gateway`` (the seeds' proxy idiom): bare names are the gateway's names.
        return Route("openai", model, None, proxy=True)
    candidates = _bare_candidates(model)
    providers = sorted({spec.provider for spec in candidates})
    if len(providers) == 1:
        spec = candidates[0]
        return Route(spec.provider, spec.model, spec)
    if configured_api_base(config):
        return Route("openai", model, None, proxy=True)
    if candidates:
        named = ", ".join(f"'{spec.id}'" for spec in candidates)
        raise BadRequestError(
            f"Model '{model}' exists under several providers: {named}. Name one.", param="model"
        )
    raise BadRequestError(f"Unknown model '{model}'. {_naming_help()}", param="model")


def resolve_video(video_id: object, model: str | None, config: ClientConfig) -> tuple[Route, VideoRef]:
    """The route and reference for a video id: from the id itself, else from ``model``, else proxy mode."""
    if not isinstance(video_id, str) or not video_id:
        raise BadRequestError("Missing required parameter: 'video_id'.", param="video_id")
    if config.gateway:
        return Route("openai", "", None, proxy=True), VideoRef("openai", "-", video_id)
    ref = decode(video_id)
    if ref is not None:
        provider = _provider_name(ref.provider)
        spec = find_model(ref.model_id)
        if spec is None and (
            get_spec(provider).default_base_model is not None or get_spec(provider).open_models
        ):
            spec = _spec_for(provider, ref.model, config)
        return Route(provider, ref.model, spec), ref
    if model is not None:
        route = resolve_model(model, config)
        return route, VideoRef(route.provider, route.model, video_id)
    if configured_api_base(config):
        return Route("openai", "", None, proxy=True), VideoRef("openai", "-", video_id)
    raise NotFoundError(
        f"Video id '{video_id}' was not issued by this SDK (a vidgate id carries its provider and model), so "
        "pass model='provider/model' to say where it lives, or set api_base to the gateway that issued it.",
        param="video_id",
        code="video_not_found",
    )


def proxy_base(url: str) -> str:
    """A gateway URL as the OpenAI ``/v1`` root: ``http://host:4000`` -> ``http://host:4000/v1``."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def credentials(route: Route, config: ClientConfig) -> Credentials:
    """Credentials for ``route``: arguments, then module attributes, then the environment variables the
    provider's config model declares."""
    headers = dict(config.extra_headers)
    if route.proxy:
        key = config.api_key or module_setting("api_key") or settings.env(settings.OPENAI_API_KEY)
        if not key:
            raise AuthenticationError(
                "No API key for the gateway: pass api_key=..., set vidgate.api_key, or set OPENAI_API_KEY.",
                code="missing_api_key",
                provider="gateway",
            )
        base = configured_api_base(config)
        assert base is not None
        return Credentials(
            api_key=key, api_base=proxy_base(base), organization=config.organization, extra_headers=headers
        )
    spec = get_spec(route.provider)
    model = spec.config
    given = {k: v for k, v in config.provider_settings().items() if k in model.model_fields and v}
    if model.uses_module_defaults:
        for name in ("api_key", "api_base"):
            ambient = module_setting(name)
            if name in model.model_fields and name not in given and ambient:
                given[name] = ambient
    try:
        resolved = model.resolve(spec.name, given, os.environ)
    except MissingSetting as exc:
        raise _missing(exc) from exc
    except UnknownSetting as exc:
        raise BadRequestError(f"{exc.name}: {exc}", param=exc.name) from exc
    return resolved.credentials(headers)


def _missing(exc: MissingSetting) -> AuthenticationError | BadRequestError:
    """A missing secret is an authentication problem (401-shaped); anything else a bad parameter."""
    listed = " or ".join(exc.env)
    where = f", or set {listed}" if listed else ""
    if exc.secret:
        return AuthenticationError(
            f"No {exc.name} for provider '{exc.provider}': pass {exc.name}=..., "
            f"set vidgate.{exc.name}{where}.",
            code="missing_api_key",
            provider=exc.provider,
        )
    return BadRequestError(
        f"Provider '{exc.provider}' needs {exc.name}: pass {exc.name}=...{where}."
        + (f" ({exc.help})" if exc.help else ""),
        param=exc.name,
    )
