"""Runs one documentation snippet as ``__main__`` (``python seed_runner.py snippet.py``), unchanged.

Before the snippet runs, two test-only adjustments are installed, neither visible in its namespace:

- ``time.sleep`` and ``asyncio.sleep`` are capped at ``VIDGATE_SEED_MAX_SLEEP`` seconds (the docs poll
  every 10 s; the emulators finish in about one);
- ``VIDGATE_SEED_HOSTS`` (``host=http://127.0.0.1:PORT,...``) maps hostnames a snippet hard-codes to a
  loopback emulator, like a hosts-file entry plus a TLS-terminating proxy would (the Azure snippet sets
  ``AZURE_OPENAI_API_BASE="https://your-resource.openai.azure.com/"`` itself).
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
import time
from collections.abc import Coroutine
from typing import Any

import httpx

_real_sleep = time.sleep
_real_async_sleep = asyncio.sleep
CAP = float(os.environ.get("VIDGATE_SEED_MAX_SLEEP", "0.2"))


def _sleep(seconds: float) -> None:
    _real_sleep(min(seconds, CAP))


def _async_sleep(delay: float, result: Any = None) -> Coroutine[Any, Any, Any]:
    return _real_async_sleep(min(delay, CAP), result)


def _hosts() -> dict[str, httpx.URL]:
    pairs = (
        item.split("=", 1) for item in os.environ.get("VIDGATE_SEED_HOSTS", "").split(",") if "=" in item
    )
    return {host: httpx.URL(target) for host, target in pairs}


def _install_host_map(mapping: dict[str, httpx.URL]) -> None:
    def rewrite(request: httpx.Request) -> None:
        target = mapping.get(request.url.host)
        if target is not None:
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["host"] = f"{target.host}:{target.port}"

    sync_handle = httpx.HTTPTransport.handle_request
    async_handle = httpx.AsyncHTTPTransport.handle_async_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        rewrite(request)
        return sync_handle(self, request)

    async def ahandle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        rewrite(request)
        return await async_handle(self, request)

    httpx.HTTPTransport.handle_request = handle  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = ahandle  # type: ignore[method-assign]


def main() -> None:
    snippet = sys.argv[1]
    time.sleep = _sleep  # type: ignore[assignment]  # typeshed's sleep also takes SupportsIndex
    asyncio.sleep = _async_sleep
    mapping = _hosts()
    if mapping:
        _install_host_map(mapping)
    sys.argv = [snippet]
    sys.path[0] = os.path.dirname(os.path.abspath(snippet))
    runpy.run_path(snippet, run_name="__main__")


if __name__ == "__main__":
    main()
