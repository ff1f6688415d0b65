"""Guardrails: content checks before anything is reserved or sent (``pre_call``) and over a finished
job's output before it is charged (``post_call``). ``loading`` reads the config, ``engine`` selects
and runs them (imported from there: it brings the tracing API, which the config loader and so the CLI
client do not need), ``blocklist`` and ``moderation`` are the built-ins; plugins add more by entry point."""

from vidgate.gateway.guardrails.base import GuardInput, Guardrail, Verdict
from vidgate.gateway.guardrails.loading import ConfiguredGuardrail, load_guardrails

__all__ = ["ConfiguredGuardrail", "GuardInput", "Guardrail", "Verdict", "load_guardrails"]
