"""Readiness probes: each component's outcome, so that one failing component is named, not guessed."""

from __future__ import annotations

from collections.abc import Awaitable


async def outcome(check: Awaitable[object]) -> Exception | None:
    """None when ``check`` completed, else the exception it raised (for the log and the component name)."""
    try:
        await check
    except Exception as exc:
        return exc
    return None
