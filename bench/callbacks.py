"""Upstream status polls per job, with and without provider callbacks.

    .venv/bin/python bench/callbacks.py [--provider replicate|fal] [--jobs 20] [--processing-seconds 6]
        [--client-poll-seconds 1]

For each mode (``provider_callbacks`` off, then on) a fresh gateway (in-memory stores, poller on) runs in
front of the provider's emulator on loopback, with its public URL known before it starts. ``--jobs``
videos are created at once and a client polls each one through the gateway every
``--client-poll-seconds`` until it is completed, as the ``openai`` SDK's poll helper would. The
gateway's status polls of the provider (``ProviderCalls.retrieve``; content downloads re-read a job
through their own flow and are not counted) are counted per job. Printed per mode: upstream polls per
job (mean, max), jobs completed, and how long the slowest job took to be seen completed.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-bench-callbacks-master"
UPSTREAM_KEY = "bench-upstream-key"
PROVIDERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # provider -> (emulator module, deployment model, extra deployment params)
    "replicate": ("vidgate.providers.replicate.emulator", "replicate/bench/video-model", {}),
    "fal": (
        "vidgate.providers.fal.emulator",
        "fal/bench-owner/video-app",
        {"webhook_jwks_url": "{upstream}"},
    ),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, port: int = 0) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def counted(app: Any) -> dict[str, int]:
    """The running gateway's status polls of the provider, per native id."""
    calls = app.state.vidgate.service.calls
    polls: dict[str, int] = {}
    inner = calls.retrieve

    async def retrieve(dep: Any, native_id: str) -> Any:
        polls[native_id] = polls.get(native_id, 0) + 1
        return await inner(dep, native_id)

    calls.retrieve = retrieve
    return polls


async def run_jobs(url: str, key: str, jobs: int, pause: float) -> float:
    """Create ``jobs`` videos, poll each through the gateway until completed; seconds until the last."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        started = time.perf_counter()
        created = await asyncio.gather(
            *(client.post("/v1/videos", json={"model": "bench", "prompt": f"bench clip {i}", "seconds": "4"})
              for i in range(jobs))
        )  # fmt: skip
        ids = [reply.json()["id"] for reply in created]

        async def follow(video_id: str) -> None:
            while True:
                status = (await client.get(f"/v1/videos/{video_id}")).json()["status"]
                if status == "completed":
                    return
                if status == "failed":
                    raise RuntimeError(f"{video_id} failed")
                await asyncio.sleep(pause)

        await asyncio.gather(*(follow(i) for i in ids))
        return time.perf_counter() - started


def one_mode(args: argparse.Namespace, callbacks: bool, upstream: str) -> tuple[list[int], float]:
    _module, model, extra = PROVIDERS[args.provider]
    port = free_port()
    params: dict[str, Any] = {
        "model": model,
        "api_key": UPSTREAM_KEY,
        "api_base": upstream,
        "output_cost_per_video": "0.10",
        "provider_callbacks": callbacks,
    }
    params.update({k: v.format(upstream=upstream + "/.well-known/jwks.json") for k, v in extra.items()})
    data = {
        "model_list": [{"model_name": "bench", "litellm_params": params}],
        "general_settings": {"master_key": MASTER, "public_base_url": f"http://127.0.0.1:{port}"},
    }
    app = create_app(parse_config(data, environ={}), stores=MemoryStores())
    with serve(app, port) as url:
        polls = counted(app)
        key = httpx.post(f"{url}/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"}).json()
        took = asyncio.run(run_jobs(url, key["key"], args.jobs, args.client_poll_seconds))
        per_job = [polls.get(native, 0) for native in polls] + [0] * (args.jobs - len(polls))
    return per_job, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="replicate")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--processing-seconds", type=float, default=6.0)
    parser.add_argument("--client-poll-seconds", type=float, default=1.0)
    args = parser.parse_args()
    module_name, _, _ = PROVIDERS[args.provider]
    factory: Callable[[EmulatorSettings], Any] = __import__(module_name, fromlist=["create_app"]).create_app
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = Path(cache_dir)
        settings = EmulatorSettings(
            api_key=UPSTREAM_KEY, processing_seconds=args.processing_seconds, cache_dir=cache
        )
        with serve(factory(settings)) as upstream:
            print(
                f"{args.provider} emulator, {args.jobs} jobs of {args.processing_seconds:g} s, client polls "
                f"every {args.client_poll_seconds:g} s"
            )
            for callbacks in (False, True):
                per_job, took = one_mode(args, callbacks, upstream)
                label = "callbacks on " if callbacks else "callbacks off"
                print(
                    f"{label}: upstream polls per job mean {statistics.fmean(per_job):.2f}, "
                    f"max {max(per_job)}; all {args.jobs} completed after {took:.1f} s"
                )


if __name__ == "__main__":
    main()
