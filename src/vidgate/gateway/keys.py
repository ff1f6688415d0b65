"""Virtual keys: secrets, their hashes, and the admin fields (validated, in LiteLLM's names).

A secret is ``sk-`` + 43 url-safe characters (32 random bytes); only its sha256 hex is stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from vidgate.catalog import from_micros, to_micros
from vidgate.errors import BadRequestError
from vidgate.gateway.budget import parse_budget_duration
from vidgate.gateway.records import KeyRecord

SECRET_PREFIX = "sk-"
DISPLAY_PREFIX_CHARS = 8
KEY_FIELDS: tuple[str, ...] = (
    "models",
    "max_budget",
    "budget_duration",
    "rpm_limit",
    "max_parallel_requests",
    "key_alias",
    "metadata",
    "blocked",
    "guardrails",
    "disable_global_guardrails",
)


MAX_BUDGET_USD = 10**9  # micro-dollars of it fit a 64-bit column many times over
MAX_LIMIT = 2**31 - 1  # rpm_limit and max_parallel_requests are 32-bit columns
MAX_ALIAS = 255  # the keys.alias column (PostgreSQL refuses a longer value: a 500 after validation)
MAX_METADATA_DEPTH = 32
MAX_METADATA_BYTES = 64 * 1024


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(12)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_secret(value: str) -> bool:
    return value.startswith(SECRET_PREFIX)


def _known_guardrails(names: list[Any], configured: Collection[str], param: str) -> None:
    for i, name in enumerate(names):
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none are configured"
            raise BadRequestError(
                f"Invalid '{param}[{i}]': no guardrail named {str(name)[:80]!r} (configured: {known}).",
                param=f"{param}[{i}]",
                code="invalid_value",
            )


def apply_fields(
    record: KeyRecord,
    fields: Mapping[str, Any],
    *,
    model_names: Collection[str],
    guardrail_names: Collection[str] = (),
) -> None:
    """Validate admin ``fields`` and write them into ``record`` (BadRequestError naming the field).
    ``metadata`` is applied first, so LiteLLM's fields stored inside it (``guardrails``, ...) given
    beside it are kept. Guardrails named here must be configured: a misspelt one ran nothing."""
    ordered = sorted(fields.items(), key=lambda item: item[0] != "metadata")
    for name, value in ordered:
        if name == "models":
            record.models = _models(value, model_names)
        elif name == "max_budget":
            record.max_budget_micros = None if value is None else to_micros(_money(value, name))
        elif name == "budget_duration":
            period = None if value is None else parse_budget_duration(_text(value, name))
            record.budget_duration = None if period is None else f"{period.count}{period.unit}"  # as stored
        elif name == "rpm_limit":
            record.rpm_limit = _limit(value, name)
        elif name == "max_parallel_requests":
            record.max_parallel_requests = _limit(value, name)
        elif name == "key_alias":
            record.alias = None if value is None else _text(value, name, longest=MAX_ALIAS)
        elif name == "metadata":
            record.metadata = _metadata(value)
            inside = record.metadata.get("guardrails")
            if isinstance(inside, list):  # LiteLLM's place for them
                _known_guardrails(inside, guardrail_names, "metadata.guardrails")
        elif name == "guardrails":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise BadRequestError(
                    "Invalid type for 'guardrails': expected a list of guardrail names.", param="guardrails"
                )
            _known_guardrails(value, guardrail_names, "guardrails")
            record.metadata = {**record.metadata, "guardrails": list(dict.fromkeys(value))}
        elif name == "disable_global_guardrails":
            if not isinstance(value, bool):
                raise BadRequestError(
                    "Invalid type for 'disable_global_guardrails': expected a boolean.",
                    param="disable_global_guardrails",
                )
            record.metadata = {**record.metadata, "disable_global_guardrails": value}
        elif name == "blocked":
            if not isinstance(value, bool):
                raise BadRequestError("Invalid type for 'blocked': expected a boolean.", param="blocked")
            record.revoked = value
        else:
            raise BadRequestError(
                f"Unknown parameter: '{name}'. Supported fields are: {', '.join(KEY_FIELDS)}.",
                param=name,
                code="unknown_parameter",
            )


def info(record: KeyRecord) -> dict[str, Any]:
    """``GET /key/info``'s body, LiteLLM-shaped: ``{"key": id, "info": {...}}`` (money in USD)."""
    budget = record.max_budget_micros
    return {
        "key": record.id,
        "info": {
            "token": record.id,
            "key_name": record.key_prefix + "...",
            "key_alias": record.alias,
            "models": list(record.models),
            "max_budget": None if budget is None else from_micros(budget),
            "budget_duration": record.budget_duration,
            "budget_reset_at": record.budget_reset_at,
            "spend": from_micros(record.spend_micros),
            "total_spend": from_micros(record.total_spend_micros),
            "reserved": from_micros(record.reserved_micros),
            "active_jobs": record.active_jobs,
            "rpm_limit": record.rpm_limit,
            "max_parallel_requests": record.max_parallel_requests,
            "metadata": dict(record.metadata),
            "created_at": record.created_at,
            "blocked": record.revoked,
        },
    }


def _models(value: Any, known: Collection[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequestError("Invalid type for 'models': expected a list of model names.", param="models")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise BadRequestError(
            f"Invalid value for 'models': unknown model '{unknown[0]}'. Configured models: "
            f"{', '.join(sorted(known))}.",
            param="models",
            code="invalid_value",
        )
    return tuple(dict.fromkeys(value))


def _money(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRequestError(f"Invalid type for '{name}': expected a number of USD.", param=name)
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise BadRequestError(f"Invalid '{name}': '{value}' is not a number.", param=name) from exc
    if not amount.is_finite() or not 0 <= amount <= MAX_BUDGET_USD:
        raise BadRequestError(
            f"Invalid '{name}': expected a number of USD from 0 to {MAX_BUDGET_USD}, got {str(value)[:40]}.",
            param=name,
        )
    return amount


def _limit(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        shown = repr(value)[:40]
        raise BadRequestError(
            f"Invalid '{name}': expected an integer from 1 to {MAX_LIMIT}, got {shown}.", param=name
        )
    return value


def _text(value: Any, name: str, *, longest: int | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestError(f"Invalid type for '{name}': expected a non-empty string.", param=name)
    if longest is not None and len(value) > longest:
        raise BadRequestError(f"Invalid '{name}': at most {longest} characters.", param=name)
    return value


def _metadata(value: Any) -> dict[str, Any]:
    """A key's ``metadata``: an object at most ``MAX_METADATA_DEPTH`` deep and ``MAX_METADATA_BYTES``
    as JSON. Deeper, it was stored and then no response showing the key could be rendered (every
    ``/key/list`` a 500 from then on)."""
    if not isinstance(value, dict):
        raise BadRequestError("Invalid type for 'metadata': expected an object.", param="metadata")
    level: list[Any] = [value]
    for _ in range(MAX_METADATA_DEPTH):
        level = [
            inner
            for item in level
            for inner in (item.values() if isinstance(item, dict) else item)
            if isinstance(inner, dict | list)
        ]
        if not level:
            break
    else:
        raise BadRequestError(
            f"Invalid 'metadata': nested more than {MAX_METADATA_DEPTH} levels deep.", param="metadata"
        )
    if len(json.dumps(value, ensure_ascii=False)) > MAX_METADATA_BYTES:
        raise BadRequestError(
            f"Invalid 'metadata': larger than {MAX_METADATA_BYTES} bytes as JSON.", param="metadata"
        )
    return dict(value)
