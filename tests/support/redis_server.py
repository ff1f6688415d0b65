"""A real ``redis-server`` of the test's own on a free loopback port, so a test can stop it (the shared
Redis of ``VIDGATE_TEST_REDIS_URL`` must stay up for the others)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.cli import free_port

START_TIMEOUT = 10.0


class RedisServer:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.proc = proc

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Kill it and wait: afterwards every connection to it is refused."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=START_TIMEOUT)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start one (skipping the test when ``redis-server`` is not installed) and kill it at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH: this test stops a real Redis of its own")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(port, proc)
    try:
        for _ in range(int(START_TIMEOUT / 0.05)):
            if _answers(port):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode} before answering")
            proc_wait(proc, 0.05)
        else:
            raise RuntimeError(f"redis-server did not answer on port {port} within {START_TIMEOUT} s")
        yield server
    finally:
        server.stop()


def proc_wait(proc: subprocess.Popen[bytes], seconds: float) -> None:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return
