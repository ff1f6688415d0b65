from __future__ import annotations

import pytest

from vidgate.server.ranges import ByteRange, content_range, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-", ByteRange(0, None)),
        ("bytes=100-199", ByteRange(100, 199)),
        ("bytes= 5 - 9", ByteRange(5, 9)),
        ("bytes=-500", ByteRange(None, None, suffix=500)),
        ("BYTES=1-2", ByteRange(1, 2)),
    ],
)
def test_parses_single_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "items=0-1",
        "bytes=0-1,5-6",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=5",
        "bytes=-",
        "bytes=²-",
        "bytes=-²",
    ],
)
def test_ignores_what_it_cannot_serve_as_one_range(header: str | None) -> None:
    assert parse_range(header) is None


def test_resolve_clamps_the_end_and_refuses_a_start_past_the_end() -> None:
    assert ByteRange(0, None).resolve(10) == (0, 9)
    assert ByteRange(2, 100).resolve(10) == (2, 9)
    assert ByteRange(10, None).resolve(10) is None
    assert ByteRange(None, None, suffix=3).resolve(10) == (7, 9)
    assert ByteRange(None, None, suffix=30).resolve(10) == (0, 9)
    assert ByteRange(None, None, suffix=0).resolve(10) is None


def test_content_range_header() -> None:
    assert content_range(0, 99, 1000) == "bytes 0-99/1000"
    assert content_range(5, 9, None) == "bytes 5-9/*"


def test_a_start_no_file_reaches_stays_unsatisfiable() -> None:
    """Beyond 64 bits (and Python's 4,300-digit int() limit) a start is still a number past the end."""
    for digits in ("9" * 20, "9" * 5000):
        parsed = parse_range(f"bytes={digits}-")
        assert parsed is not None
        assert parsed.resolve(1000) is None
