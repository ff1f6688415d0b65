"""The access log's handler: one write per event-loop turn, whole lines, order kept."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import pytest
import uvloop

from vidgate.server import logstream
from vidgate.server.logstream import PIPE_BUF, LoopBatchingStreamHandler


class Recorder:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def _logger(stream: Recorder) -> tuple[logging.Logger, LoopBatchingStreamHandler]:
    handler = LoopBatchingStreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger(f"test.logstream.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log, handler


class Clock:
    """``time`` for the handler: ``monotonic`` moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(logstream, "time", fake)
    return fake


RUNNERS = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.mark.parametrize("runner", RUNNERS)
def test_lines_of_one_loop_turn_are_one_write(runner: str, clock: Clock) -> None:
    stream = Recorder()
    log, _ = _logger(stream)

    async def main() -> None:
        for i in range(5):
            log.info("line %d", i)
        assert stream.writes == []  # gathered until the end of this turn
        await asyncio.sleep(0)
        assert stream.writes == ["line 0\nline 1\nline 2\nline 3\nline 4\n"]

    RUNNERS[runner](main())


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_busy_servers_lines_wait_for_the_flush_interval_after_a_write(
    runner: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logstream, "FLUSH_SECONDS", 0.2)
    stream = Recorder()
    log, _ = _logger(stream)

    async def main() -> None:
        log.info("first")
        await asyncio.sleep(0)
        assert stream.writes == ["first\n"]
        log.info("second")
        log.info("third")
        await asyncio.sleep(0)
        assert stream.writes == ["first\n"]  # written 0.2 s after the last write, not now
        await asyncio.sleep(0.3)  # the flush's timer (0.2 s) was set first: it has fired
        assert stream.writes == ["first\n", "second\nthird\n"]

    RUNNERS[runner](main())


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_full_pipe_buf_of_lines_is_written_at_the_end_of_the_turn(runner: str, clock: Clock) -> None:
    stream = Recorder()
    log, _ = _logger(stream)
    line = "x" * 999

    async def main() -> None:
        log.info("first")
        await asyncio.sleep(0)
        log.info(line)  # within the flush interval: waits
        await asyncio.sleep(0)
        assert stream.writes == ["first\n"]
        for _ in range(4):  # now 5,000 bytes wait: more than PIPE_BUF
            log.info(line)
        await asyncio.sleep(0)
        assert "".join(stream.writes) == "first\n" + (line + "\n") * 5

    RUNNERS[runner](main())


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_quiet_server_writes_each_line_at_the_end_of_its_turn(runner: str, clock: Clock) -> None:
    stream = Recorder()
    log, _ = _logger(stream)

    async def main() -> None:
        log.info("first")
        await asyncio.sleep(0)
        clock.now += logstream.FLUSH_SECONDS  # nothing written for a flush interval
        log.info("second")
        await asyncio.sleep(0)
        assert stream.writes == ["first\n", "second\n"]

    RUNNERS[runner](main())


def test_a_line_from_another_thread_comes_after_the_gathered_ones() -> None:
    stream = Recorder()
    log, _ = _logger(stream)

    async def main() -> None:
        log.info("on the loop")
        worker = threading.Thread(target=log.info, args=("from a thread",))
        worker.start()
        worker.join()
        await asyncio.sleep(0)

    asyncio.run(main())
    assert "".join(stream.writes) == "on the loop\nfrom a thread\n"
    assert stream.writes[0] == "on the loop\nfrom a thread\n"


def test_writes_hold_whole_lines_within_pipe_buf() -> None:
    stream = Recorder()
    log, _ = _logger(stream)
    line = "x" * 999  # 1,000 bytes with the newline

    async def main() -> None:
        for _ in range(10):
            log.info(line)
        log.info("y" * 5000)  # longer than PIPE_BUF: alone
        log.info("é" * 1500)  # 3,001 bytes in UTF-8 though 1,501 characters
        log.info("z")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert "".join(stream.writes) == (line + "\n") * 10 + "y" * 5000 + "\n" + "é" * 1500 + "\nz\n"
    sizes = [len(w.encode()) for w in stream.writes]
    assert sizes == [4000, 4000, 2000, 5001, 3003]
    assert all(w.endswith("\n") for w in stream.writes)
    assert max(s for s in sizes if s != 5001) <= PIPE_BUF


def test_pending_lines_are_written_by_flush_at_shutdown() -> None:
    stream = Recorder()
    log, handler = _logger(stream)

    async def main() -> None:
        log.info("last words")  # the loop ends before its next turn

    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())
    loop.close()
    handler.flush()
    assert "".join(stream.writes) == "last words\n"


class _Descriptor(Recorder):
    """Records writes; its file descriptor says what kind of stream it stands for."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


def _sizes_of_a_burst(stream: Recorder) -> list[int]:
    log, _ = _logger(stream)

    async def main() -> None:
        for _ in range(100):
            log.info("x" * 999)  # 1,000 bytes with the newline
        await asyncio.sleep(0)

    asyncio.run(main())
    assert "".join(stream.writes) == ("x" * 999 + "\n") * 100
    return [len(w) for w in stream.writes]


def test_writes_to_a_regular_file_hold_up_to_file_chunk_and_to_a_pipe_up_to_pipe_buf(tmp_path: Path) -> None:
    with (tmp_path / "log").open("w") as file:
        assert _sizes_of_a_burst(_Descriptor(file.fileno())) == [65000, 35000]
    read, write = os.pipe()
    try:
        assert _sizes_of_a_burst(_Descriptor(write)) == [4000] * 25
    finally:
        os.close(read)
        os.close(write)
    assert _sizes_of_a_burst(Recorder()) == [4000] * 25  # no descriptor: as a pipe
    assert logstream.FILE_CHUNK == 65536
