"""Normalises every accepted form of an image argument into one ``ImageInput``.

``input_reference`` (and ``last_frame``, each of ``reference_images``) may be given as:

- an open binary file object (``open("cat.jpg", "rb")``; the seeds pass these inline),
- a path (``str`` or ``Path``) to an existing file,
- a ``(filename, bytes | file, mime)`` tuple (mime may be None) or ``(filename, bytes)``,
- raw ``bytes``,
- an ``https://`` URL or a ``data:`` URL (a data URL is decoded here, so every provider gets bytes),
- a dict ``{"image_url": url}`` or ``{"file_id": id}`` (OpenAI's JSON form).

The media type is sniffed from magic bytes when not given. Anything else is a BadRequestError naming
the param and the accepted forms, raised before any network call.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import unquote_to_bytes

from vidgate.errors import BadRequestError
from vidgate.types import ImageInput

IMAGE_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_FORMS = (
    "an open binary file, a path to an existing file, a (filename, bytes, mime) tuple, bytes, "
    "an https:// or data: URL, or a dict {'image_url': ...} or {'file_id': ...}"
)


def sniff_mime(data: bytes) -> str | None:
    """The image media type from magic bytes (JPEG, PNG, WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _bad(param: str, message: str) -> BadRequestError:
    return BadRequestError(message, param=param, code="invalid_value")


def _from_bytes(param: str, data: bytes, mime: str | None, filename: str | None) -> ImageInput:
    if not data:
        raise _bad(param, f"'{param}' is empty.")
    resolved = mime or sniff_mime(data)
    if resolved is None:
        raise _bad(
            param,
            f"Could not tell the image type of '{param}' from its bytes. "
            f"Supported types are: {', '.join(IMAGE_TYPES)}.",
        )
    name = filename or f"{param}.{_EXTENSIONS.get(resolved, 'bin')}"
    return ImageInput(data=data, mime_type=resolved, filename=name)


def _read(param: str, stream: Any) -> bytes:
    content = stream.read()
    if isinstance(content, str):
        raise _bad(param, f"'{param}' is a text-mode file; open it in binary mode ('rb').")
    if not isinstance(content, bytes | bytearray):
        raise _bad(param, f"Reading '{param}' returned {type(content).__name__}, not bytes.")
    return bytes(content)


def _from_data_url(param: str, url: str) -> ImageInput:
    header, sep, payload = url[len("data:") :].partition(",")
    if not sep:
        raise _bad(param, f"Malformed data: URL in '{param}' (no comma).")
    parts = header.split(";")
    mime = parts[0] or None
    try:
        data = (
            base64.b64decode(payload, validate=True) if "base64" in parts[1:] else unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError) as exc:
        raise _bad(param, f"Malformed base64 in the data: URL of '{param}'.") from exc
    return _from_bytes(param, data, mime, None)


def _from_str(param: str, value: str) -> ImageInput:
    if value.startswith("data:"):
        return _from_data_url(param, value)
    if value.startswith("https://"):
        return ImageInput(url=value)
    if value.startswith("http://"):
        raise _bad(param, f"'{param}' URLs must use https:// (or be a data: URL); got {value[:80]!r}.")
    return _from_path(param, Path(value))


def _from_path(param: str, path: Path) -> ImageInput:
    if not path.is_file():
        raise _bad(param, f"'{param}' names no existing file: {str(path)!r}. Accepted forms: {_FORMS}.")
    return _from_bytes(param, path.read_bytes(), None, path.name)


def _from_mapping(param: str, value: Mapping[str, Any]) -> ImageInput:
    keys = set(value)
    if keys == {"image_url"} and isinstance(value["image_url"], str):
        image = _from_str(param, value["image_url"])
        if image.url is None and image.data is None:
            raise _bad(param, f"'{param}.image_url' must be an https:// or data: URL.")
        return image
    if keys == {"file_id"} and isinstance(value["file_id"], str) and value["file_id"]:
        return ImageInput(file_id=value["file_id"])
    raise _bad(
        param,
        f"A dict '{param}' must be exactly {{'image_url': str}} or {{'file_id': str}}; "
        f"got keys {sorted(keys)}.",
    )


def _from_tuple(param: str, value: tuple[Any, ...]) -> ImageInput:
    if len(value) not in (2, 3):
        raise _bad(param, f"A tuple '{param}' must be (filename, bytes) or (filename, bytes, mime).")
    filename, content = value[0], value[1]
    mime = value[2] if len(value) == 3 else None
    if filename is not None and not isinstance(filename, str):
        raise _bad(param, f"The filename in '{param}' must be a string.")
    if mime is not None and not isinstance(mime, str):
        raise _bad(param, f"The media type in '{param}' must be a string like 'image/jpeg'.")
    data = _read(param, content) if hasattr(content, "read") else content
    if not isinstance(data, bytes | bytearray):
        raise _bad(param, f"The content in '{param}' must be bytes or a binary file.")
    return _from_bytes(param, bytes(data), mime, os.path.basename(filename) if filename else None)


def to_image(value: object, param: str = "input_reference") -> ImageInput:
    """One image argument, in any accepted form, as an ``ImageInput``."""
    if isinstance(value, ImageInput):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return _from_bytes(param, bytes(value), None, None)
    if isinstance(value, str):
        return _from_str(param, value)
    if isinstance(value, PurePath):
        return _from_path(param, Path(value))
    if isinstance(value, Mapping):
        return _from_mapping(param, value)
    if isinstance(value, tuple):
        return _from_tuple(param, value)
    if hasattr(value, "read"):
        name = getattr(value, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) else None
        return _from_bytes(param, _read(param, value), None, filename)
    raise _bad(param, f"Unsupported type {type(value).__name__} for '{param}'. Accepted forms: {_FORMS}.")


def optional_image(value: object, param: str) -> ImageInput | None:
    return None if value is None else to_image(value, param)


def image_list(value: object, param: str = "reference_images") -> tuple[ImageInput, ...]:
    """A list of images (each in any accepted form); a single image is not silently wrapped."""
    if value is None:
        return ()
    one_file_tuple = (
        isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], bytes | bytearray)
    )
    if not isinstance(value, list | tuple) or one_file_tuple:
        raise _bad(param, f"'{param}' must be a list of images (each in any form 'input_reference' accepts).")
    return tuple(to_image(item, f"{param}[{i}]") for i, item in enumerate(value))


def to_data_url(image: ImageInput) -> str:
    """An inline image as a ``data:`` URL (the JSON form OpenAI-compatible endpoints accept)."""
    if image.data is None or image.mime_type is None:
        raise ValueError("to_data_url needs an image with data and mime_type")
    return f"data:{image.mime_type};base64,{base64.b64encode(image.data).decode('ascii')}"
