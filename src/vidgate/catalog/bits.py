"""An MSB-first bit reader for the parameter sets ``catalog.mp4`` reads (H.264/H.265 SPSs, AV1
sequence headers), and the error a set that cannot be read raises."""

from __future__ import annotations


class BadSet(Exception):
    """A parameter set that cannot be read: cut short, an exp-Golomb code over 32 bits, a value out of
    range (which ffmpeg's decoders refuse too)."""


class Bits:
    """An MSB-first bit reader over a NAL unit's payload (emulation-prevention bytes removed). Each read
    costs the same whatever the payload's length."""

    def __init__(self, data: bytes) -> None:
        self.data = data + bytes(8)  # a 64-bit window can be taken at any position
        self.end = 8 * len(data)
        self.at = 0

    def _window(self) -> tuple[int, int]:
        """The 57 to 64 bits from the position on, and how many they are."""
        byte, shift = divmod(self.at, 8)
        return int.from_bytes(self.data[byte : byte + 8], "big") & ((1 << (64 - shift)) - 1), 64 - shift

    def u(self, n: int) -> int:
        """``n`` (at most 57) bits as an unsigned number."""
        if self.at + n > self.end:
            raise BadSet
        window, width = self._window()
        self.at += n
        return window >> (width - n)

    def skip(self, n: int) -> None:
        if self.at + n > self.end:
            raise BadSet
        self.at += n

    def ue(self) -> int:
        """An unsigned exp-Golomb code (H.264/H.265 9.2); one of more than 32 leading zeros is refused."""
        window, width = self._window()
        zeros = width - window.bit_length()
        if zeros > 32:
            raise BadSet
        self.at += zeros
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)
