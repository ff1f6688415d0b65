"""Random bits for ids minted on the request path, drawn from the kernel's CSPRNG in blocks.

``secrets`` makes one ``getrandom`` call per value, and that call releases the GIL: under load the
event loop then waited for the SQLite writer thread to hand it back, twice per create (the video id
and the write-ahead lease owner; 25-160 µs a call in cProfile runs of creates at 8 connections).
The bytes are the same ``os.urandom`` bytes ``secrets`` uses, fetched ``BLOCK`` at a time; a forked
child drops the block it inherited, so two processes never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading

BLOCK = 4096  # bytes per getrandom call: 256 video ids


class RandomPool:
    def __init__(self, block: int = BLOCK) -> None:
        self._block = block
        self._lock = threading.Lock()
        self._buffer = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        """``n`` fresh random bytes (never handed out twice)."""
        with self._lock:
            if self._at + n > len(self._buffer):
                self._buffer = os.urandom(max(self._block, n))
                self._at = 0
            out = self._buffer[self._at : self._at + n]
            self._at += n
        return out

    def randbits(self, k: int) -> int:
        """A non-negative int of ``k`` random bits (``secrets.randbits``)."""
        value = int.from_bytes(self.take((k + 7) // 8), "big")
        return value >> (-k % 8)

    def token_hex(self, nbytes: int) -> str:
        """``2 * nbytes`` random hex characters (``secrets.token_hex``)."""
        return self.take(nbytes).hex()

    def forget(self) -> None:
        """Drop the unused bytes (in a forked child: the parent hands them out too)."""
        with self._lock:
            self._buffer = b""
            self._at = 0


pool = RandomPool()  # the process's pool
os.register_at_fork(after_in_child=pool.forget)
