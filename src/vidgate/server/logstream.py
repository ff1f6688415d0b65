"""A log handler that writes the lines of one event-loop turn with one ``write``.

The access log is one line per request. Written and flushed one at a time, each line was a system call
on the request path: about a third of a cached status poll's CPU in ``vidgate serve`` (a status-poll
run of ``bench/sidebyside.py`` with ``BENCH_LOG_LEVEL=warning`` against ``info`` shows it). Lines
emitted on the event loop's thread are gathered and written together at the end of the loop's
current turn (``call_soon``), so nothing waits for a timer and a quiet server writes each line at once;
a line from any other thread (or with no loop running) first writes what is gathered, then itself,
so the order of lines is kept. A crash loses at most the lines of the turn in progress.

Each ``write`` holds whole lines and at most ``PIPE_BUF`` bytes (unless one line is longer), so the
workers of ``vidgate serve --workers N`` sharing one stderr pipe never interleave inside a line.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import TextIO

PIPE_BUF = 4096  # POSIX: a pipe write up to this size is atomic


class LoopBatchingStreamHandler(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._batch = threading.Lock()

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
        the access log's path, without building a ``LogRecord`` (~4 µs of a status poll's CPU)."""
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
            first = not self._pending
            self._pending.append(line)
        if first:
            loop.call_soon(self.flush)

    def _write_now(self, line: str) -> None:
        with self._batch:
            pending, self._pending = self._pending, []
            pending.append(line)
            self._write(pending)

    def flush(self) -> None:
        with self._batch:
            pending, self._pending = self._pending, []
            self._write(pending)

    def _write(self, lines: list[str]) -> None:
        for chunk in _chunks(lines):
            self.stream.write(chunk)
            self.stream.flush()
        if not lines and self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()


def _chunks(lines: list[str]) -> Iterator[str]:
    """Whole lines, joined up to PIPE_BUF bytes (characters bound bytes from below: checked as bytes)."""
    group: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode("utf-8", "replace")) if not line.isascii() else len(line)
        if group and size + length > PIPE_BUF:
            yield "".join(group)
            group, size = [], 0
        group.append(line)
        size += length
    if group:
        yield "".join(group)
