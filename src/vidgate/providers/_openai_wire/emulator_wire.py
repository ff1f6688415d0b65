"""The OpenAI Videos API request side, as the real service reads it (shared by the OpenAI and Azure
emulators): errors in OpenAI's envelope and wording, create/remix bodies in JSON or multipart (the
official SDK always sends multipart, with ``input_reference[image_url]`` bracket fields for objects),
and validation against the catalogue.

Written from the reference doc and the openai SDK source, not from vidgate's adapter.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from vidgate.catalog import ModelSpec
from vidgate.errors import invalid_value

MAX_PROMPT_CHARS = 32000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_BRACKET = re.compile(r"input_reference\[([A-Za-z0-9_]+)\]")
_DATA_URL = re.compile(r"data:(image/[A-Za-z0-9.+-]+)?(;[^,]*)?;base64,(.*)", re.DOTALL)


class WireError(Exception):
    """An HTTP error reply: status, JSON body, extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def openai_error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> WireError:
    """``{"error": {"message", "type", "param", "code"}}`` (every key present, as OpenAI sends it)."""
    return WireError(
        status, {"error": {"message": message, "type": type, "param": param, "code": code}}, headers
    )


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> WireError:
    return openai_error(400, message, param=param, code=code)


def invalid_enum(param: str, value: object, allowed: Sequence[str]) -> WireError:
    """``Invalid value: '7'. Supported values are: '4', '8', and '12'.`` (vidgate.errors wording)."""
    err = invalid_value(param, value, list(allowed))
    return bad_request(err.message, param=param, code=err.code)


def one_of(values: Sequence[str]) -> str:
    """``'4', '8', or '12'`` as in ``Invalid type for 'seconds': expected one of ...``."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + f", or {quoted[-1]}"


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string"


def invalid_type(param: str, expected: str, value: object) -> WireError:
    return bad_request(
        f"Invalid type for '{param}': expected {expected}, but got {type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def missing(param: str) -> WireError:
    return bad_request(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


# ---- bodies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


async def read_body(request: Request, *, extra_files: bool = False) -> dict[str, Any]:
    """A create/remix body as a dict: JSON as sent; multipart fields as strings, the file part as
    ``Upload``, and ``input_reference[key]`` bracket fields folded into an ``input_reference`` dict.
    Other file parts are a 400 (OpenAI's), or ``Upload``s too with ``extra_files``."""
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                "sent was not valid JSON.)"
            ) from None
        if not isinstance(body, dict):
            raise invalid_type("body", "an object", body)
        return body
    if mime == "multipart/form-data":
        return await _read_form(request, extra_files)
    raise bad_request(
        f"Unsupported content type: '{content_type}'. This API method only accepts 'application/json' and "
        f"'multipart/form-data' requests, but you specified the header 'Content-Type: {content_type}'. "
        "Please try again with a supported content type."
    )


async def _read_form(request: Request, extra_files: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reference: dict[str, str] = {}
    async with request.form(max_part_size=MAX_IMAGE_BYTES * 2) as form:
        for key, value in form.multi_items():
            bracket = _BRACKET.fullmatch(key)
            if isinstance(value, UploadFile):
                if key != "input_reference" and not extra_files:  # OpenAI takes one file only
                    raise bad_request(f"Unexpected file in field '{key}'.", param=key)
                out[key] = Upload(value.filename, value.content_type, await value.read())
            elif bracket:
                reference[bracket.group(1)] = value
            else:
                out[key] = value
    if reference:
        if "input_reference" in out:
            raise bad_request(
                "Give 'input_reference' once: a file or an object, not both.", param="input_reference"
            )
        out["input_reference"] = reference
    return out


# ---- validation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateArgs:
    """A create request the emulated service accepted."""

    prompt: str
    model: str  # echoed in the Video object (the model or deployment name as given)
    spec: ModelSpec
    seconds: int
    width: int
    height: int
    image: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)


KNOWN_FIELDS = frozenset({"prompt", "model", "seconds", "size", "input_reference"})


