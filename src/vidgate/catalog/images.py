"""What an input image is, read from its header: PNG, JPEG or WebP, and its width and height.

Pure Python on purpose: validation runs in the SDK (``pip install vidgate`` has no Pillow) and in the
gateway before any provider call, so a video, a PDF or a text file given as ``input_reference`` gets a
400 that says so, and an image of the wrong size gets one naming both sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT/JPG/DAC.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # markers without a length field


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png", "jpeg" or "webp", from the file signature
    width: int | None = None  # None when the header is too short or damaged to say
    height: int | None = None

    @property
    def size(self) -> str | None:
        return None if self.width is None or self.height is None else f"{self.width}x{self.height}"


def _be(data: bytes, start: int, length: int) -> int:
    return int.from_bytes(data[start : start + length], "big")


def _le(data: bytes, start: int, length: int) -> int:
    return int.from_bytes(data[start : start + length], "little")


def _png(data: bytes) -> ImageInfo | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return ImageInfo("png", _be(data, 16, 4), _be(data, 20, 4))


def _jpeg(data: bytes) -> ImageInfo | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker in _SOF:
            if i + 9 > len(data):
                return None
            return ImageInfo("jpeg", _be(data, i + 7, 2), _be(data, i + 5, 2))
        if marker == 0xDA:  # start of scan before any frame header: not a valid JPEG
            return None
        i += 2 + _be(data, i + 2, 2)
    return None


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        return ImageInfo("webp", _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = _le(data, 21, 4)
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        return ImageInfo("webp", _le(data, 24, 3) + 1, _le(data, 27, 3) + 1)
    return None


def sniff(data: bytes) -> ImageInfo | None:
    """The format when ``data`` has a PNG, JPEG or WebP signature (else None), and the width and height
    when its header says (a damaged header is the decoder's to report)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data) or ImageInfo("png")
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data) or ImageInfo("jpeg")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data) or ImageInfo("webp")
    return None


def unreadable(data: bytes, info: ImageInfo | None) -> str | None:
    """What ``data`` (``info``: its ``sniff``) is when it is no image a provider can read (for the 400),
    else None: a PNG, JPEG or WebP whose header gives its size. The signature alone passed once, and a
    renderer failed on it."""
    if info is None:
        return looks_like(data)
    if info.size is None:
        return f"a {info.format.upper()} whose header is cut short"
    return None


def looks_like(data: bytes) -> str:
    """A short description of what non-image bytes seem to be, for the error message."""
    if not data:
        return "the file is empty"
    if data[4:8] == b"ftyp":
        return "it looks like an MP4/MOV video"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "it is a GIF image"
    if data.startswith(b"%PDF"):
        return "it looks like a PDF document"
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it starts with the bytes {data[:8].hex(' ')}"
    if all(ch.isprintable() or ch.isspace() for ch in text):
        return "it looks like text"
    return f"it starts with the bytes {data[:8].hex(' ')}"
