"""The random pool hands out kernel random bytes in order, never twice, and a forked child its own."""

from __future__ import annotations

import os

import pytest

from vidgate.gateway import entropy
from vidgate.gateway.entropy import RandomPool


def test_bytes_come_from_urandom_in_blocks_and_are_never_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [bytes(range(0, 8)), bytes(range(100, 108))]
    calls: list[int] = []

    def urandom(n: int) -> bytes:
        calls.append(n)
        return blocks[len(calls) - 1]

    monkeypatch.setattr(os, "urandom", urandom)
    pool = RandomPool(block=8)
    assert pool.take(3) == bytes([0, 1, 2])
    assert pool.take(5) == bytes([3, 4, 5, 6, 7])
    assert calls == [8]
    assert pool.take(2) == bytes([100, 101])  # the old block was used up: a new one, not a rerun
    assert calls == [8, 8]


def test_a_request_larger_than_a_block_gets_a_block_of_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "urandom", lambda n: bytes(n))
    assert len(RandomPool(block=4).take(10)) == 10


def test_randbits_and_token_hex_have_the_asked_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "urandom", lambda n: b"\xff" * n)
    pool = RandomPool(block=64)
    assert pool.randbits(80) == (1 << 80) - 1
    assert pool.randbits(12) == 0xFFF  # 2 bytes drawn, shifted down to 12 bits
    assert pool.token_hex(6) == "ff" * 6


def test_forget_drops_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = iter([b"\x01" * 8, b"\x02" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(blocks))
    pool = RandomPool(block=8)
    assert pool.take(2) == b"\x01\x01"
    pool.forget()
    assert pool.take(2) == b"\x02\x02"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_hand_out_the_parents_bytes() -> None:
    entropy.pool.forget()
    entropy.pool.take(1)  # the parent holds a fresh block, all but one byte of it unused
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.write(write, entropy.pool.take(16))
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert child != entropy.pool.take(16)  # the parent's next bytes: the child drew its own block
