"""The callbacks and tracing settings of a config, in LiteLLM's names.

::

    litellm_settings:
      success_callback: [generic_api, otel]   # events of jobs that completed
      failure_callback: [generic_api]         # events of jobs that failed and of refused requests
      callbacks: [otel]                       # both
    callback_settings:
      generic_api: {endpoint: https://logs.example/ingest, headers: {Authorization: os.environ/LOG_TOKEN},
                    batch_size: 50, flush_interval: 5}
      my_audit: {callback_type: generic_api, endpoint: ...}   # another named HTTP logger

Implemented: ``otel`` (traces over OTLP/HTTP to ``callback_settings.otel.endpoint``, else
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``, or LiteLLM's
``OTEL_ENDPOINT``) and ``generic_api`` (batched JSON POSTs; endpoint and headers also from LiteLLM's
``GENERIC_LOGGER_ENDPOINT`` / ``GENERIC_LOGGER_HEADERS``), plus any name ``callback_settings`` defines
with ``callback_type: generic_api``. Any other name (LiteLLM has dozens) is dropped with one start-up
warning naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Event = Literal["success", "failure"]
OTEL = "otel"
GENERIC_API = "generic_api"
_OTEL_NAMES = frozenset({"otel", "opentelemetry"})
_HTTP_KEYS = frozenset(
    {"callback_type", "endpoint", "headers", "batch_size", "flush_interval", "max_retries"}
)

__all__ = ["HttpLogger", "Observability", "read_observability"]


@dataclass(frozen=True)
class HttpLogger:
    """One generic HTTP logging callback."""

    name: str
    endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict)
    events: frozenset[Event] = frozenset({"success", "failure"})
    batch_size: int = 50
    flush_interval: float = 5.0
    max_retries: int = 3


@dataclass(frozen=True)
class Observability:
    otel_endpoint: str | None = None  # tracing on when set
    http_loggers: tuple[HttpLogger, ...] = ()
    ignored_callbacks: tuple[str, ...] = ()  # named in the lists, not implemented (one warning)


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of callback names")
    return list(value)


def _otel_endpoint(settings: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    own = settings.get("endpoint")
    if isinstance(own, str) and own:
        return own
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_ENDPOINT")
    if base:
        return base.rstrip("/") + "/v1/traces"
    raise ValueError(
        "litellm_settings: the 'otel' callback needs an OTLP/HTTP endpoint: set "
        "callback_settings.otel.endpoint or OTEL_EXPORTER_OTLP_ENDPOINT"
    )


def _headers(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):  # LiteLLM's GENERIC_LOGGER_HEADERS: "Name=value,Other=value"
        pairs = [part.split("=", 1) for part in value.split(",") if "=" in part]
        return {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{where}.headers: expected a mapping of header names to strings")
    return {str(k): v for k, v in value.items()}


def _http_logger(
    name: str, settings: Mapping[str, Any], events: frozenset[Event], environ: Mapping[str, str]
) -> HttpLogger:
    where = f"callback_settings.{name}"
    unknown = sorted(set(settings) - _HTTP_KEYS)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown setting (known: {', '.join(sorted(_HTTP_KEYS))})")
    endpoint = settings.get("endpoint") or (
        environ.get("GENERIC_LOGGER_ENDPOINT") if name == GENERIC_API else None
    )
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"{where}.endpoint: the '{name}' callback needs an http(s) endpoint")
    raw_headers = settings.get("headers")
    if raw_headers is None and name == GENERIC_API:
        raw_headers = environ.get("GENERIC_LOGGER_HEADERS")
    batch = settings.get("batch_size", 50)
    interval = settings.get("flush_interval", 5.0)
    retries = settings.get("max_retries", 3)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 10_000:
        raise ValueError(f"{where}.batch_size: expected an integer from 1 to 10000")
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not 0 < interval <= 3600:
        raise ValueError(f"{where}.flush_interval: expected seconds from 0 to 3600")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ValueError(f"{where}.max_retries: expected an integer from 0 to 10")
    return HttpLogger(
        name=name,
        endpoint=endpoint,
        headers=_headers(raw_headers, where),
        events=events,
        batch_size=batch,
        flush_interval=float(interval),
        max_retries=retries,
    )


def read_observability(
    litellm_settings: Mapping[str, Any], callback_settings: Mapping[str, Any], environ: Mapping[str, str]
) -> Observability:
    """The implemented callbacks of a config (``ValueError`` naming the path of a bad setting)."""
    wanted: dict[str, set[Event]] = {}
    lists: tuple[tuple[str, tuple[Event, ...]], ...] = (
        ("success_callback", ("success",)),
        ("failure_callback", ("failure",)),
        ("callbacks", ("success", "failure")),
    )
    for key, kinds in lists:
        for name in _names(litellm_settings.get(key), f"litellm_settings.{key}"):
            wanted.setdefault(name, set()).update(kinds)
    otel: str | None = None
    loggers: list[HttpLogger] = []
    ignored: list[str] = []
    for name, events in wanted.items():
        settings = callback_settings.get(name) or {}
        if not isinstance(settings, Mapping):
            raise ValueError(f"callback_settings.{name}: expected a mapping")
        if name in _OTEL_NAMES:
            otel = _otel_endpoint(settings, environ)
        elif name == GENERIC_API or settings.get("callback_type") == GENERIC_API:
            loggers.append(_http_logger(name, settings, frozenset(events), environ))
        else:
            ignored.append(name)
    return Observability(otel_endpoint=otel, http_loggers=tuple(loggers), ignored_callbacks=tuple(ignored))
