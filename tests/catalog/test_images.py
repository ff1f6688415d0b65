"""Image headers read without Pillow: format and size for PNG, JPEG (baseline and progressive) and WebP
(lossy, lossless, extended); anything else is described, not decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tests.support.images import image_bytes

from vidgate.catalog.images import ImageInfo, looks_like, sniff


@pytest.mark.parametrize("kind", ["png", "jpeg", "webp"])
@pytest.mark.parametrize(("width", "height"), [(1280, 720), (720, 1280), (1, 1), (333, 77)])
def test_size_of_real_images(kind: str, width: int, height: int) -> None:
    assert sniff(image_bytes(width, height, kind)) == ImageInfo(kind, width, height)


@pytest.mark.parametrize(
    ("fmt", "options", "expected"),
    [
        ("JPEG", {"progressive": True}, "jpeg"),
        ("WEBP", {"lossless": True}, "webp"),  # VP8L
        ("PNG", {}, "png"),
    ],
)
def test_size_of_other_encodings(fmt: str, options: dict[str, object], expected: str) -> None:
    out = io.BytesIO()
    Image.new("RGBA" if fmt != "JPEG" else "RGB", (321, 123), (1, 2, 3)).save(out, format=fmt, **options)
    assert sniff(out.getvalue()) == ImageInfo(expected, 321, 123)


def test_extended_webp_with_alpha() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (1, 2, 3, 100)).save(out, format="WEBP", lossless=False, exif=b"Exif\0\0")
    data = out.getvalue()
    assert data[12:16] == b"VP8X"
    assert sniff(data) == ImageInfo("webp", 50, 40)


def test_a_truncated_header_is_the_format_without_a_size() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n") == ImageInfo("png")
    assert sniff(b"\xff\xd8\xffdata") == ImageInfo("jpeg")
    assert ImageInfo("png").size is None


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (b"", "the file is empty"),
        (b"\x00\x00\x00\x20ftypisom", "it looks like an MP4/MOV video"),
        (b"GIF89a\x01\x00", "it is a GIF image"),
        (b"%PDF-1.7", "it looks like a PDF document"),
        (b"hello, world\n", "it looks like text"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", "it starts with the bytes 00 01 02 03 04 05 06 07"),
    ],
)
def test_what_non_images_look_like(data: bytes, description: str) -> None:
    assert sniff(data) is None
    assert looks_like(data) == description
