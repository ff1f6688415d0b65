"""A log handler that gathers lines and writes them in few ``write`` calls, nginx's buffered
``access_log`` in small.

The access log is one line per request. Written and flushed one at a time, each line was a system call
on the request path: about a third of a cached status poll's CPU in ``vidgate serve``. Gathered per
event-loop turn it was still one ``write`` per turn, under load nearly one per request (the access
line cost 14.5 µs of a 71 µs status poll: ``bench/sidebyside.py --only status`` with
``--gateway-log-level info`` against ``warning``). Lines emitted on the event loop's thread are now
gathered and written:

- at the end of the turn, when nothing was written in the last ``FLUSH_SECONDS`` (a quiet server writes
  each line at once) or when a full write's worth of lines is waiting (the bound below);
- otherwise ``FLUSH_SECONDS`` after the last write (a busy server writes a few times a second, in
  chunks of that bound).

A line from any other thread (or with no loop running) first writes what is gathered, then itself, so
the order of lines is kept; ``flush`` (at shutdown, ``logging.shutdown``) writes what is gathered. A
crash loses at most the last ``FLUSH_SECONDS`` of lines.

Each ``write`` holds whole lines and at most ``PIPE_BUF`` bytes (unless one line is longer), so the
workers of ``vidgate serve --workers N`` sharing one stderr pipe never interleave inside a line. When
the stream is a regular file the bound is ``FILE_CHUNK`` (Linux serializes writes to one open file, so
whole writes never interleave there either): 64 KiB writes to a log file made a status poll ~5 µs
cheaper than 4 KiB ones (``bench/sidebyside.py --only status``, 0.83-0.88 -> 0.92 of direct).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from typing import TextIO

PIPE_BUF = 4096  # POSIX: a pipe write up to this size is atomic
FILE_CHUNK = 65536  # the bound of a write to a regular file
FLUSH_SECONDS = 0.05  # the longest a gathered line waits for its write


class LoopBatchingStreamHandler(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._size = 0  # characters pending (a lower bound of their bytes)
        self._batch = threading.Lock()
        self._last_write = float("-inf")  # time.monotonic() of the last write
        self._scheduled: asyncio.Handle | None = None  # the pending flush, on ``_scheduled_loop``
        self._scheduled_loop: asyncio.AbstractEventLoop | None = None
        self._soon = False  # the pending flush runs at the end of the current turn
        self._chunk: tuple[object, int] | None = None  # (stream, its write bound)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._add(line)

    def passes_messages(self) -> bool:
        """Whether an INFO record would be written as its bare message: no filter, the level lets it
        through, and the format is ``%(message)s``. Then ``line`` writes what ``emit`` would."""
        formatter = self.formatter
        return (
            self.level <= logging.INFO
            and not self.filters
            and type(formatter) is logging.Formatter
            and type(formatter._style) is logging.PercentStyle
            and formatter._fmt == "%(message)s"
        )

    def line(self, text: str) -> None:
        """Write ``text`` as the line a record with that message would be (see ``passes_messages``):
        the access log's path, without building a ``LogRecord``."""
        self._add(text + self.terminator)

    def _add(self, line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self._write_now(line)
            return
        with self._batch:
            self._pending.append(line)
            self._size += len(line)
            full = self._size >= self._bound()
        scheduled = self._scheduled if self._scheduled_loop is loop else None
        if scheduled is not None and (self._soon or not full):
            return  # a flush is coming soon enough
        if scheduled is not None:
            scheduled.cancel()  # a full write's worth waits no longer: at the end of this turn
        wait = self._last_write + FLUSH_SECONDS - time.monotonic()
        self._soon = full or wait <= 0
        if self._soon:
            self._scheduled = loop.call_soon(self.flush)
        else:
            self._scheduled = loop.call_later(wait, self.flush)
        self._scheduled_loop = loop

    def _write_now(self, line: str) -> None:
        with self._batch:
            pending, self._pending, self._size = self._pending, [], 0
            pending.append(line)
            self._write(pending)

    def flush(self) -> None:
        with self._batch:
            pending, self._pending, self._size = self._pending, [], 0
            self._scheduled = self._scheduled_loop = None
            self._write(pending)

    def _bound(self) -> int:
        """The most bytes one write may hold on this stream: ``FILE_CHUNK`` for a regular file,
        ``PIPE_BUF`` otherwise (a pipe, a terminal, a stream with no file descriptor)."""
        stream = self.stream
        if self._chunk is None or self._chunk[0] is not stream:
            try:
                regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
            except (AttributeError, OSError, ValueError):
                regular = False
            self._chunk = (stream, FILE_CHUNK if regular else PIPE_BUF)
        return self._chunk[1]

    def _write(self, lines: list[str]) -> None:
        if lines:
            self._last_write = time.monotonic()
        for chunk in _chunks(lines, self._bound()):
            self.stream.write(chunk)
            self.stream.flush()
        if not lines and self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()


def _chunks(lines: list[str], bound: int) -> Iterator[str]:
    """Whole lines, joined up to ``bound`` bytes (characters bound bytes from below: checked as bytes)."""
    group: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode("utf-8", "replace")) if not line.isascii() else len(line)
        if group and size + length > bound:
            yield "".join(group)
            group, size = [], 0
        group.append(line)
        size += length
    if group:
        yield "".join(group)
