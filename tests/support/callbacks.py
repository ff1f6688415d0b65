"""Helpers for provider-callback tests: count the gateway's status polls of each job."""

from __future__ import annotations

from typing import Any


def count_polls(app: Any) -> dict[str, int]:
    """Status polls the running gateway ``app`` makes (``ProviderCalls.retrieve``), per native id,
    from now on. Downloads read a job again for a fresh URL through their own flow: not polls."""
    calls = app.state.vidgate.service.calls
    polls: dict[str, int] = {}
    inner = calls.retrieve

    async def retrieve(dep: Any, native_id: str) -> Any:
        polls[native_id] = polls.get(native_id, 0) + 1
        return await inner(dep, native_id)

    calls.retrieve = retrieve
    return polls
