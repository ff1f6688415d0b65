"""Real test images (JPEG, PNG, WebP) of a given size, made with Pillow."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from vidgate.providers.local.jobs import JobStore

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def image_bytes(
    width: int = 64, height: int = 36, kind: str = "jpeg", colour: tuple[int, int, int] = (200, 80, 40)
) -> bytes:
    """A ``width`` x ``height`` image in ``kind`` (jpeg, png or webp), striped so it is not blank."""
    img = Image.new("RGB", (width, height), colour)
    for x in range(0, width, max(1, width // 16)):
        for y in range(height):
            img.putpixel((x, y), (x * 255 // max(1, width), y * 255 // max(1, height), 128))
    out = io.BytesIO()
    img.save(out, format=FORMATS[kind])
    return out.getvalue()


def write_image(path: Path, width: int, height: int, kind: str | None = None) -> Path:
    """Write an image whose format follows the file extension (``.jpg`` -> JPEG) unless ``kind`` says."""
    suffix = path.suffix.lower().lstrip(".")
    chosen = kind or {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}[suffix]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(width, height, chosen))
    return path


def undecodable_png(width: int = 320, height: int = 180) -> bytes:
    """A PNG whose headers and chunk checksums are right (Pillow's ``verify()`` passes it, as do the
    upload checks) but whose compressed pixels are garbage: decoding it fails."""
    data = bytearray(image_bytes(width, height, "png"))
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    pixels = bytes(data[at + 4 : at + 6]) + b"\xaa" * (length - 2)  # the zlib header kept, its stream not
    data[at + 4 : at + 4 + length] = pixels
    data[at + 4 + length : at + 8 + length] = struct.pack(">I", zlib.crc32(b"IDAT" + pixels))
    return bytes(data)


def truncated_jpeg(width: int = 320, height: int = 180) -> bytes:
    """A JPEG cut short in its entropy-coded data: its headers are whole, so ``verify()`` passes it."""
    data = image_bytes(width, height, "jpeg")
    return data[: len(data) * 6 // 10]


def corrupt_webp(width: int = 320, height: int = 180) -> bytes:
    """A WebP whose container and VP8 header are right (``verify()`` passes it) but whose compressed
    data is damaged mid-stream: decoding it fails."""
    data = image_bytes(width, height, "webp")
    middle = len(data) // 2
    return data[:middle] + b"\xff" * 50 + data[middle + 50 :]


def damage_first_frames(root: Path) -> int:
    """Replace the stored first frame of every local-provider job under ``root`` with ``undecodable_png()``
    (what a job saved before the create decoded its first frame may hold); returns how many there were."""
    store = JobStore(root)
    jobs = [job for job in store.all() if job.has_image]
    for job in jobs:
        store.save(job, undecodable_png())
    return len(jobs)


def mpo_jpeg(width: int = 320, height: int = 180) -> bytes:
    """A JPEG with a second picture after the first, as cameras and phones write them (depth or gain
    maps): Pillow calls its format MPO, every magic-byte sniffer JPEG."""
    first = Image.open(io.BytesIO(image_bytes(width, height, "jpeg")))
    out = io.BytesIO()
    first.save(
        out, format="MPO", save_all=True, append_images=[Image.new("L", (width // 4, height // 4), 90)]
    )
    return out.getvalue()
