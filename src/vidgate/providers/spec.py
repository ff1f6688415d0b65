"""``ProviderSpec``: everything one provider brings, as one object its package exports as ``SPEC``.

The registry loads specs from the ``vidgate.providers`` entry-point group only (the built-ins are
registered in ``pyproject.toml`` exactly as a plugin would be), so the core never names a provider:
config validation, SDK credentials, the credential hook, the catalogue, pricing, ``vidgate models``
and ``vidgate emulate`` all read the spec.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from importlib import resources
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidgate.catalog import ModelSpec, parse_catalogue
from vidgate.catalog.loader import open_row
from vidgate.catalog.open import open_model
from vidgate.providers.base import Credentials, Provider

AsyncHook = Callable[[Credentials], Awaitable[Credentials]]
SyncHook = Callable[[Credentials], Credentials]


def setting(
    default: str | None = None,
    *,
    env: tuple[str, ...] = (),
    secret: bool = False,
    required: bool = False,
    help: str = "",
) -> Any:
    """A deployment setting: its environment variables (first non-empty wins), whether it is a secret
    (redacted in logs and errors) and whether the provider cannot work without it."""
    extra = {"env": list(env), "secret": secret, "required": required, "help": help}
    return Field(default=default, json_schema_extra=extra)  # type: ignore[arg-type]


class MissingSetting(Exception):
    """A required setting is absent from the config, the arguments and its environment variables."""

    def __init__(self, provider: str, name: str, env: tuple[str, ...], secret: bool, help: str) -> None:
        self.provider, self.name, self.env, self.secret, self.help = provider, name, env, secret, help
        hint = f" (or set {' or '.join(env)})" if env else ""
        super().__init__(f"the {provider} provider needs {help or name}{hint}")


class UnknownSetting(Exception):
    """A setting the provider's config model does not know or rejects; ``name`` is the setting."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


