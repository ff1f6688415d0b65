"""Run the installed ``vidgate`` command as a subprocess, and find free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

VIDGATE = Path(sys.executable).with_name("vidgate")


def run_vidgate(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VIDGATE), *args],
        cwd=cwd,
        env={**os.environ, **(env or {}), "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
