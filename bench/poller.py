"""The background poller with many pending jobs: upstream polls per job per minute, and its CPU.

    .venv/bin/python bench/poller.py [--jobs 10000] [--seconds 60] [--poll-after-ms 20000]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--py-spy FILE]

The fake upstream (``bench/upstream.py``) holds ``--jobs`` jobs that stay in progress and answers every
create and poll with ``openai-poll-after-ms`` (``--poll-after-ms 0``: no hint, so the gateway's own
schedule by job age applies: every 15 s for jobs older than 5 minutes, as these are). The gateway's
database gets the same jobs as pending rows of one key, their next polls spread over one interval, and
the gateway (one worker, poller on) runs for one interval (warm-up) and then ``--seconds``. Printed:
upstream polls per job per minute against what the hint allows, the shortest gap between two polls of
one job (no job may be polled more often than its interval), how many jobs were never polled, and the
gateway's CPU (its poller is the only thing running) per poll and in total. ``--py-spy FILE``: a
py-spy profile of the gateway over the measured window (raw folded stacks, for finding where the
poller's CPU goes; the sampling itself costs the gateway a little CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sidebyside import MASTER, PROMPT, database, start_gateway, start_upstream

from vidgate.gateway.records import JobRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import job_to_row
from vidgate.store.sql.tables import jobs


def pending_rows(template: dict[str, Any], natives: list[str], interval: float) -> list[dict[str, Any]]:
    """One pending in-progress job per upstream id, next polls spread evenly over ``interval``."""
    now = time.time()
    rows = []
    for i, native in enumerate(natives):
        created = int(now - 600 - random.random() * 3000)
        job = JobRecord(
            id=f"video_{created:08x}{os.urandom(12).hex()}",
            owner_key_id=template["owner_key_id"],
            model_name=template["model_name"],
            deployment_id=template["deployment_id"],
            provider=template["provider"],
            native_id=native,
            status="in_progress",
            created_at=created,
            size="720x1280",
            seconds="4",
            progress=50,
            prompt=PROMPT,
            reserved_micros=0,
            next_poll_at=now + interval * i / len(natives),
        )
        rows.append(job_to_row(job))
    return rows


def insert_rows(conn: Any, batch: list[dict[str, Any]]) -> None:
    conn.execute(jobs.insert(), batch)


async def fill(database_url: str, rows: list[dict[str, Any]]) -> None:
    db = Database(database_url)
    try:
        for start in range(0, len(rows), 2000):
            batch = rows[start : start + 2000]
            await db.write(insert_rows, batch)
    finally:
        await db.dispose()


async def first_job(database_url: str) -> dict[str, Any]:
    db = Database(database_url)
    try:
        return await db.read(lambda conn: dict(conn.execute(jobs.select().limit(1)).mappings().one()))
    finally:
        await db.dispose()


async def upstream_jobs(url: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        ids: list[str] = []
        for start in range(0, count, 200):
            replies = await asyncio.gather(
                *(
                    client.post("/v1/videos", json={"model": "sora-2", "prompt": PROMPT})
                    for _ in range(min(200, count - start))
                )
            )
            ids += [r.json()["id"] for r in replies]
        return ids


def spy_on(pid: int, out: str | None, seconds: float) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the gateway for ``seconds`` (``--py-spy FILE``)."""
    if out is None:
        return None
    spy = str(Path(sys.executable).with_name("py-spy"))
    args = [spy, "record", "-p", str(pid), "-r", "100", "-d", str(int(seconds)), "-f", "raw", "-o", out]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll-after-ms", type=int, default=20_000, help="the upstream's hint; 0: none")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--py-spy", default=None, help="a file: py-spy profile of the gateway (raw stacks)")
    args = parser.parse_args()
    hint = args.poll_after_ms or None
    interval = hint / 1000 if hint else 15.0  # without a hint: the gateway's schedule for old jobs
    with tempfile.TemporaryDirectory(prefix="vidgate-bench-") as tmp:
        work = Path(tmp)
        with database(args.database_url, work) as url:
            upstream = start_upstream(work, None, "starlette", poll_after_ms=hint)
            gateway = None
            try:
                gateway = start_gateway(work, upstream, url)
                admin = {"Authorization": f"Bearer {MASTER}"}
                key = httpx.post(gateway.url + "/key/generate", json={"key_alias": "poller"}, headers=admin)
                auth = {"Authorization": f"Bearer {key.json()['key']}"}
                body = {"model": "sora-2", "prompt": PROMPT}
                httpx.post(gateway.url + "/v1/videos", json=body, headers=auth).raise_for_status()
                template = asyncio.run(first_job(url))
                natives = asyncio.run(upstream_jobs(upstream.url, args.jobs))
                asyncio.run(fill(url, pending_rows(template, natives, interval)))
                time.sleep(interval)  # warm-up: one interval, so every job has been polled once
                spy = spy_on(gateway.proc.pid, args.py_spy, args.seconds)
                cpu_before, started = gateway.cpu(), time.time()
                time.sleep(args.seconds)
                cpu = gateway.cpu() - cpu_before
                ended = time.time()
                if spy is not None:
                    spy.wait(timeout=60)
                stats = httpx.get(upstream.url + "/stats").json()["polls"]
            finally:
                if gateway is not None:
                    gateway.stop()
                upstream.stop()
    report(args, natives, stats, started, ended, cpu, interval)


def report(
    args: argparse.Namespace,
    natives: list[str],
    stats: dict[str, list[float]],
    started: float,
    ended: float,
    cpu: float,
    interval: float,
) -> None:
    minutes = (ended - started) / 60
    counts, gaps = [], []
    for native in natives:
        times = [t for t in stats.get(native, []) if started <= t <= ended]
        counts.append(len(times))
        every = sorted(stats.get(native, []))
        gaps += [b - a for a, b in itertools.pairwise(every)]
    polls = sum(counts)
    hint = f"openai-poll-after-ms {args.poll_after_ms}" if args.poll_after_ms else "no hint (schedule by age)"
    seconds = ended - started
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f}; {len(natives)} pending jobs")
    print(f"  upstream: {hint}")
    print(f"  upstream polls: {polls} ({polls / (ended - started):.0f}/s)")
    print(
        f"  polls per pending job per minute: {polls / len(natives) / minutes:.2f} "
        f"(at most {60 / interval:.2f} allowed by a {interval:g} s interval); "
        f"median per job {statistics.median(counts) / minutes:.2f}"
    )
    never = sum(1 for c in counts if c == 0)
    print(f"  jobs never polled in the window: {never}")
    if gaps:
        early = sum(1 for g in gaps if g < interval - 0.05)
        print(
            f"  gap between two polls of one job: shortest {min(gaps):.2f} s, "
            f"median {statistics.median(gaps):.2f} s; "
            f"{early} of {len(gaps)} shorter than the {interval:g} s interval"
        )
    print(
        f"  gateway CPU: {cpu:.1f} s in {seconds:.0f} s ({100 * cpu / seconds:.1f} % of a core), "
        f"{1e6 * cpu / max(polls, 1):.0f} us per upstream poll"
    )


if __name__ == "__main__":
    main()
