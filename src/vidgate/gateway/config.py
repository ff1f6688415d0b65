"""The gateway's config file (the seed documents' format) and the default config of ``vidgate serve``.

Rules worth knowing:

- Values ``os.environ/NAME`` are read from the environment at start-up; a missing variable is an error.
- Every deployment resolves to a row of the model catalogue: its ``model`` (``provider/model``), or
  ``base_model`` when the provider's name differs (an Azure deployment name). A model the catalogue
  does not know is refused, even with a price: the row also says which durations and sizes to accept,
  and without it requests could not be validated or costed. ``output_cost_per_second`` overrides the
  catalogue's price for that deployment (per second and per token); ``output_cost_per_video`` replaces it
  with a flat price per video (plus the per-second rate when both are set).
- A row with ``priced_by: deployment`` has no catalogue price: a deployment serving it must set
  ``output_cost_per_second`` or ``output_cost_per_video`` (else a ConfigError naming the path). A row's
  ``features_priced_by_deployment`` (e.g. reference videos billed by their unknown length) and
  ``sizes_priced_by_deployment`` (e.g. BytePlus Seedance 4k, no token price known) are offered only by
  deployments that set their own price.
- A provider with an open model namespace (``ProviderSpec.open_models``: fal, Replicate,
  openai_compatible) serves any model its catalogue lacks, from its package's ``open_model``
  template or from the deployment's declared ``sizes``/``seconds``/``default_size``/
  ``default_seconds`` (absent and no template: any value), at the deployment's price
  (``output_cost_per_second`` or ``output_cost_per_video``), which is then required.
- A deployment's provider settings (``api_key``, ``vertex_project``, ...) are validated by the
  provider's config model (``ProviderSpec.config``); settings missing from an entry are taken once, at
  start-up, from the environment variables that model declares and pinned to the deployment;
  follow-ups never look anywhere else. ``allow_retired: true`` keeps serving a retired model.
- LiteLLM configs load unchanged (``gateway/litellm_keys.py``): LiteLLM keys vidgate does not implement
  are dropped with one start-up warning naming each; ``litellm_settings.num_retries`` / ``fallbacks`` /
  ``allowed_fails`` / ``cooldown_time`` and ``router_settings.redis_url`` take effect. Keys nobody knows
  are errors with the closest known key (a typo must not be silently ignored). Every error names its
  path, e.g. ``model_list[1].litellm_params.model: unknown provider 'foo'``.
- ``videos_settings`` (LiteLLM's credentials per provider for the /videos endpoints) serves every
  catalogue model of that provider under its bare and ``provider/model`` names, unless ``model_list``
  already names it. A ``priced_by: deployment`` row is served only if the entry sets a price; else it is
  left out with one start-up warning naming it (``GatewayConfig.unpriced_models``).
- A master key shorter than 16 characters (the examples' ``sk-1234``) is accepted, from the config or
  from ``VIDGATE_MASTER_KEY`` alike, with a loud start-up warning.
- A deployment's id is ``model_info.id`` or a hash of what identifies the upstream (public name,
  provider, model, base URL, version, project, location, key hash), so it survives restarts and
  reordering; jobs are pinned to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vidgate.catalog import ModelSpec
from vidgate.gateway import litellm_keys
from vidgate.gateway.guardrails.loading import ConfiguredGuardrail, load_guardrails
from vidgate.gateway.litellm_keys import (
    LITELLM_RENAMED_TO_ROUTER,
    LITELLM_TO_ROUTER,
    Section,
    UnknownKeyError,
    sort_keys,
)
from vidgate.gateway.observability import Observability, read_observability
from vidgate.gateway.routing import ROUTING_STRATEGIES, Deployment, Router
from vidgate.providers.base import Credentials
from vidgate.providers.catalogue import find_model, models_for_provider
from vidgate.providers.registry import canonical, get_spec, provider_names, specs
from vidgate.providers.spec import MissingSetting, UnknownSetting

ENV_PREFIX = "os.environ/"
MAX_TIMEOUT_SECONDS = 3600.0  # a provider call waiting longer than an hour for bytes is a dead one
DEFAULT_DATABASE_URL = "sqlite:///./vidgate.db"  # SQLite through pysqlite; sqlite+aiosqlite:// works too
DEFAULT_CONTENT_DIR = "./data/content"
DEFAULT_BODY_TIMEOUT = 30.0  # seconds a request body may go without bytes (nginx's client_body_timeout: 60)
WEAK_MASTER_KEY_CHARS = 16


class ConfigError(Exception):
    """A config that cannot start the gateway; the message names the offending path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeploymentParams(BaseModel):
    """What every deployment has. Any other key is the provider's own setting, validated by its
    config model (``ProviderSpec.config``): unknown ones are errors naming the provider's fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    model: str
    base_model: str | None = None
    allow_retired: bool = False  # keep serving the model after its catalogue retirement date
    output_cost_per_second: Decimal | None = Field(default=None, ge=0)
    # a flat USD price per generated video (replaces the row's ``price_per_video``)
    output_cost_per_video: Decimal | None = Field(default=None, ge=0)
    # What a model of an open-namespace provider that the catalogue lacks accepts (absent: any value)
    sizes: list[str] | None = None
    seconds: list[int] | None = None
    default_size: str | None = None
    default_seconds: int | None = Field(default=None, gt=0)
    rpm: int | None = Field(default=None, gt=0)
    weight: float = Field(default=1.0, ge=0)
    extra_headers: dict[str, str] = Field(default_factory=dict)
    # LiteLLM's drop_params for this deployment (None: ``litellm_settings.drop_params``)
    drop_params: bool | None = None
    # The provider calls the gateway back (``{public_base_url}/provider_callbacks/...``) instead of
    # being polled; needs general_settings.public_base_url and a provider that can call back.
    provider_callbacks: bool = False
    # LiteLLM's ``timeout``: the longest wait in seconds for this deployment's provider to connect or
    # send its next bytes (None: ``router_settings.timeout``, else the transport's 600 s)
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS, strict=True)


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: str | None = None


class ModelEntry(_Strict):
    model_name: str = Field(min_length=1)
    litellm_params: DeploymentParams | None = None
    params: DeploymentParams | None = None
    model_info: ModelInfo = Field(default_factory=ModelInfo)

    @model_validator(mode="after")
    def _one_params(self) -> ModelEntry:
        if (self.litellm_params is None) == (self.params is None):
            raise ValueError("give exactly one of 'litellm_params' or 'params'")
        return self

    @property
    def deployment(self) -> DeploymentParams:
        chosen = self.litellm_params or self.params
        assert chosen is not None
        return chosen

    @property
    def params_key(self) -> str:
        return "litellm_params" if self.litellm_params is not None else "params"


class GeneralSettings(_Strict):
    master_key: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    content_dir: str = DEFAULT_CONTENT_DIR
    webhook_url: str | None = None  # video.completed / video.failed events go here, signed
    webhook_secret: str | None = None
    # Where clients reach this gateway: Google-form file URIs the pass-through returns (Veo operations'
    # samples, Omni interactions' ``output_video``) use it
    # (``{public_base_url}/gemini/v1beta/files/{id}:download?alt=media``) instead of Google's host.
    public_base_url: str | None = None
    # per-job ``callback_url``s may name private/loopback hosts (on-prem receivers, tests)
    allow_private_callback_urls: bool = False
    # Seconds a request body may go without its next bytes: a client that sends part of its body and
    # stalls is answered 408 and its connection closed, instead of holding both forever.
    request_body_timeout: float = Field(
        default=DEFAULT_BODY_TIMEOUT, gt=0, le=MAX_TIMEOUT_SECONDS, strict=True
    )

    @field_validator("public_base_url")
    @classmethod
    def _public_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"must be an http(s) URL without query or fragment, got '{value}'")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _webhook_pair(self) -> GeneralSettings:
        if self.webhook_url is not None and not self.webhook_secret:
            raise ValueError("webhook_url needs webhook_secret (the key events are signed with)")
        if self.webhook_url is not None and not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError(f"webhook_url must be an http(s) URL, got '{self.webhook_url}'")
        return self

    @field_validator("master_key")
    @classmethod
    def _key_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty (leave it out to get a generated key)")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError(
                f"unsupported database '{scheme}': use sqlite:///path.db or postgresql://user@host/db"
            )
        return value


class RouterSettings(_Strict):
    routing_strategy: Literal["simple-shuffle", "least-busy"] = "simple-shuffle"
    fallbacks: list[dict[str, list[str]]] = Field(default_factory=list)
    cooldown_time: float = Field(default=30.0, ge=0)  # seconds a failing deployment is avoided
    allowed_fails: int = Field(default=0, ge=0)  # failures in a row tolerated before a cooldown
    # other deployments of the same model tried after an upstream failure (each fallback model gets
    # as many); retries of the same deployment are the transport's (429/503, Retry-After honoured)
    num_retries: int = Field(default=2, ge=0, le=10)
    # LiteLLM's ``timeout`` for every deployment without its own (``litellm_params.timeout``)
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS, strict=True)


class LoggingSettings(_Strict):
    request_logging: bool = False
    # LiteLLM's drop_params: a parameter the model has no support for is left out (and named in the
    # ``x-vidgate-dropped-params`` response header) instead of a 400
    drop_params: bool = False
    # LiteLLM's callback lists (``gateway/observability.py`` says which names are implemented)
    success_callback: list[str] = Field(default_factory=list)
    failure_callback: list[str] = Field(default_factory=list)
    callbacks: list[str] = Field(default_factory=list)


class ConfigFile(_Strict):
    model_list: list[ModelEntry] = Field(default_factory=list)
    general_settings: GeneralSettings = Field(default_factory=GeneralSettings)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    litellm_settings: LoggingSettings = Field(default_factory=LoggingSettings)
    guardrails: list[Any] = Field(default_factory=list)  # built by ``guardrails.loading``
    callback_settings: dict[str, Any] = Field(default_factory=dict)


class GatewayConfig(BaseModel):
    """The validated config: the file's sections plus the resolved deployments."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    deployments: tuple[Deployment, ...]
    master_key: str | None
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    content_dir: Path = Path(DEFAULT_CONTENT_DIR)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    request_logging: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    public_base_url: str | None = None  # general_settings.public_base_url (normalised, no trailing /)
    allow_private_callback_urls: bool = False
    request_body_timeout: float = DEFAULT_BODY_TIMEOUT  # general_settings.request_body_timeout
    master_key_generated: bool = False  # True when vidgate made one up (print it once)
    ignored_settings: tuple[str, ...] = ()  # LiteLLM keys present in the file that vidgate does not apply
    # ``priced_by: deployment`` rows a videos_settings entry without a price leaves out
    unpriced_models: tuple[str, ...] = ()
    guardrails: tuple[ConfiguredGuardrail, ...] = ()
    observability: Observability = Field(default_factory=Observability)

    def startup_warnings(self) -> list[str]:
        """What ``vidgate serve`` prints once before serving: ignored LiteLLM keys and callbacks, a
        guessable master key."""
        out: list[str] = []
        if self.ignored_settings:
            out.append(
                "these LiteLLM settings are not implemented by vidgate and have no effect: "
                + ", ".join(self.ignored_settings)
            )
        if self.observability.ignored_callbacks:
            out.append(
                "these LiteLLM callbacks are not implemented by vidgate and are not called: "
                + ", ".join(self.observability.ignored_callbacks)
            )
        if self.unpriced_models:
            out.append(
                "videos_settings does not serve these models: they have no catalogue price and the entry "
                "sets none (add output_cost_per_second or output_cost_per_video to the entry, or a "
                "model_list entry with one): " + ", ".join(self.unpriced_models)
            )
        weak = weak_master_key(self.master_key)
        if weak:
            out.append(weak)
        return out

    def fallbacks(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for item in self.router_settings.fallbacks:
            for name, targets in item.items():
                merged.setdefault(name, []).extend(targets)
        return merged

    def router(self, clock: Callable[[], float] = time.time) -> Router:
        rs = self.router_settings
        return Router(
            self.deployments,
            strategy=rs.routing_strategy,
            fallbacks=self.fallbacks(),
            cooldown_time=rs.cooldown_time,
            allowed_fails=rs.allowed_fails,
            clock=clock,
        )


# ---- loading -------------------------------------------------------------------------------------


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read and validate a YAML config file; ConfigError (with the file, line or field) when wrong."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    try:
        return parse_config(data if data is not None else {}, environ)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from exc


def parse_config(data: Any, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Validate an already-parsed config mapping."""
    env_map = os.environ if environ is None else environ
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping with model_list, general_settings, ...")
    try:
        known, ignored = sort_keys(data, _schema())
    except UnknownKeyError as exc:
        raise ConfigError(str(exc)) from exc
    resolved = _translate_litellm(_resolve_env(known, "", env_map))
    resolved, origins, unpriced = _expand_videos_settings(resolved)
    try:
        try:
            parsed = ConfigFile.model_validate(resolved)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{_path(first['loc'])}: {_message(first)}") from exc
        deployments = _deployments(parsed, env_map)
    except ConfigError as exc:
        raise ConfigError(_origin(str(exc), origins)) from exc
    _check_fallbacks(parsed, {d.model_name for d in deployments})
    try:
        guardrails = load_guardrails(parsed.guardrails)
        observability = read_observability(
            parsed.litellm_settings.model_dump(), parsed.callback_settings, env_map
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    gs = parsed.general_settings
    _check_provider_callbacks(parsed, deployments)
    return GatewayConfig(
        deployments=tuple(deployments),
        master_key=gs.master_key,
        database_url=gs.database_url,
        redis_url=gs.redis_url,
        content_dir=Path(gs.content_dir),
        router_settings=parsed.router_settings,
        request_logging=parsed.litellm_settings.request_logging,
        webhook_url=gs.webhook_url,
        webhook_secret=gs.webhook_secret,
        public_base_url=gs.public_base_url,
        allow_private_callback_urls=gs.allow_private_callback_urls,
        request_body_timeout=gs.request_body_timeout,
        ignored_settings=tuple(ignored),
        unpriced_models=unpriced,
        guardrails=guardrails,
        observability=observability,
    )


def default_config(*, master_key: str | None = None) -> GatewayConfig:
    """``vidgate serve`` with no config: every local catalogue model (as ``local-1`` and
    ``local/local-1``), SQLite ``./vidgate.db``, content in ``./data/content``, and a generated master
    key (printed once by the CLI, never written anywhere: a restart without config makes a new one;
    virtual keys live in the database and survive)."""
    model_list: list[dict[str, Any]] = []
    for spec in models_for_provider("local"):
        for name in (spec.model, spec.id):
            model_list.append({"model_name": name, "litellm_params": {"model": spec.id}})
    config = parse_config({"model_list": model_list}, environ={})
    generated = master_key is None
    return config.model_copy(
        update={"master_key": master_key or generate_master_key(), "master_key_generated": generated}
    )


def generate_master_key() -> str:
    return "sk-" + secrets.token_urlsafe(32)


def weak_master_key(key: str | None) -> str | None:
    """The warning for a guessable master key (one rule for the config file and VIDGATE_MASTER_KEY)."""
    if key is None or len(key) >= WEAK_MASTER_KEY_CHARS:
        return None
    return (
        f"WARNING: the master key is only {len(key)} characters long; anyone who guesses it is an admin "
        f"of this gateway. Use {WEAK_MASTER_KEY_CHARS}+ random characters (or leave it out to get one)."
    )


# ---- LiteLLM compatibility -----------------------------------------------------------------------


def _deployment_keys() -> frozenset[str]:
    """The keys a deployment may have: the common ones and every installed provider's settings (each
    entry is then validated by its own provider's config model)."""
    provider_keys = {name for spec in specs().values() for name in spec.config.model_fields}
    return frozenset(DeploymentParams.model_fields) | provider_keys


def _schema() -> Section:
    """The config's key schema (built per parse: plugins may be installed at run time)."""
    deployment_keys = _deployment_keys()
    deployment = Section(deployment_keys, litellm_keys.LITELLM_PARAMS)
    return Section(
        implemented=frozenset(ConfigFile.model_fields) | {"videos_settings"},
        litellm_only=litellm_keys.LITELLM_TOP_LEVEL,
        children={
            "general_settings": Section(
                frozenset(GeneralSettings.model_fields), litellm_keys.GENERAL_SETTINGS
            ),
            "router_settings": Section(
                frozenset(RouterSettings.model_fields) | {"redis_url"}, litellm_keys.ROUTER_SETTINGS
            ),
            "litellm_settings": Section(
                frozenset(LoggingSettings.model_fields)
                | set(LITELLM_TO_ROUTER)
                | set(LITELLM_RENAMED_TO_ROUTER),
                litellm_keys.LITELLM_SETTINGS,
            ),
        },
        list_children={
            "model_list": Section(
                frozenset(ModelEntry.model_fields),
                children={"litellm_params": deployment, "params": deployment},
            ),
            "videos_settings": Section(
                (deployment_keys - {"model", "base_model"}) | {"custom_llm_provider"},
                litellm_keys.LITELLM_PARAMS,
            ),
        },
    )


def _translate_litellm(data: dict[str, Any]) -> dict[str, Any]:
    """LiteLLM's spellings of settings vidgate implements, moved to vidgate's (vidgate's own win)."""
    out = dict(data)
    litellm = dict(out.get("litellm_settings") or {})
    router = dict(out.get("router_settings") or {})
    general = dict(out.get("general_settings") or {})
    for key in LITELLM_TO_ROUTER:
        if key in litellm:
            value = litellm.pop(key)
            router.setdefault(key, value)
    for key, name in LITELLM_RENAMED_TO_ROUTER.items():
        if key in litellm:
            value = litellm.pop(key)
            _check_seconds(f"litellm_settings.{key}", value)  # named as written, not as moved
            router.setdefault(name, value)
    if "redis_url" in router:
        general.setdefault("redis_url", router.pop("redis_url"))
    for name, section in (
        ("litellm_settings", litellm),
        ("router_settings", router),
        ("general_settings", general),
    ):
        if section or name in out:
            out[name] = section
    return out


def _check_seconds(path: str, value: Any) -> None:
    """A timeout as the config's own ``timeout`` fields take it: a number (not a bool), 0 < t <= 3600."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            f"{path}: must be a number of seconds, 0 < t <= {MAX_TIMEOUT_SECONDS:g}, got {value!r}"
        )


def _expand_videos_settings(data: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int], tuple[str, ...]]:
    """``videos_settings`` entries as model_list entries: every catalogue model of the provider, by
    bare and ``provider/model`` name, unless model_list names it. A ``priced_by: deployment`` row is
    served only when the entry sets a price (``output_cost_per_second``/``_per_video``); otherwise it is
    left out and named (one start-up warning): the entry was written for the provider's catalogue
    prices, and failing the whole config because a row without one exists would break it on upgrade.
    Returns the new data, per added model_list index the videos_settings index it came from (for
    error paths), and the rows left out (``videos_settings[i]: provider/model``)."""
    entries = data.get("videos_settings")
    out = {k: v for k, v in data.items() if k != "videos_settings"}
    if entries is None:
        return out, {}, ()
    if not isinstance(entries, list):
        raise ConfigError("videos_settings: expected a list of {custom_llm_provider, api_key, ...}")
    model_list = list(out.get("model_list") or [])
    taken = {e.get("model_name") for e in model_list if isinstance(e, dict)}
    origins: dict[int, int] = {}
    unpriced: list[str] = []
    for index, entry in enumerate(entries):
        where = f"videos_settings[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with custom_llm_provider, api_key, ...")
        provider = entry.get("custom_llm_provider")
        if not isinstance(provider, str) or not provider:
            raise ConfigError(f"{where}.custom_llm_provider: required setting is missing")
        name = canonical(provider)
        if name is None:
            raise ConfigError(
                f"{where}.custom_llm_provider: unknown provider '{provider}' "
                f"(known: {', '.join(provider_names())})"
            )
        params = {k: v for k, v in entry.items() if k != "custom_llm_provider"}
        priced = any(params.get(key) is not None for key in _DEPLOYMENT_PRICES)
        for spec in models_for_provider(name):
            if spec.deployment_priced and not priced:
                unpriced.append(f"{where}: {spec.id}")
                continue
            for name in (spec.model, spec.id):
                if name in taken:
                    continue
                taken.add(name)
                origins[len(model_list)] = index
                model_list.append({"model_name": name, "litellm_params": {**params, "model": spec.id}})
    out["model_list"] = model_list
    return out, origins, tuple(unpriced)


def _origin(message: str, origins: Mapping[int, int]) -> str:
    """An error about a model_list entry made from videos_settings, named by its videos_settings path."""
    match = re.match(r"model_list\[(\d+)\](\.litellm_params)?", message)
    if match is None or int(match.group(1)) not in origins:
        return message
    return f"videos_settings[{origins[int(match.group(1))]}]" + message[match.end() :]


# ---- helpers -------------------------------------------------------------------------------------


def _path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling)"
    if kind == "missing":
        return "required setting is missing"
    msg = str(error.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def _resolve_env(value: Any, path: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        found = environ.get(name)
        if not found:
            raise ConfigError(f"{path or '(top level)'}: environment variable {name} is not set")
        return found
    if isinstance(value, dict):
        return {k: _resolve_env(v, f"{path}.{k}" if path else str(k), environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, f"{path}[{i}]", environ) for i, v in enumerate(value)]
    return value


_OPEN_ROW_KEYS = ("sizes", "seconds", "default_size", "default_seconds")
_DEPLOYMENT_PRICES = ("output_cost_per_second", "output_cost_per_video")


def _spec_for(provider: str, p: DeploymentParams, model: str, where: str) -> ModelSpec:
    spec = _catalogue_spec(provider, p, model, where)
    declared = [key for key in _OPEN_ROW_KEYS if getattr(p, key) is not None]
    if spec is not None:
        if declared:
            raise ConfigError(
                f"{where}.{declared[0]}: only for a model the catalogue does not describe; {spec.id}'s "
                "sizes and durations are its catalogue row's"
            )
        return _deployment_priced(spec, p, where)
    provider_spec = get_spec(provider)
    if not provider_spec.open_models:
        raise ConfigError(
            f"{where}.model: '{provider}/{model}' is not in the model catalogue; set base_model to the "
            f"catalogue model it serves (e.g. {_examples(provider)}) so requests can be validated and costed"
        )
    if p.output_cost_per_second is None and p.output_cost_per_video is None:
        raise ConfigError(
            f"{where}.output_cost_per_second: '{provider}/{model}' is not in the model catalogue; the "
            f"{provider} provider serves any model, priced by the deployment: set output_cost_per_second "
            "or output_cost_per_video (USD per second of video, or per video; 0 if it costs nothing)"
        )
    try:
        row = provider_spec.open_row(
            model,
            per_second=p.output_cost_per_second,
            per_video=p.output_cost_per_video,
            sizes=p.sizes,
            seconds=p.seconds,
            default_size=p.default_size,
            default_seconds=p.default_seconds,
        )
    except ValueError as exc:
        message = str(exc).removeprefix(f"catalogue row {provider}/{model}: ")
        key = next((k for k in _OPEN_ROW_KEYS if k in message), declared[0] if declared else "model")
        raise ConfigError(f"{where}.{key}: {message}") from exc
    assert row is not None
    return row


def _catalogue_spec(provider: str, p: DeploymentParams, model: str, where: str) -> ModelSpec | None:
    """The catalogue row the deployment serves (None: the catalogue does not list the model)."""
    base_model = p.base_model
    if base_model is not None:
        candidate = base_model if "/" in base_model else f"{provider}/{base_model}"
        spec = find_model(candidate)
        if spec is None:
            raise ConfigError(
                f"{where}.base_model: '{base_model}' is not in the model catalogue "
                f"(see `vidgate models`; e.g. {_examples(provider)})"
            )
        return spec
    return find_model(f"{provider}/{model}")


def _deployment_priced(spec: ModelSpec, p: DeploymentParams, where: str) -> ModelSpec:
    """The row as this deployment prices it. Its own price replaces the catalogue's: a flat price per
    video replaces every catalogue price; a per-second rate (applied at pricing) replaces the per-second
    and per-token prices (per-input surcharges stay). A deployment with a price of its own also offers the
    row's deployment-priced features and sizes; a ``priced_by: deployment`` row needs that price."""
    if p.output_cost_per_second is None and p.output_cost_per_video is None:
        if spec.deployment_priced:
            raise ConfigError(
                f"{where}.output_cost_per_second: {spec.id} has no catalogue price, it is priced by the "
                "deployment: set output_cost_per_second or output_cost_per_video (USD per second of "
                "video, or per video)"
            )
        return spec
    spec = replace(
        spec.with_deployment_price(),
        price_per_output_token=None,
        output_token_prices={},
        output_tokens_per_second={},
        output_token_prices_with_video={},
        prices_with_video={},  # the deployment's one rate, with or without an input video
    )
    if p.output_cost_per_video is None:
        return spec
    return replace(
        spec,
        prices={},
        prices_no_audio={},
        price_per_input={},
        price_per_video=p.output_cost_per_video,
    )


def _examples(provider: str) -> str:
    known = [s.id for s in models_for_provider(provider)][:3]
    return ", ".join(known) if known else "openai/sora-2"


def _credentials(provider: str, p: DeploymentParams, where: str, environ: Mapping[str, str]) -> Credentials:
    """The provider's own settings of this entry, validated by its config model and completed from the
    environment variables it declares."""
    config = get_spec(provider).config
    given = dict(p.model_extra or {})
    try:
        resolved = config.resolve(provider, given, environ)
    except MissingSetting as exc:
        raise ConfigError(f"{where}.{exc.name}: {exc}") from exc
    except UnknownSetting as exc:
        raise ConfigError(f"{where}.{exc.name}: {exc}") from exc
    return resolved.credentials(p.extra_headers)


def _deployment_id(name: str, provider: str, model: str, creds: Credentials) -> str:
    key_hash = hashlib.sha256((creds.api_key or "").encode()).hexdigest()
    ident = [
        name,
        provider,
        model,
        creds.api_base,
        creds.api_version,
        creds.project,
        creds.location,
        key_hash,
    ]
    return "dep-" + hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]


def _deployments(parsed: ConfigFile, environ: Mapping[str, str]) -> list[Deployment]:
    out: list[Deployment] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(parsed.model_list):
        where = f"model_list[{index}].{entry.params_key}"
        p = entry.deployment
        provider, sep, model = p.model.partition("/")
        if not sep or not model:
            raise ConfigError(
                f"{where}.model: expected 'provider/model' (e.g. openai/sora-2), got '{p.model}'"
            )
        name = canonical(provider)
        if name is None:
            raise ConfigError(
                f"{where}.model: unknown provider '{provider}' (known: {', '.join(provider_names())})"
            )
        spec = _spec_for(name, p, model, where)
        if spec.provider != name:
            raise ConfigError(
                f"{where}.base_model: '{spec.id}' belongs to provider '{spec.provider}', not '{name}'"
            )
        creds = _credentials(name, p, where, environ)
        dep_id = entry.model_info.id or _deployment_id(entry.model_name, name, model, creds)
        if dep_id in seen:
            raise ConfigError(
                f"model_list[{index}]: same deployment as {seen[dep_id]} (id '{dep_id}'); "
                "remove the duplicate or give each a distinct model_info.id"
            )
        seen[dep_id] = f"model_list[{index}]"
        out.append(
            Deployment(
                id=dep_id,
                model_name=entry.model_name,
                provider=name,
                model=model,
                spec=spec,
                allow_retired=p.allow_retired,
                credentials=creds,
                price_per_second=p.output_cost_per_second,
                rpm=p.rpm,
                weight=p.weight,
                drop_params=parsed.litellm_settings.drop_params if p.drop_params is None else p.drop_params,
                provider_callbacks=p.provider_callbacks,
                timeout=p.timeout if p.timeout is not None else parsed.router_settings.timeout,
            )
        )
    return out


def _check_provider_callbacks(parsed: ConfigFile, deployments: list[Deployment]) -> None:
    """``provider_callbacks: true`` needs a provider that calls back and a URL it can reach."""
    for index, (entry, dep) in enumerate(zip(parsed.model_list, deployments, strict=True)):
        if not dep.provider_callbacks:
            continue
        where = f"model_list[{index}].{entry.params_key}.provider_callbacks"
        if not get_spec(dep.provider).provider_callbacks:
            able = sorted(name for name, spec in specs().items() if spec.provider_callbacks)
            raise ConfigError(
                f"{where}: the {dep.provider} provider cannot call back (providers that can: "
                f"{', '.join(able)}); remove the setting to poll it"
            )
        if parsed.general_settings.public_base_url is None:
            raise ConfigError(
                f"general_settings.public_base_url: required because {where} is true (the URL providers "
                "call the gateway back at, e.g. https://gateway.example.com)"
            )


def _check_fallbacks(parsed: ConfigFile, names: set[str]) -> None:
    for index, item in enumerate(parsed.router_settings.fallbacks):
        for source, targets in item.items():
            where = f"router_settings.fallbacks[{index}].{source}"
            if source not in names:
                raise ConfigError(f"{where}: no model_list entry is named '{source}'")
            for target in targets:
                if target not in names:
                    raise ConfigError(f"{where}: fallback '{target}' is not a model_name in model_list")


__all__ = [
    "ROUTING_STRATEGIES",
    "ConfigError",
    "GatewayConfig",
    "default_config",
    "generate_master_key",
    "load_config",
    "parse_config",
]