def check_prompt(body: Mapping[str, Any]) -> str:
    prompt = body.get("prompt")
    if prompt is None or prompt == "":
        raise missing("prompt")
    if not isinstance(prompt, str):
        raise invalid_type("prompt", "a string", prompt)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise bad_request(
            f"Invalid 'prompt': string too long. Expected a string with maximum length {MAX_PROMPT_CHARS}, "
            f"but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    return prompt


def check_create(body: Mapping[str, Any], prompt: str, model: str, spec: ModelSpec) -> CreateArgs:
    """Size, seconds (a string: an integer is a type error) and the reference image, per the catalogue."""
    sizes = list(spec.sizes)
    size = body.get("size")
    if size is None:
        size = spec.default_size
    if not isinstance(size, str):
        raise invalid_type("size", f"one of {one_of(sizes)}", size)
    if size not in spec.sizes:
        raise invalid_enum("size", size, sizes)
    width, height = (int(part) for part in size.split("x"))
    allowed = [str(s) for s in spec.allowed_seconds(size)]
    seconds = body.get("seconds")
    if seconds is None:
        seconds = str(spec.default_seconds)
    if not isinstance(seconds, str):
        raise invalid_type("seconds", f"one of {one_of(allowed)}", seconds)
    if seconds not in allowed:
        raise invalid_enum("seconds", seconds, allowed)
    image = check_reference(body.get("input_reference"), width, height)
    extra = {k: v for k, v in body.items() if k not in KNOWN_FIELDS}
    return CreateArgs(prompt, model, spec, int(seconds), width, height, image, extra)


def check_reference(raw: object, width: int, height: int) -> bytes | None:
    """Image bytes to render from, or None (no reference, an https URL or a file id: accepted, but the
    emulator is offline and has no Files API, so those do not shape the render)."""
    if raw is None:
        return None
    if isinstance(raw, Upload):
        return check_image(raw.data, width, height)
    if not isinstance(raw, dict):
        raise invalid_type("input_reference", "a file or an object", raw)
    unknown = sorted(set(raw) - {"image_url", "file_id"})
    if unknown:
        raise bad_request(
            f"Unknown parameter: 'input_reference.{unknown[0]}'.",
            param=f"input_reference.{unknown[0]}",
            code="unknown_parameter",
        )
    if len(raw) != 1:
        raise bad_request(
            "Invalid 'input_reference': provide exactly one of 'image_url' or 'file_id'.",
            param="input_reference",
        )
    if "file_id" in raw:
        file_id = raw["file_id"]
        if not isinstance(file_id, str) or not file_id:
            raise invalid_type("input_reference.file_id", "a string", file_id)
        return None
    url = raw["image_url"]
    if not isinstance(url, str):
        raise invalid_type("input_reference.image_url", "a string", url)
    if url.startswith("https://"):
        return None
    match = _DATA_URL.fullmatch(url)
    if not match:
        raise bad_request(
            "Invalid 'input_reference.image_url': expected an https URL or a base64-encoded data URL.",
            param="input_reference.image_url",
            code="invalid_value",
        )
    try:
        data = base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(
            "Invalid 'input_reference.image_url': the data URL is not valid base64.",
            param="input_reference.image_url",
            code="invalid_value",
        ) from None
    return check_image(data, width, height)


def check_image(data: bytes, width: int, height: int) -> bytes:
    if len(data) > MAX_IMAGE_BYTES:
        raise bad_request(
            "Invalid 'input_reference': the image is larger than 20 MB.", param="input_reference"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            # MPO is a JPEG file with more pictures after the first (cameras, phones): image/jpeg.
            fmt, size = ("JPEG" if image.format == "MPO" else image.format), image.size
    except (UnidentifiedImageError, OSError):
        fmt, size = None, (0, 0)
    if fmt not in IMAGE_FORMATS:
        raise bad_request(
            "Invalid 'input_reference': unsupported image. Supported formats are jpeg, png and webp.",
            param="input_reference",
            code="invalid_image_format",
        )
    if size != (width, height):
        raise bad_request("Inpaint image must match the requested width and height", param="input_reference")
    return data
