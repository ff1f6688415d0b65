"""``ProviderCalls``: a blocking provider's flows (``ProviderSpec.blocking``: the local renderer's files,
image decoding and renders) run in a worker thread, never on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from tests.gateway.harness import local_entries, make_config, make_gateway

from vidgate.catalog import validate
from vidgate.gateway.calls import _at_once
from vidgate.providers.base import Credentials, HttpCall, ProviderJob
from vidgate.providers.catalogue import find_model
from vidgate.types import VideoRequest


async def test_a_blocking_providers_flow_runs_off_the_event_loop(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    dep = make_config(local_entries(tmp_path)).deployments[0]
    threads: list[int] = []
    create = gw.local.create

    def recording(req: VideoRequest, creds: Credentials) -> Generator[HttpCall, Any, ProviderJob]:
        threads.append(threading.get_ident())
        return (yield from create(req, creds))

    gw.local.create = recording  # type: ignore[method-assign]
    spec = find_model("local/local-1")
    assert spec is not None
    req = validate(spec, prompt="a fox", seconds=2, size="320x180")
    job = await gw.service.calls.create(dep, req)
    assert job.status == "queued"
    assert threads
    assert threads[0] != threading.get_ident()  # not the loop's thread
    assert (await gw.service.calls.retrieve(dep, job.native_id)).native_id == job.native_id


def test_a_blocking_flow_that_asks_for_a_call_is_a_bug() -> None:
    def flow() -> Generator[HttpCall, Any, int]:
        yield HttpCall("GET", "http://example.invalid/")
        return 1

    with pytest.raises(RuntimeError, match=r"GET http://example\.invalid/"):
        _at_once(flow())
