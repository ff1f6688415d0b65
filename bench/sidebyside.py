"""The gateway side by side with a direct upstream: creates, pass-through polls, status polls, content.

    .venv/bin/python bench/sidebyside.py [--seconds 5] [--rounds 3] [--only create,passthrough,...]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--prefill 100000] [--big-mb 200]
        [--direct starlette|raw] [--py-spy DIR] [--gateway-log-level info|warning]

The direct baseline is ``bench/upstream.py`` (a minimal in-memory fake speaking the OpenAI Videos and
Gemini wires, under the same uvicorn); the gateway (``vidgate serve``, one worker, poller on, JSON access
log on) fronts it with a virtual key that has a budget, an rpm limit and a concurrency limit, so every
create runs the whole admission. ``--database-url`` names a PostgreSQL server: the script creates a
fresh database on it and drops it at the end (default: a SQLite file). ``--prefill N`` runs the sections
twice in one run: on the store as it starts (only the bench's own jobs), then again after bulk-inserting
N finished jobs (50 other owners, spread over a month, with their settled reservations and spend logs),
and prints the second against the first (1.00: latency flat as the store grows).

Rounds alternate direct/gateway and medians are printed, so load from other processes on the machine
skews both sides alike; the ratios are the figures that count. The upstream asks for polls every 60 s
(``openai-poll-after-ms``) on the created jobs, so the create figures do not include the poller's work
on them (``bench/poller.py`` measures that); the section ends the jobs of its 1-connection runs
before its 8-connection runs, and those at its end (``stop_pending``), so no later run measures the
work they leave. Sections (``--only``):

- ``create``: ``POST /v1/videos`` at 1 connection (p50) and 8 connections (throughput).
- ``passthrough``: the Gemini operation poll ``GET /gemini/v1beta/models/M/operations/ID``, 16 connections.
- ``status``: ``GET /v1/videos/{id}`` of completed jobs, 16 connections.
- ``list``: ``GET /v1/videos?limit=20``, the key's own newest page and the master key's page of every
  owner (index ``ix_jobs_listing``), 16 connections; the direct side lists its newest 20 jobs.
- ``content``: a ``--big-mb`` MB video, 4 clients x 2 downloads (throughput, and the CPU seconds per
  GB sent of each server, the steadier figure when other work shares the cores, and of the client);
  then the gateway's RSS growth during 10 concurrent downloads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import Server, alternate, free_port, measured, med, sample_rss, wait_ready
from bench.loadgen import Result

from vidgate.gateway.records import JobRecord
from vidgate.store.content.filesystem import FileContentStore
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import job_to_row
from vidgate.store.sql.tables import jobs, keys, reservations, slots, spend_logs

VIDGATE = str(Path(sys.executable).with_name("vidgate"))
UPSTREAM_KEY = "sk-bench-upstream"
MASTER = "sk-bench-master-key"
HOST = "127.0.0.1"
VEO = "veo-2.0-generate-001"  # a current Gemini model (the catalogue retires the 3.x previews)
PROMPT = "a calico cat playing a piano on stage"
DONE = "[done] " + PROMPT  # the fake upstream completes these at once
CREATE_BODY = json.dumps({"model": "sora-2", "prompt": PROMPT, "seconds": "4", "size": "720x1280"}).encode()
SECTIONS = ("create", "passthrough", "status", "list", "content")
FINISHED = 20


def start_upstream(
    work: Path, content_file: Path | None, front: str, *, poll_after_ms: int | None = 60_000
) -> Server:
    port = free_port()
    args = [sys.executable, "-m", "bench.upstream", "--port", str(port), "--front", front]
    if poll_after_ms is not None:
        args += ["--poll-after-ms", str(poll_after_ms)]
    if content_file is not None:
        args += ["--content-file", str(content_file)]
    with (work / "upstream.log").open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent
        )
    server = Server("upstream", port, proc)
    wait_ready(server.url, "/stats")
    return server


def start_gateway(work: Path, upstream: Server, database_url: str, log_level: str = "info") -> Server:
    config = {
        "model_list": [
            {
                "model_name": "sora-2",
                "litellm_params": {
                    "model": "openai/sora-2",
                    "api_key": UPSTREAM_KEY,
                    "api_base": upstream.url + "/v1",
                    # The catalogue retires sora-2; the fake upstream speaks its wire (Azure's too).
                    "allow_retired": True,
                },
            },
            {
                "model_name": VEO,
                "litellm_params": {
                    "model": f"gemini/{VEO}",
                    "api_key": UPSTREAM_KEY,
                    "api_base": upstream.url,
                },
            },
        ],
        "general_settings": {
            "master_key": MASTER,
            "database_url": database_url,
            "content_dir": str(work / "content"),
        },
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    args = ["serve", "--config", str(work / "config.yaml"), "--host", HOST, "--port", str(port)]
    args += ["--log-level", log_level]
    with (work / "gateway.log").open("wb") as out:
        proc = subprocess.Popen([VIDGATE, *args], stdout=out, stderr=subprocess.STDOUT)
    gateway = Server("gateway", port, proc)
    wait_ready(gateway.url, "/health/readiness")
    return gateway


def limited_key(gateway: Server, alias: str) -> dict[str, str]:
    """The auth header of a new key with a budget, an rpm limit and a concurrency limit, none of them
    reached: every create with it runs the whole admission."""
    limits = {"max_budget": 10_000_000, "rpm_limit": 100_000_000, "max_parallel_requests": 100_000_000}
    reply = httpx.post(
        gateway.url + "/key/generate",
        json={"key_alias": alias, **limits},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['key']}"}


@contextmanager
def database(url: str | None, work: Path) -> Iterator[str]:
    """A SQLite file in ``work``, or a fresh database on the PostgreSQL server of ``url`` (dropped after)."""
    if url is None:
        yield f"sqlite:///{work / 'vidgate.db'}"
        return
    import asyncpg  # type: ignore[import-untyped]

    server = url.replace("postgresql+asyncpg://", "postgresql://")
    name = "vidgate_bench_" + secrets.token_hex(4)

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def prefill(database_url: str, count: int) -> float:
    """Insert ``count`` finished jobs (with their settled reservations and spend logs) of 50 other owners;
    seconds taken."""
    now = int(time.time())

    def rows(start: int, stop: int) -> tuple[list[dict[str, Any]], ...]:
        job_rows, held, logs = [], [], []
        for i in range(start, stop):
            created = now - 30 * 86400 + i * (30 * 86400 // max(count, 1))
            job = JobRecord(
                id=f"video_{created:08x}{secrets.token_hex(12)}",
                owner_key_id=f"prefill-owner-{i % 50}",
                model_name="sora-2",
                deployment_id="sora-2#0",
                provider="openai",
                native_id=f"video_prefill_{i}",
                status="completed",
                created_at=created,
                size="720x1280",
                seconds="4",
                progress=100,
                prompt=PROMPT,
                completed_at=created + 60,
                reserved_micros=400_000,
                cost_micros=400_000,
                content_stored=True,
                next_poll_at=created + 60,
            )
            job_rows.append(job_to_row(job))
            held.append(
                {
                    "job_id": job.id,
                    "key_id": job.owner_key_id,
                    "micros": 400_000,
                    "state": "settled",
                    "cost_micros": 400_000,
                    "created_at": created,
                    "updated_at": created + 60,
                }
            )
            logs.append(
                {
                    "id": f"spend_{secrets.token_hex(12)}",
                    "key_id": job.owner_key_id,
                    "job_id": job.id,
                    "model_name": job.model_name,
                    "deployment_id": job.deployment_id,
                    "seconds": 4.0,
                    "size": job.size,
                    "cost_micros": 400_000,
                    "created_at": created + 60,
                    "metadata_json": {"provider": "openai", "videos": 1, "requested": 1},
                }
            )
        return job_rows, held, logs

    async def fill() -> None:
        db = Database(database_url)
        try:
            for start in range(0, count, 5000):
                job_rows, held, logs = rows(start, min(count, start + 5000))

                def insert(
                    conn: Any,
                    a: list[dict[str, Any]] = job_rows,
                    b: list[dict[str, Any]] = held,
                    c: list[dict[str, Any]] = logs,
                ) -> None:
                    conn.execute(jobs.insert(), a)
                    conn.execute(reservations.insert(), b)
                    conn.execute(spend_logs.insert(), c)

                await db.write(insert)
        finally:
            await db.dispose()

    started = time.perf_counter()
    asyncio.run(fill())
    return time.perf_counter() - started


def stop_pending(database_url: str) -> None:
    """End the jobs the create section left pending (the upstream keeps them queued): otherwise the
    poller polls thousands of them, each 60 s, through every later section (and only the second stage
    of ``--prefill``), and those figures would measure that. Version bumped: a poll in flight loses.
    Their reservations are released and their slots freed as the gateway would for failed jobs, so the
    later sections run on a store holding what a real one would (and the key's counters agree)."""

    def stop(conn: Any) -> None:
        stopped = sa.select(jobs.c.id).where(jobs.c.error_code == "bench_stopped").scalar_subquery()
        conn.execute(
            jobs.update()
            .where(jobs.c.pending)
            .values(
                status="failed",
                pending=False,
                error_code="bench_stopped",
                cost_micros=0,
                version=jobs.c.version + 1,
            )
        )
        conn.execute(
            reservations.update()
            .where(reservations.c.state == "reserved", reservations.c.job_id.in_(stopped))
            .values(state="released")
        )
        conn.execute(slots.delete().where(slots.c.job_id.in_(stopped)))
        held = (
            sa.select(sa.func.coalesce(sa.func.sum(reservations.c.micros), 0))
            .where(reservations.c.key_id == keys.c.id, reservations.c.state == "reserved")
            .scalar_subquery()
        )
        running = sa.select(sa.func.count()).where(slots.c.key_id == keys.c.id).scalar_subquery()
        conn.execute(keys.update().values(reserved_micros=held, active_jobs=running))

    async def run() -> None:
        db = Database(database_url)
        try:
            await db.write(stop)
        finally:
            await db.dispose()

    asyncio.run(run())
    if database_url.startswith("sqlite:///"):  # the WAL those thousands of rows filled, copied back here
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # not by the gateway, inside the next run


def wait_until(what: str, done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, upstream: Server, gateway: Server) -> None:
        self.args = args
        self.work = work
        self.upstream = upstream
        self.gateway = gateway
        self.direct_auth = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
        self.auth = limited_key(gateway, "bench")
        self.natives = Natives(args.database_url_resolved)
        self.spied = 0
        self.stage = ""  # "" or, with --prefill, "empty" then "prefilled"
        self.figures: dict[tuple[str, str], dict[str, dict[str, float]]] = {}  # (stage, figure) -> sides

    def run(
        self, side: str, paths: list[str], gateway_auth: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[Result, float]:
        server = self.upstream if side == "direct" else self.gateway
        headers = self.direct_auth if side == "direct" else gateway_auth or self.auth
        long_run = kwargs.get("seconds", 0) > 1.0 or kwargs.get("sink", False)  # timed, or downloads
        spy = self.spy() if side == "gateway" and long_run else None
        try:
            return measured(server, server.url, paths, headers, **kwargs)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)

    def spy(self) -> subprocess.Popen[bytes] | None:
        """``py-spy record`` of the gateway for this run (``--py-spy DIR``: raw folded stacks, one file per
        run, for finding where the gateway's CPU goes)."""
        if self.args.py_spy is None:
            return None
        self.spied += 1
        out = Path(self.args.py_spy) / f"gateway-{self.spied:02d}.txt"
        spy = str(Path(sys.executable).with_name("py-spy"))
        args = [
            spy,
            "record",
            "-p",
            str(self.gateway.proc.pid),
            "-r",
            "250",
            "--gil",  # only the thread holding the GIL: idle SQLite workers would count otherwise
            "-f",
            "raw",
            "-o",
            str(out),
        ]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def line(self, side: str, runs: list[tuple[Result, float]]) -> dict[str, float]:
        f = {
            "rps": med([r.rps for r, _ in runs]),
            "p50": med([r.pct(50) for r, _ in runs]),
            "p99": med([r.pct(99) for r, _ in runs]),
            "p999": med([r.pct(99.9) for r, _ in runs]),
            "cpu": med([c for _, c in runs]),
        }
        print(
            f"  {side:8s} {f['rps']:8.0f} req/s   p50 {f['p50']:6.2f} ms   p99 {f['p99']:6.2f} ms   "
            f"p99.9 {f['p999']:6.2f} ms   "
            f"server CPU {f['cpu']:6.1f} us/req   (rounds: {', '.join(f'{r.rps:.0f}' for r, _ in runs)})"
        )
        return f

    def both(
        self, title: str, paths: dict[str, list[str]], connections: int, **kwargs: Any
    ) -> dict[str, Any]:
        seconds = self.args.seconds
        for side in paths:  # warm both (imports, caches, connection pools)
            self.run(side, paths[side], connections=connections, seconds=1.0, warmup=0.5, **kwargs)
        runs = alternate(
            self.args.rounds,
            lambda side: self.run(side, paths[side], connections=connections, seconds=seconds, **kwargs),
        )
        label = f"{title}, {connections} connection{'s' if connections > 1 else ''}"
        print(f"\n{label}" + (f"  [{self.stage} store]" if self.stage else ""))
        figures = {side: self.line(side, runs[side]) for side in ("direct", "gateway")}
        print(f"  gateway/direct throughput: {figures['gateway']['rps'] / figures['direct']['rps']:.2f}")
        self.figures[(self.stage, label)] = figures
        return figures

    # ---- sections ------------------------------------------------------------------------------

    def create(self) -> None:
        body = CREATE_BODY
        paths = {"direct": ["/v1/videos"], "gateway": ["/v1/videos"]}
        # 1 connection first, then its jobs ended: measured after the 8-connection runs, it measured their
        # aftermath (their polls falling due 60 s after creation, or ending ~13,000 of them and the
        # checkpoints that followed) as the creates' latency.
        one = self.both("create POST /v1/videos", paths, 1, method="POST", body=body)
        added = one["gateway"]["p50"] - one["direct"]["p50"]
        print(f"  added p50 at 1 connection: {added:.3f} ms  (aim < 1 ms)")
        stop_pending(self.args.database_url_resolved)
        self.both("create POST /v1/videos", paths, 8, method="POST", body=body)
        stop_pending(self.args.database_url_resolved)

    def finished_openai(self) -> tuple[list[str], list[str]]:
        ids = [
            self.create_one("/v1/videos", {"model": "sora-2", "prompt": DONE})["id"] for _ in range(FINISHED)
        ]
        store = FileContentStore(self.work / "content")
        for vid in ids:
            wait_until(f"{vid} completed and stored", functools.partial(self.stored, store, vid))
        natives = [self.native(vid) for vid in ids]
        return ids, natives

    def create_one(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = httpx.post(self.gateway.url + path, json=body, headers=self.auth, timeout=30)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def stored(self, store: FileContentStore, vid: str) -> bool:
        return self.status(vid) == "completed" and (store.job_dir(vid) / "video").is_file()

    def operation_done(self, name: str) -> bool:
        reply = httpx.get(f"{self.gateway.url}/gemini/v1beta/{name}", headers=self.auth)
        return bool(reply.json().get("done"))

    def status(self, vid: str) -> str:
        return str(httpx.get(f"{self.gateway.url}/v1/videos/{vid}", headers=self.auth).json()["status"])

    def native(self, vid: str) -> str:
        """The upstream id of a gateway job (read from the gateway's database)."""
        return self.natives[vid]

    def status_polls(self) -> None:
        ids, natives = self.finished_openai()
        paths = {"direct": [f"/v1/videos/{n}" for n in natives], "gateway": [f"/v1/videos/{v}" for v in ids]}
        self.both("status poll GET /v1/videos/{id} (completed)", paths, 16)

    def listing(self) -> None:
        """An owner's newest page and the master key's page of every owner's videos."""
        for _ in range(FINISHED):
            self.create_one("/v1/videos", {"model": "sora-2", "prompt": DONE})
        page = "/v1/videos?limit=20"
        paths = {"direct": [page], "gateway": [page]}
        self.both("list GET /v1/videos?limit=20, own videos", paths, 16)
        master = {"Authorization": f"Bearer {MASTER}"}
        self.both("list GET /v1/videos?limit=20, master key (all)", paths, 16, gateway_auth=master)

    def growth(self, prefilled: int) -> None:
        """Each figure measured on the store as it started and again with ``prefilled`` more jobs."""
        print(f"\nas the store grows: the same figures before and after {prefilled} finished jobs were added")
        head = f"{'p50 ms':>15s} {'ratio':>6s} {'req/s':>13s} {'ratio':>6s} {'gw/direct':>11s}"
        print(f"  {'figure (gateway side)':66s} {head}")
        for (stage, label), before in self.figures.items():
            after = self.figures.get(("prefilled", label))
            if stage != "empty" or after is None:
                continue
            b, a = before["gateway"], after["gateway"]
            share = (b["rps"] / before["direct"]["rps"], a["rps"] / after["direct"]["rps"])
            print(
                f"  {label[:66]:66s} {b['p50']:6.2f} -> {a['p50']:6.2f} {a['p50'] / b['p50']:6.2f} "
                f"{b['rps']:5.0f} -> {a['rps']:5.0f} {a['rps'] / b['rps']:6.2f} "
                f"{share[0]:4.2f} -> {share[1]:4.2f}"
            )

    def passthrough(self) -> None:
        ops = []
        for _ in range(FINISHED):
            body = {"instances": [{"prompt": DONE}], "parameters": {"durationSeconds": 8}}
            ops.append(self.create_one(f"/gemini/v1beta/models/{VEO}:predictLongRunning", body)["name"])
        for name in ops:
            wait_until(f"{name} done", functools.partial(self.operation_done, name))
        natives = [self.native(name.rpartition("/")[2]) for name in ops]
        paths = {
            "direct": [f"/v1beta/{n}" for n in natives],
            "gateway": [f"/gemini/v1beta/{name}" for name in ops],
        }
        self.both("Gemini pass-through operation poll (done)", paths, 16)

    def content(self, big: Path) -> None:
        ids, natives = self.finished_openai()
        block = os.urandom(1 << 20)
        with big.open("wb") as out:
            for _ in range(self.args.big_mb):
                out.write(block)
        store = FileContentStore(self.work / "content")
        for vid in ids:
            target = store.job_dir(vid) / "video"
            tmp = target.with_name("video.big")
            os.link(big, tmp)
            os.replace(tmp, target)
        size = big.stat().st_size

        def stream(side: str, paths: list[str], connections: int) -> tuple[Result, float, float]:
            client = time.process_time()
            result, cpu = self.run(side, paths, connections=connections, requests_per_connection=2, sink=True)
            client = time.process_time() - client
            if result.bytes != size * result.requests:
                raise RuntimeError(f"{side}: expected {size} bytes per download")
            # CPU seconds per GB sent: the server's, and this process's (the client: it shares the cores)
            return result, cpu / 1e6 / (size / 1e9), client / (result.bytes / 1e9)

        paths = {
            "direct": [f"/v1/videos/{n}/content" for n in natives[:4]],
            "gateway": [f"/v1/videos/{v}/content" for v in ids[:4]],
        }
        streams = alternate(self.args.rounds, lambda side: stream(side, paths[side], 4))
        direct_mb = med([r.mb_per_s for r, _, _ in streams["direct"]])
        gateway_mb = med([r.mb_per_s for r, _, _ in streams["gateway"]])
        mb = self.args.big_mb
        print(f"\ncontent GET /v1/videos/{{id}}/content, {mb} MB video, 4 connections x 2 downloads")
        for side, figure in (("direct", direct_mb), ("gateway", gateway_mb)):
            rounds = ", ".join(f"{r.mb_per_s:.0f}" for r, _, _ in streams[side])
            cpu = med([c for _, c, _ in streams[side]])
            client = med([c for _, _, c in streams[side]])
            print(
                f"  {side:8s} {figure:8.0f} MB/s   CPU s/GB: server {cpu:5.2f}, client {client:5.2f}   "
                f"(rounds: {rounds})"
            )
        print(f"  gateway/direct: {gateway_mb / direct_mb:.2f}  (aim >= 0.80)")

        proc = self.gateway.ps
        baseline = proc.memory_info().rss
        peak = [baseline]
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(proc, stop, peak), daemon=True)
        sampler.start()
        started = time.perf_counter()
        paths10 = [f"/v1/videos/{v}/content" for v in ids[:10]]
        result, _ = measured(
            self.gateway,
            self.gateway.url,
            paths10,
            self.auth,
            connections=10,
            requests_per_connection=1,
            sink=True,
        )
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        growth = (peak[0] - baseline) / (1 << 20)
        print(
            f"\n10 concurrent {mb} MB downloads through the gateway: {result.bytes / 1e9:.2f} GB "
            f"in {elapsed:.1f} s; RSS {baseline / (1 << 20):.0f} MB -> peak {peak[0] / (1 << 20):.0f} MB, "
            f"growth {growth:.1f} MB  (aim < 64 MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each timed run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway rounds per figure")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--prefill", type=int, default=0, help="finished jobs inserted before measuring")
    parser.add_argument(
        "--direct",
        choices=("starlette", "raw"),
        default="starlette",
        help="the fake upstream's front end (bench/upstream.py --front)",
    )
    parser.add_argument(
        "--gateway-log-level",
        default="info",
        choices=["info", "warning"],
        help="info: the JSON access line per request (the default, as served); warning: without it",
    )
    parser.add_argument("--py-spy", default=None, help="a directory: py-spy profiles of the gateway runs")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the streamed video")
    args = parser.parse_args()
    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    with tempfile.TemporaryDirectory(prefix="vidgate-bench-") as tmp:
        work = Path(tmp)
        big: Path | None = None
        if "content" in sections:
            big = work / "big.mp4"  # written once the jobs' small videos are stored (``Bench.content``)
        with database(args.database_url, work) as url:
            upstream = start_upstream(work, big, args.direct)
            gateway: Server | None = None
            try:
                gateway = start_gateway(work, upstream, url, args.gateway_log_level)
                store = "PostgreSQL" if args.database_url else "SQLite"
                args.database_url_resolved = url
                bench = Bench(args, work, upstream, gateway)
                print(
                    f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; store {store}; "
                    f"direct: bench/upstream.py --front {args.direct}; "
                    f"{args.rounds} alternating rounds of {args.seconds:g} s, median shown"
                )
                if args.prefill:
                    bench.stage = "empty"
                    run_sections(bench, sections, big)
                    took = prefill(url, args.prefill)
                    print(
                        f"\nprefilled {args.prefill} finished jobs in {took:.1f} s; "
                        f"load average {os.getloadavg()[0]:.2f}"
                    )
                    bench.stage = "prefilled"
                run_sections(bench, sections, big)
                if args.prefill:
                    bench.growth(args.prefill)
                    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
            finally:
                if gateway is not None:
                    gateway.stop()
                upstream.stop()


def run_sections(bench: Bench, sections: list[str], big: Path | None) -> None:
    for section in sections:
        if section == "create":
            bench.create()
        elif section == "passthrough":
            bench.passthrough()
        elif section == "status":
            bench.status_polls()
        elif section == "list":
            bench.listing()
        elif big is not None:
            bench.content(big)


class Natives(dict[str, str]):
    """Gateway job id -> upstream id, read from the gateway's database on first use."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url

    def __missing__(self, vid: str) -> str:
        async def lookup() -> str:
            db = Database(self.database_url)
            try:
                return str(
                    await db.read(
                        lambda conn: (
                            conn.execute(jobs.select().where(jobs.c.id == vid)).mappings().one()["native_id"]
                        )
                    )
                )
            finally:
                await db.dispose()

        native = asyncio.run(lookup())
        self[vid] = native
        return native


if __name__ == "__main__":
    main()
