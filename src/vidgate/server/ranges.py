"""HTTP ``Range`` for content downloads (RFC 9110 §14): one byte range, as a browser ``<video>`` asks.

A header we do not understand, or one asking for several ranges, is ignored (the full body is served
with 200, which the RFC allows); a syntactically valid range beyond the end answers 416.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    """``start``/``end`` as written (``end`` inclusive, None = to the end); ``suffix`` = last N bytes."""

    start: int | None
    end: int | None
    suffix: int | None = None

    def resolve(self, total: int) -> tuple[int, int] | None:
        """The inclusive (first, last) byte positions within ``total`` bytes; None if unsatisfiable."""
        if self.suffix is not None:
            if self.suffix == 0 or total == 0:
                return None
            return max(0, total - self.suffix), total - 1
        assert self.start is not None
        if self.start >= total:
            return None
        last = total - 1 if self.end is None else min(self.end, total - 1)
        return self.start, last


def parse_range(header: str | None) -> ByteRange | None:
    """``bytes=0-``, ``bytes=100-199``, ``bytes=-500``; None for no header or one we ignore."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not first:
        if not last.isdigit():
            return None
        return ByteRange(None, None, suffix=int(last))
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start = int(first)
    end = int(last) if last else None
    if end is not None and end < start:
        return None
    return ByteRange(start, end)


def content_range(first: int, last: int, total: int | None) -> str:
    return f"bytes {first}-{last}/{'*' if total is None else total}"
