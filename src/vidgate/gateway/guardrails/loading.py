"""The ``guardrails:`` section of the config, in LiteLLM's shape, turned into built guardrails.

::

    guardrails:
      - guardrail_name: no-brands
        litellm_params:
          guardrail: blocklist          # an entry point of the ``vidgate.guardrails`` group
          mode: pre_call                # or post_call, or [pre_call, post_call]
          default_on: true              # every request (a key can opt out); false: keys opt in
          unreachable_fallback: fail_closed   # on an error or timeout: refuse (default) | fail_open
          timeout: 10                   # seconds a check may take (default 10)
          blocked_words: [acme]         # the guardrail's own settings

Built-ins and plugins are found the same way: ``guardrail: NAME`` loads the entry point ``NAME`` of
the ``vidgate.guardrails`` group, a ``build(params)`` function (``base.GuardrailFactory``). A mode
LiteLLM has and vidgate cannot honour (``during_call`` runs beside the provider call, when the money is
already spent; ``logging_only``) is refused at start-up rather than silently run at another time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, cast

from vidgate.gateway.guardrails.base import MODES, Guardrail, GuardrailFactory, Mode

GROUP = "vidgate.guardrails"
DEFAULT_TIMEOUT = 10.0
_COMMON = frozenset({"guardrail", "mode", "default_on", "unreachable_fallback", "timeout"})
_ENTRY_KEYS = frozenset({"guardrail_name", "litellm_params", "guardrail_info", "guardrail_id"})

__all__ = ["GROUP", "ConfiguredGuardrail", "factories", "load_guardrails"]


@dataclass(frozen=True, eq=False)
class ConfiguredGuardrail:
    """One ``guardrails:`` entry, built."""

    name: str
    kind: str  # the ``guardrail:`` value
    modes: frozenset[Mode]
    default_on: bool
    fail_open: bool
    timeout: float
    guard: Guardrail


@cache
def factories() -> dict[str, GuardrailFactory]:
    """Every installed guardrail factory by name (entry points read once per process)."""
    return {ep.name: cast(GuardrailFactory, ep.load()) for ep in entry_points(group=GROUP)}


def load_guardrails(entries: Any) -> tuple[ConfiguredGuardrail, ...]:
    """Build every entry; ``ValueError`` whose message starts with the path of the bad setting."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ValueError("guardrails: expected a list of {guardrail_name, litellm_params}")
    out: list[ConfiguredGuardrail] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"guardrails[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a mapping with guardrail_name and litellm_params")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown setting (known: guardrail_name, litellm_params)")
        name = entry.get("guardrail_name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}.guardrail_name: required setting is missing")
        if name in seen:
            raise ValueError(f"{where}.guardrail_name: '{name}' is configured twice")
        seen.add(name)
        params = entry.get("litellm_params")
        if not isinstance(params, Mapping):
            raise ValueError(f"{where}.litellm_params: required setting is missing")
        out.append(_build(name, params, f"{where}.litellm_params"))
    return tuple(out)


def _build(name: str, params: Mapping[str, Any], where: str) -> ConfiguredGuardrail:
    kind = params.get("guardrail")
    known = factories()
    if not isinstance(kind, str) or kind not in known:
        raise ValueError(
            f"{where}.guardrail: unknown guardrail {kind!r} (installed: {', '.join(sorted(known))}; "
            f"plugins register in the '{GROUP}' entry-point group)"
        )
    raw_modes = params.get("mode", "pre_call")
    listed = raw_modes if isinstance(raw_modes, list) else [raw_modes]
    for mode in listed:
        if mode not in MODES:
            raise ValueError(
                f"{where}.mode: {mode!r} is not supported: vidgate runs guardrails pre_call (before "
                "anything is reserved or sent) or post_call (over the output, before it is charged)"
            )
    default_on = params.get("default_on", False)
    if not isinstance(default_on, bool):
        raise ValueError(f"{where}.default_on: expected true or false")
    fallback = params.get("unreachable_fallback", "fail_closed")
    if fallback not in ("fail_closed", "fail_open"):
        raise ValueError(f"{where}.unreachable_fallback: expected fail_closed or fail_open, got {fallback!r}")
    timeout = params.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise ValueError(f"{where}.timeout: expected seconds from 0 to 600, got {timeout!r}")
    own = {k: v for k, v in params.items() if k not in _COMMON}
    try:
        guard = known[kind](own)
    except ValueError as exc:
        raise ValueError(f"{where}.{exc}") from exc
    return ConfiguredGuardrail(
        name=name,
        kind=kind,
        modes=frozenset(cast(list[Mode], listed)),
        default_on=default_on,
        fail_open=fallback == "fail_open",
        timeout=float(timeout),
        guard=guard,
    )
