"""Model name -> provider, catalogue row and credentials; video id -> the same.

Model names:

- ``provider/model`` (providers: openai, azure, gemini, vertex_ai (alias vertex), local).
- With ``vidgate.api_base`` set (and no ``api_base`` argument), every bare name is sent unchanged to
  that OpenAI-compatible endpoint (the vidgate gateway, or a LiteLLM proxy): *proxy mode*. The gateway
  owns its model names (its ``sora-2`` may be any deployment) and validates; the SDK does not apply the
  catalogue, and the ids it returns are the gateway's.
- Otherwise a bare name the catalogue knows under exactly one provider (``sora-2`` -> openai). Azure rows
  are not matched by bare name: an Azure model is the caller's deployment name, so it must say ``azure/``.
- Otherwise, when an ``api_base`` argument is given, the name goes to that endpoint in proxy mode too.

Credentials, per setting: the argument wins, then the module attribute (``vidgate.api_key``,
``vidgate.api_base``), then the provider's environment variables (``vidgate.settings``). A missing key
is an AuthenticationError naming the variable, raised before any network call.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from vidgate import settings
from vidgate.catalog import ModelSpec, find_model, load_catalog, models_for_provider
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError
from vidgate.providers.base import Credentials, Provider
from vidgate.providers.registry import ALIASES, get_provider, split_model
from vidgate.sdk.ids import VideoRef, decode

DEFAULT_BASES: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com",
}
DEFAULT_VERTEX_LOCATION = "us-central1"
_NAMING_HELP = (
    "Name models as 'provider/model' (providers: openai, azure, gemini, vertex_ai, local), "
    "e.g. 'openai/sora-2', 'gemini/veo-3.1-generate-preview', 'local/local-1'; run `vidgate models` for the "
    "list. To use a gateway's model names, set api_base (or vidgate.api_base) to its URL."
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
    canonical = ALIASES.get(name, name)
    get_provider(canonical)  # unknown provider -> BadRequestError(param="model") listing the known ones
    return canonical


def _bare_candidates(model: str) -> list[ModelSpec]:
    found: dict[str, ModelSpec] = {}
    for spec in load_catalog():
        if spec.provider == "azure":
            continue
        names = {spec.model, *(alias.partition("/")[2] for alias in spec.aliases)}
        if model in names:
            found[spec.id] = spec
    return list(found.values())


def _spec_for(provider: str, model: str, config: ClientConfig) -> ModelSpec:
    spec = find_model(f"{provider}/{model}")
    if spec is not None:
        return spec
    if provider == "azure":
        # An Azure model is a deployment name; the deployed model is sora-2 unless base_model says otherwise.
        base = config.base_model or "sora-2"
        base_spec = find_model(base if "/" in base else f"azure/{base}")
        if base_spec is None:
            known = ", ".join(s.model for s in models_for_provider("azure"))
            raise BadRequestError(
                f"Unknown base_model '{base}'. Known Azure models: {known}.", param="base_model"
            )
        return base_spec
    known = ", ".join(s.id for s in models_for_provider(provider)) or "(none)"
    raise BadRequestError(
        f"Unknown model '{provider}/{model}'. Known {provider} models: {known}.", param="model"
    )


def resolve_model(model: object, config: ClientConfig) -> Route:
    """Which provider serves ``model``, and its catalogue row (None in proxy mode)."""
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError(f"Missing required parameter: 'model'. {_NAMING_HELP}", param="model")
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
    raise BadRequestError(f"Unknown model '{model}'. {_NAMING_HELP}", param="model")


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
        if spec is None and provider == "azure":
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


def _missing_key(names: str | tuple[str, ...], provider: str) -> AuthenticationError:
    listed = " or ".join((names,) if isinstance(names, str) else names)
    return AuthenticationError(
        f"No API key for provider '{provider}': pass api_key=..., set vidgate.api_key, or set {listed}.",
        code="missing_api_key",
        provider=provider,
    )


def proxy_base(url: str) -> str:
    """A gateway URL as the OpenAI ``/v1`` root: ``http://host:4000`` -> ``http://host:4000/v1``."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def credentials(route: Route, config: ClientConfig) -> Credentials:
    """Credentials for ``route``: arguments, then module attributes, then environment variables."""
    key = config.api_key or module_setting("api_key")
    base = config.api_base or module_setting("api_base")
    headers = dict(config.extra_headers)
    name = route.provider
    if route.proxy:
        key = key or settings.env(settings.OPENAI_API_KEY)
        if not key:
            raise _missing_key(settings.OPENAI_API_KEY, "gateway")
        assert base is not None
        return Credentials(
            api_key=key, api_base=proxy_base(base), organization=config.organization, extra_headers=headers
        )
    if name == "local":
        # Its api_base is a directory: only an explicit argument, never a module-wide gateway URL.
        return Credentials(api_base=config.api_base, extra_headers=headers)
    if name == "openai":
        key = key or settings.env(settings.OPENAI_API_KEY)
        if not key:
            raise _missing_key(settings.OPENAI_API_KEY, name)
        base = base or settings.env(settings.OPENAI_BASE_URL) or DEFAULT_BASES["openai"]
        return Credentials(
            api_key=key, api_base=base, organization=config.organization, extra_headers=headers
        )
    if name == "azure":
        key = key or settings.env(settings.AZURE_API_KEY)
        if not key:
            raise _missing_key(settings.AZURE_API_KEY, name)
        base = base or settings.env(settings.AZURE_API_BASE)
        if not base:
            raise BadRequestError(
                "No Azure endpoint: pass api_base='https://RESOURCE.openai.azure.com' "
                "or set AZURE_OPENAI_API_BASE.",
                param="api_base",
            )
        version = config.api_version or settings.env(settings.AZURE_API_VERSION)
        return Credentials(api_key=key, api_base=base, api_version=version, extra_headers=headers)
    if name == "gemini":
        key = key or settings.env(settings.GEMINI_API_KEY)
        if not key:
            raise _missing_key(settings.GEMINI_API_KEY, name)
        base = base or settings.env(settings.GEMINI_API_BASE) or DEFAULT_BASES["gemini"]
        return Credentials(api_key=key, api_base=base, extra_headers=headers)
    if name == "vertex_ai":
        return _vertex_credentials(config, base, headers)
    # A plugin provider: pass through what was configured; the adapter decides what it needs.
    return Credentials(api_key=key, api_base=base, api_version=config.api_version, extra_headers=headers)


def _vertex_credentials(config: ClientConfig, base: str | None, headers: dict[str, str]) -> Credentials:
    """Project and location from arguments or env. The Bearer token, when not given, is filled in just
    before the call by ``transport.google_auth`` (env var or application-default credentials)."""
    project = config.vertex_project or settings.env(settings.VERTEX_PROJECT)
    if not project:
        raise BadRequestError(
            "No Vertex AI project: pass vertex_project=... or set VERTEXAI_PROJECT.", param="vertex_project"
        )
    location = config.vertex_location or settings.env(settings.VERTEX_LOCATION) or DEFAULT_VERTEX_LOCATION
    return Credentials(
        api_base=base or settings.env(settings.VERTEX_API_BASE),
        project=project,
        location=location,
        access_token=config.vertex_access_token,
        extra_headers=headers,
    )
