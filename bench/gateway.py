"""Gateway overhead, measured against the OpenAI emulator with every job already completed.

    .venv/bin/python bench/gateway.py [--seconds 5] [--rounds 3] [--big-mb 200]

Both servers run as separate processes with one uvicorn worker each (the emulator via
``vidgate emulate openai``, the gateway via ``vidgate serve --config`` on SQLite with its poller and
per-request JSON access log on). Prints, for status polls (16 connections): throughput, p50/p99, and
server CPU per request, gateway vs direct; the p50 the gateway adds at 1 connection; content
streaming throughput vs direct; and the gateway's RSS growth while streaming 10 concurrent
``--big-mb`` videos. Rounds alternate direct/gateway and the median is reported, so load from other
processes on the machine skews both sides alike. Aims: >= 1/3 of direct poll throughput, < 0.5 ms
added p50, >= 60 % of direct streaming throughput, RSS growth < 64 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Result, run

from vidgate.store.content.filesystem import FileContentStore

try:
    import uvloop

    new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
    new_loop = asyncio.new_event_loop

VIDGATE = str(Path(sys.executable).with_name("vidgate"))
UPSTREAM_KEY = "sk-bench-upstream"
MASTER = "sk-bench-master-key"
HOST = "127.0.0.1"
JOBS = 20
PROMPT = "a calico cat playing a piano on stage"


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def signal_and_read(pid: int, out: Path) -> None:
    """SIGUSR2 to ``pid`` (a bench hook's "write what you recorded"), then wait until ``out`` has been
    written: a hook writes its file in the signal handler, between two of the gateway's bytecodes."""
    os.kill(pid, signal.SIGUSR2)
    for _ in range(100):
        if out.exists() and out.stat().st_size:
            break
        time.sleep(0.05)
    time.sleep(0.2)  # the write may still be under way


def wait_ready(url: str, path: str, headers: dict[str, str] | None = None) -> None:
    for _ in range(600):
        try:
            if httpx.get(url + path, headers=headers, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def start(name: str, args: list[str], port: int, log: Path, cwd: Path) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen([VIDGATE, *args], stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    return Server(name, port, proc)


def load(url: str, paths: list[str], headers: dict[str, str], **kwargs: Any) -> Result:
    host, port = url.removeprefix("http://").split(":")
    loop = new_loop()
    try:
        return loop.run_until_complete(run(host, int(port), paths, headers, **kwargs))
    finally:
        loop.close()


def measured(
    server: Server, url: str, paths: list[str], headers: dict[str, str], **kwargs: Any
) -> tuple[Result, float]:
    """A load run and the server's CPU microseconds per request during it."""
    before = server.cpu()
    result = load(url, paths, headers, **kwargs)
    used = server.cpu() - before
    bad = {s: n for s, n in result.statuses.items() if s >= 400}
    if bad or result.errors:
        raise RuntimeError(f"{server.name}: error replies {bad}, {result.errors} broken connections")
    return result, used / max(1, result.requests) * 1e6


def alternate(rounds: int, fn: Callable[[str], Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"direct": [], "gateway": []}
    for _ in range(rounds):
        for side in ("direct", "gateway"):
            out[side].append(fn(side))
    return out


def med(values: list[float]) -> float:
    return statistics.median(values)


def setup(work: Path) -> tuple[Server, Server, str, list[str], list[str]]:
    cache = work / "renders"
    emu_port, gw_port = free_port(), free_port()
    emulator = start(
        "emulator",
        [
            "emulate",
            "openai",
            "--host",
            HOST,
            "--port",
            str(emu_port),
            "--api-key",
            UPSTREAM_KEY,
            "--processing-seconds",
            "0.3",
            "--cache-dir",
            str(cache),
        ],
        emu_port,
        work / "emulator.log",
        work,
    )
    wait_ready(emulator.url, "/v1/videos", {"Authorization": f"Bearer {UPSTREAM_KEY}"})
    config = {
        "model_list": [
            {
                "model_name": "sora-2",
                "litellm_params": {
                    "model": "openai/sora-2",
                    "api_key": UPSTREAM_KEY,
                    "api_base": emulator.url + "/v1",
                    "allow_retired": True,  # the catalogue retires sora-2; the emulator still serves it
                },
            }
        ],
        "general_settings": {
            "master_key": MASTER,
            "database_url": f"sqlite+aiosqlite:///{work / 'vidgate.db'}",
            "content_dir": str(work / "content"),
        },
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    gateway = start(
        "gateway",
        [
            "serve",
            "--config",
            str(work / "config.yaml"),
            "--host",
            HOST,
            "--port",
            str(gw_port),
            "--log-level",
            "info",
        ],
        gw_port,
        work / "gateway.log",
        work,
    )
    wait_ready(gateway.url, "/health/readiness")
    admin = {"Authorization": f"Bearer {MASTER}"}
    key = httpx.post(gateway.url + "/key/generate", json={"key_alias": "bench"}, headers=admin).json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    ids = []
    for _ in range(JOBS):
        reply = httpx.post(
            gateway.url + "/v1/videos", json={"model": "sora-2", "prompt": PROMPT}, headers=auth
        )
        reply.raise_for_status()
        ids.append(reply.json()["id"])
    store = FileContentStore(work / "content")
    for vid in ids:  # completed, and the poller has copied each video into the content store
        for _ in range(600):
            done = httpx.get(f"{gateway.url}/v1/videos/{vid}", headers=auth).json()["status"] == "completed"
            if done and (store.job_dir(vid) / "video").is_file():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{vid} did not complete and get stored")
    native = [
        v["id"]
        for v in httpx.get(
            emulator.url + "/v1/videos?limit=100", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"}
        ).json()["data"]
    ]
    return emulator, gateway, key, ids, native


def make_big(work: Path, megabytes: int, ids: list[str]) -> None:
    """One ``megabytes`` MB file, hard-linked as the emulator's rendered video and as each stored copy."""
    big = work / "big.mp4"
    block = os.urandom(1 << 20)
    with big.open("wb") as out:
        for _ in range(megabytes):
            out.write(block)
    rendered = list((work / "renders").rglob("video.mp4"))
    if len(rendered) != 1:
        raise RuntimeError(f"expected one rendered video in the emulator cache, found {len(rendered)}")
    store = FileContentStore(work / "content")
    for target in [rendered[0], *(store.job_dir(vid) / "video" for vid in ids)]:
        tmp = target.with_name(target.name + ".big")
        os.link(big, tmp)
        os.replace(tmp, target)


def sample_rss(proc: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each status-poll run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway rounds per figure")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the streamed video")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vidgate-bench-") as tmp:
        work = Path(tmp)
        emulator, gateway, key, ids, native = setup(work)
        try:
            report(args, work, emulator, gateway, key, ids, native)
        finally:
            gateway.stop()
            emulator.stop()


def report(
    args: argparse.Namespace,
    work: Path,
    emulator: Server,
    gateway: Server,
    key: str,
    ids: list[str],
    native: list[str],
) -> None:
    sides = {
        "direct": (
            emulator,
            emulator.url,
            [f"/v1/videos/{n}" for n in native],
            {"Authorization": f"Bearer {UPSTREAM_KEY}"},
        ),
        "gateway": (
            gateway,
            gateway.url,
            [f"/v1/videos/{v}" for v in ids],
            {"Authorization": f"Bearer {key}"},
        ),
    }
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {JOBS} completed jobs; "
        f"{args.rounds} alternating rounds, median shown"
    )

    def polls(side: str, connections: int, seconds: float) -> tuple[Result, float]:
        server, url, paths, headers = sides[side]
        return measured(server, url, paths, headers, connections=connections, seconds=seconds, warmup=0.5)

    for side in sides:  # warm both (imports, caches, connection pools)
        polls(side, 4, 1.0)
    many = alternate(args.rounds, lambda side: polls(side, 16, args.seconds))
    one = alternate(args.rounds, lambda side: polls(side, 1, args.seconds / 2))

    print("\nstatus poll GET /v1/videos/{id}, 16 connections")
    figures: dict[str, dict[str, float]] = {}
    for side in sides:
        runs = many[side]
        figures[side] = {
            "rps": med([r.rps for r, _ in runs]),
            "p50": med([r.pct(50) for r, _ in runs]),
            "p99": med([r.pct(99) for r, _ in runs]),
            "cpu": med([c for _, c in runs]),
            "p50_1": med([r.pct(50) for r, _ in one[side]]),
        }
        f = figures[side]
        print(
            f"  {side:8s} {f['rps']:8.0f} req/s   p50 {f['p50']:6.2f} ms   p99 {f['p99']:6.2f} ms   "
            f"server CPU {f['cpu']:6.1f} us/req   (rounds: {', '.join(f'{r.rps:.0f}' for r, _ in runs)})"
        )
    ratio = figures["gateway"]["rps"] / figures["direct"]["rps"]
    added = figures["gateway"]["p50_1"] - figures["direct"]["p50_1"]
    print(f"  gateway/direct throughput: {ratio:.2f}  (aim >= 0.33)")
    print(
        f"\nstatus poll, 1 connection: direct p50 {figures['direct']['p50_1']:.3f} ms, gateway p50 "
        f"{figures['gateway']['p50_1']:.3f} ms, added p50 {added:.3f} ms  (aim < 0.5 ms)"
    )

    make_big(work, args.big_mb, ids)
    size = args.big_mb * (1 << 20)

    def stream(side: str, connections: int, per_connection: int) -> Result:
        server, url, _, headers = sides[side]
        path = f"/v1/videos/{native[0]}/content" if side == "direct" else f"/v1/videos/{ids[0]}/content"
        paths = [path] if side == "direct" else [f"/v1/videos/{v}/content" for v in ids[:connections]]
        result, _ = measured(
            server,
            url,
            paths,
            headers,
            connections=connections,
            requests_per_connection=per_connection,
            sink=True,
        )
        if any(n != size for n in [result.bytes // max(1, result.requests)]):
            raise RuntimeError(f"{side}: expected {size} bytes per download")
        return result

    streams = alternate(args.rounds, lambda side: stream(side, 4, 2))
    direct_mb = med([r.mb_per_s for r in streams["direct"]])
    gateway_mb = med([r.mb_per_s for r in streams["gateway"]])
    print(f"\ncontent GET /v1/videos/{{id}}/content, {args.big_mb} MB video, 4 connections x 2 downloads")
    print(f"  direct   {direct_mb:8.0f} MB/s")
    print(f"  gateway  {gateway_mb:8.0f} MB/s   gateway/direct: {gateway_mb / direct_mb:.2f}  (aim >= 0.60)")

    proc = gateway.ps
    baseline = proc.memory_info().rss
    peak = [baseline]
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(proc, stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    result, _ = measured(
        gateway,
        gateway.url,
        [f"/v1/videos/{v}/content" for v in ids[:10]],
        sides["gateway"][3],
        connections=10,
        requests_per_connection=1,
        sink=True,
    )
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    growth = (peak[0] - baseline) / (1 << 20)
    print(
        f"\n10 concurrent {args.big_mb} MB downloads through the gateway: {result.bytes / 1e9:.2f} GB in "
        f"{elapsed:.1f} s; RSS {baseline / (1 << 20):.0f} MB -> peak {peak[0] / (1 << 20):.0f} MB, "
        f"growth {growth:.1f} MB  (aim < 64 MB)"
    )


if __name__ == "__main__":
    main()
