"""CPU per provider call: the httpx client (the SDK's), the aiohttp sender, and the gateway's own
HTTP/1.1 sender (``Http1Sender``, which hands what it does not do itself to the aiohttp one).

    .venv/bin/python bench/clients.py [--calls 2000] [--rounds 3]

All three send the same create (``POST /v1/videos``, JSON) to ``bench/upstream.py`` one call at a time on
one event loop (uvloop) and read the whole reply, through ``AsyncRunner.send`` as the gateway does.
Rounds alternate; the client process's CPU per call is printed for each and the medians compared.
The upstream's CPU is not counted: this is what one provider call costs the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import free_port, wait_ready

from vidgate.providers.base import HttpCall
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.transport.aiohttp_sender import AiohttpSender
from vidgate.transport.http1_sender import Http1Sender

KEY = "sk-bench-upstream"


async def cpu_per_call(runner: AsyncRunner, call: HttpCall, calls: int) -> float:
    for _ in range(100):  # warm: connection pool, imports
        await runner.send(call)
    started = time.process_time()
    for _ in range(calls):
        reply = await runner.send(call)
        assert reply.status == 200, reply.status
    return (time.process_time() - started) / calls * 1e6


async def main(args: argparse.Namespace, base: str) -> None:
    call = HttpCall(
        "POST",
        base + "/v1/videos",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "sora-2", "prompt": "a cat", "seconds": "4", "size": "720x1280"},
        retry_safe=False,
    )
    runners = {
        "httpx": AsyncRunner(retry=RetryPolicy(max_retries=0)),
        "aiohttp": AsyncRunner(retry=RetryPolicy(max_retries=0), sender=AiohttpSender()),
        "http1": AsyncRunner(retry=RetryPolicy(max_retries=0), sender=Http1Sender()),
    }
    figures: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for _ in range(args.rounds):
            for name, runner in runners.items():
                figures[name].append(await cpu_per_call(runner, call, args.calls))
    finally:
        for runner in runners.values():
            await runner.aclose()
    for name, runs in figures.items():
        rounds = ", ".join(f"{x:.0f}" for x in runs)
        print(f"  {name:8s} {statistics.median(runs):7.1f} us CPU per call   (rounds: {rounds})")
    for name in ("aiohttp", "http1"):
        ratio = statistics.median(figures[name]) / statistics.median(figures["httpx"])
        print(f"  {name}/httpx CPU per call: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    upstream = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream", "--port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, "/stats")
        uvloop.install()
        asyncio.run(main(parser.parse_args(), base))
    finally:
        upstream.terminate()
        upstream.wait()
