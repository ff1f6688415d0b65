"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams (uvloop when installed).

Python HTTP clients cost more per request than the servers we measure; this one parses only the status
line and Content-Length, so on loopback it can drive several thousand requests per second from one
core and the figures describe the server, not the client.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    bytes: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[index] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


def request_bytes(
    host: str, port: int, path: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return "\r\n".join([*lines, "", ""]).encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """(status, body bytes). Reads a Content-Length or chunked body, discarding it."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.find(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
        await reader.readexactly(length)
        return status, length
    if b"\r\ntransfer-encoding: chunked" in lower:
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, total
            await reader.readexactly(size + 2)
            total += size
    return status, 0


class _Sink(asyncio.BufferedProtocol):
    """A download client that keeps no body: the kernel copies each read into one reused 1 MiB buffer.

    A ``StreamReader`` copies every byte twice more (into its buffer, then out as ``bytes``) and, with
    a server faster than the client, holds MiBs: on 2 shared cores it cost 1.0-1.2 s of CPU per GB,
    more than either server, so the download figures measured the client. One response at a time;
    the body must have a Content-Length."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(1 << 20))
        self.head = bytearray()
        self.status = 0
        self.length = 0
        self.left: int | None = None  # body bytes still to come; None while reading the head
        self.done: asyncio.Future[tuple[int, int]] | None = None
        self.lost: BaseException | None = None

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.left is None:
            self.head += self.view[:nbytes]
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.head[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self._finish(ConnectionError("a download without Content-Length"))
                return
            stop = head.find(b"\r\n", at + 2)
            self.status = int(head[9:12])
            self.length = int(head[at + 17 : None if stop < 0 else stop])
            self.left = self.length - (len(self.head) - end - 4)
            self.head.clear()
        else:
            self.left -= nbytes
        if self.left <= 0:
            self.left = None
            self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        if self.done is not None and not self.done.done():
            if error is None:
                self.done.set_result((self.status, self.length))
            else:
                self.done.set_exception(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("connection closed mid-body")
        self._finish(self.lost)

    async def response(self) -> tuple[int, int]:
        if self.lost is not None:
            raise self.lost
        self.done = asyncio.get_running_loop().create_future()
        return await self.done


async def _sink_connection(
    host: str,
    port: int,
    requests: Sequence[bytes],
    until: float,
    max_requests: int | None,
    result: Result,
    record_from: float,
) -> None:
    transport, sink = await asyncio.get_running_loop().create_connection(_Sink, host, port)
    i = 0
    try:
        while time.perf_counter() < until and (max_requests is None or i < max_requests):
            payload = requests[i % len(requests)]
            i += 1
            started = time.perf_counter()
            transport.write(payload)
            try:
                status, size = await sink.response()
            except ConnectionError:
                result.errors += 1
                break
            done = time.perf_counter()
            if started >= record_from:
                result.requests += 1
                result.bytes += size
                result.latencies.append(done - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        transport.close()


async def _connection(
    host: str,
    port: int,
    requests: Sequence[bytes],
    until: float,
    max_requests: int | None,
    result: Result,
    record_from: float,
) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
    i = 0
    try:
        while time.perf_counter() < until and (max_requests is None or i < max_requests):
            payload = requests[i % len(requests)]
            i += 1
            started = time.perf_counter()
            writer.write(payload)
            try:
                status, size = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                result.errors += 1
                break
            done = time.perf_counter()
            if started >= record_from:
                result.requests += 1
                result.bytes += size
                result.latencies.append(done - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    paths: Sequence[str],
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float | None = None,
    warmup: float = 0.5,
    requests_per_connection: int | None = None,
    sink: bool = False,
    method: str = "GET",
    body: bytes | None = None,
) -> Result:
    """Keep ``connections`` connections busy for ``seconds`` (after ``warmup``), or until each has sent
    ``requests_per_connection``; cycles through ``paths`` (each request ``method`` with ``body``).
    ``sink``: downloads, read by ``_Sink`` (bodies counted, not kept)."""
    payloads = [request_bytes(host, port, p, headers, method, body) for p in paths]
    result = Result()
    start = time.perf_counter()
    record_from = start + (warmup if seconds is not None else 0.0)
    until = record_from + seconds if seconds is not None else float("inf")
    tasks = []
    for c in range(connections):
        mine = payloads[c % len(payloads) :] + payloads[: c % len(payloads)]
        if sink:
            work = _sink_connection(host, port, mine, until, requests_per_connection, result, record_from)
        else:
            work = _connection(host, port, mine, until, requests_per_connection, result, record_from)
        tasks.append(asyncio.create_task(work))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - record_from
    return result