class ProviderConfig(BaseModel):
    """Base of a provider's deployment settings. Subclasses declare fields with ``setting(...)`` and
    turn themselves into ``Credentials`` (the only shape adapters see)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # False: module-wide SDK defaults (``vidgate.api_base``, ``vidgate.api_key``) do not apply (the
    # local provider's api_base is a directory, never a gateway URL).
    uses_module_defaults: ClassVar[bool] = True

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.model_fields)

    @classmethod
    def _meta(cls, name: str) -> dict[str, Any]:
        extra = cls.model_fields[name].json_schema_extra
        return dict(extra) if isinstance(extra, dict) else {}

    @classmethod
    def env_names(cls, name: str) -> tuple[str, ...]:
        return tuple(str(e) for e in cls._meta(name).get("env", []))

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return frozenset(n for n in cls.model_fields if cls._meta(n).get("secret"))

    @classmethod
    def resolve(cls, provider: str, given: Mapping[str, Any], environ: Mapping[str, str]) -> ProviderConfig:
        """Validate ``given`` (unknown names are UnknownSetting), fill what is absent from the declared
        environment variables, and check required settings (MissingSetting names the field and env)."""
        unknown = sorted(set(given) - set(cls.model_fields))
        if unknown:
            raise UnknownSetting(
                unknown[0],
                f"unknown setting for provider '{provider}' (known: {', '.join(cls.field_names())})",
            )
        values = {k: v for k, v in given.items() if v is not None}
        for name in cls.model_fields:
            if name not in values:
                found = next((environ[e] for e in cls.env_names(name) if environ.get(e)), None)
                if found is not None:
                    values[name] = found
        try:
            config = cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UnknownSetting(".".join(str(p) for p in first["loc"]), str(first["msg"])) from exc
        config.check_required(provider)
        return config

    def check_required(self, provider: str) -> None:
        """Raise MissingSetting for the first required setting left empty (override for either/or)."""
        for name in type(self).model_fields:
            meta = self._meta(name)
            if meta.get("required") and not getattr(self, name):
                raise MissingSetting(
                    provider, name, self.env_names(name), bool(meta.get("secret")), str(meta.get("help", ""))
                )

    def redacted(self) -> dict[str, Any]:
        """The settings with every secret masked (for logs and error reports)."""
        secrets = self.secret_fields()
        return {
            name: ("***" if name in secrets and value else value) for name, value in self.model_dump().items()
        }

    @abstractmethod
    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        """The ``Credentials`` the adapter receives (the only shape adapters see)."""


@dataclass(frozen=True)
class ProviderSpec:
    """One provider. ``package`` is the module whose ``models.yaml`` holds its catalogue rows.

    - ``adapter``: makes the sans-I/O ``Provider``.
    - ``config``: the pydantic model of its deployment settings.
    - ``authorize`` / ``authorize_sync``: the credential hook, run before every flow that calls the
      provider (OAuth refresh, JWT signing); may raise AuthenticationError.
    - ``emulator``: ``"module:create_app"`` of its ASGI emulator (loaded only by ``vidgate emulate``
      and tests, so importing a spec never imports Starlette); ``emulator_port`` and ``emulator_env``
      (``{url}``/``{key}`` placeholders) say how to point vidgate at it.
    - ``bare_names``: False when the model name is the caller's own deployment name (Azure), so a bare
      model name never resolves to this provider; ``default_base_model`` is then the row it serves.
    - ``open_models``: any model name is a model (aggregators host hundreds; a self-hosted engine serves
      whatever it loaded). A name the catalogue does not list gets its row from the deployment's
      declared ``sizes``/``seconds`` (``catalog.open_model``), else from the package's ``open_model``
      template of ``models.yaml`` (durations, sizes, features), else accepts any size and duration
      with ``open_features``; its price is the deployment's (``output_cost_per_second`` or
      ``output_cost_per_video``), which is then required. Listed models keep their own rows.
    - ``provider_callbacks``: the provider can call the gateway back when a job ends (its adapter is a
      ``CallbackReader``), so a deployment may set ``provider_callbacks: true``.
    - ``blocking``: the adapter's flows do their work on this machine (files, image decoding,
      rendering) and make no HTTP call, so the gateway runs them in a worker thread: on the event loop
      that work would hold every other request (a 12-megapixel PNG's decode took 238 ms).
    - ``native``: the codec of the provider's own API for the gateway's native pass-through routes
      (Google's: ``_google_wire.native.GoogleNative``, mounted at its ``mount``), or None. The gateway
      and the server dispatch through it (the codec types they serve) and never name the provider.
    """

    name: str
    package: str
    adapter: Callable[[], Provider]
    config: type[ProviderConfig]
    aliases: tuple[str, ...] = ()
    authorize: AsyncHook | None = None
    authorize_sync: SyncHook | None = None
    emulator: str | None = None
    emulator_port: int | None = None
    emulator_env: tuple[str, ...] = ()
    bare_names: bool = True
    default_base_model: str | None = None
    open_features: frozenset[str] = frozenset()
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    open_models: bool = False
    provider_callbacks: bool = False
    blocking: bool = False
    native: object | None = None

    @cached_property
    def models(self) -> tuple[ModelSpec, ...]:
        """The catalogue rows of ``<package>/models.yaml`` (each id must start with ``name/``)."""
        text = resources.files(self.package).joinpath("models.yaml").read_text(encoding="utf-8")
        rows = parse_catalogue(text)
        for row in rows:
            if row.provider != self.name:
                raise ValueError(f"{self.package}/models.yaml: row {row.id} is not a '{self.name}/' model")
        return rows

    @cached_property
    def open_template(self) -> dict[str, Any] | None:
        """The ``open_model`` template row of ``models.yaml``, if the package has one."""
        text = resources.files(self.package).joinpath("models.yaml").read_text(encoding="utf-8")
        template = (yaml.safe_load(text) or {}).get("open_model")
        if template is not None and not isinstance(template, dict):
            raise ValueError(f"{self.package}/models.yaml: 'open_model:' must be a template row")
        return dict(template) if template is not None else None

    def open_row(
        self,
        model: str,
        *,
        per_second: Decimal | None = None,
        per_video: Decimal | None = None,
        sizes: Sequence[str] | None = None,
        seconds: Sequence[int] | None = None,
        default_size: str | None = None,
        default_seconds: int | None = None,
    ) -> ModelSpec | None:
        """The row serving an unlisted ``model`` at the deployment's price (None: the namespace is
        closed): from the deployment's declared sizes/durations, else the package's template, else open."""
        if not self.open_models:
            return None
        declared = (sizes, seconds, default_size, default_seconds)
        template = self.open_template
        if template is not None and all(value is None for value in declared):
            return open_row(template, f"{self.name}/{model}", per_second=per_second, per_video=per_video)
        features = self.open_features or frozenset(template.get("features", ()) if template else ())
        return open_model(
            self.name,
            model,
            features=features,
            sizes=sizes,
            seconds=seconds,
            default_size=default_size,
            default_seconds=default_seconds,
            price_per_video=per_video,
        )

    def emulator_factory(self) -> Callable[..., Any] | None:
        if self.emulator is None:
            return None
        module_name, _, attr = self.emulator.partition(":")
        factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
        return factory
