"""Reading request bodies exactly as clients send them: JSON, or multipart/urlencoded forms.

The official ``openai`` package always sends create as multipart: scalars as text fields, an uploaded
image as the file part ``input_reference``, a reference object flattened with brackets
(``input_reference[image_url]=...``). Forms are unflattened into the same nested dict a JSON body gives,
so one code path validates both.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from vidgate.catalog import validate
from vidgate.catalog.images import sniff, unreadable
from vidgate.errors import APIError, BadRequestError
from vidgate.inputs import check_tree, kind
from vidgate.types import FilePart, ImageInput

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # OpenAI's limit for an input_reference
MAX_FIELD_BYTES = 30 * 1024 * 1024  # a data: URL in a text field is base64 of up to MAX_IMAGE_BYTES
MAX_JSON_BYTES = 32 * 1024 * 1024

CORE_FIELDS = frozenset({"model", "prompt", "seconds", "size", "input_reference", "user", "extra_body"})
# Provider parameters the catalogue validates (negative_prompt, seed, n, last_frame, ...): its signature
# is the single list, so a new parameter there is accepted here without a server change. Reference
# videos have no field of their own: they arrive as ``input_references`` video_url items (OpenRouter's
# shape, ``catalog.openrouter``).
NOT_BODY_FIELDS = frozenset({"spec", "reference_videos"})
EXTRA_FIELDS = frozenset(
    name
    for name in inspect.signature(validate).parameters
    if name not in CORE_FIELDS and name not in NOT_BODY_FIELDS
)
IMAGE_FIELDS = frozenset({"input_reference", "last_frame"})
IMAGE_LIST_FIELDS = frozenset({"reference_images"})
_INT_FIELDS = frozenset({"seed", "n"})
_BOOL_FIELDS = frozenset({"generate_audio"})
_KEY = re.compile(r"\[([^\[\]]*)\]")


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict; form text fields stay strings, file parts stay ``UploadFile``s."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=64, max_fields=1000, max_part_size=MAX_FIELD_BYTES)
        except APIError:
            raise
        except Exception as exc:  # starlette raises its own HTTPException/MultiPartException
            raise BadRequestError(f"Could not parse the form body: {getattr(exc, 'detail', exc)}") from exc
        fields = unflatten(form.multi_items())
        check_tree(fields, "")
        return fields
    raw = await request.body()
    if not raw.strip():
        return {}
    if len(raw) > MAX_JSON_BYTES:
        raise BadRequestError(f"The request body is larger than {MAX_JSON_BYTES} bytes.")
    try:
        data = parse_json(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent "
            f"was not valid JSON: {exc})"
        ) from exc
    if not isinstance(data, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return data


# orjson reads an integer literal in this range as an int; beyond it, as a float (2**64 became
# 1.8446744073709552e+19: "got a decimal", or a rounded number stored in metadata).
JSON_INT_MIN = -(2**63)
JSON_INT_MAX = 2**64 - 1
_WIDE_FLOAT = 2.0**63  # a float this large may have been such an integer
_INT_TEXT = re.compile(r"-?[0-9]+")


def parse_json(raw: bytes) -> Any:
    """A JSON body (orjson), checked by ``inputs.check_tree`` and refusing an integer beyond
    ``JSON_INT_MIN..JSON_INT_MAX`` with a 400 naming where it is; raises ``orjson.JSONDecodeError`` for
    invalid JSON. Only a body holding a float that large (or one orjson cannot hold, past a double) is
    read a second time, with the standard library, which keeps integer literals exact."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        exact = _exact(raw) if "infinity" in str(exc) else None
        if exact is not None:
            check_tree(exact, "")
            _check_ints(exact)
        raise  # not an integer that overflowed ("1e400"): invalid JSON as orjson says
    check_tree(data, "")
    if _has_wide_float(data):
        exact = _exact(raw)
        if exact is not None:
            _check_ints(exact)
    return data


def _exact(raw: bytes) -> Any:
    """``raw`` with integer literals exact, or None where the standard library cannot read it (nested
    past its recursion limit: a depth ``check_tree`` refuses)."""
    try:
        return json.loads(raw, parse_int=_exact_int)
    except (ValueError, RecursionError):
        return None


def _check_ints(value: Any) -> None:
    for path, leaf in _leaves(value, ""):
        if isinstance(leaf, _Digits) or (isinstance(leaf, int) and not isinstance(leaf, bool)):
            _check_int_range(leaf, path)


class _Digits(str):
    """An integer literal too long to convert (Python refuses over 4,300 digits; none is in range)."""


def _exact_int(text: str) -> int | _Digits:
    return int(text) if len(text) <= 40 else _Digits(text)


def _check_int_range(value: int | str, param: str) -> int:
    """``value`` (an int, or integer text) when it is a 64-bit integer as JSON bodies carry them, else
    the 400 a JSON body's out-of-range integer gets: a form field reads the same as JSON."""
    number = int(value) if isinstance(value, int) or len(value) <= 40 else None
    if number is not None and JSON_INT_MIN <= number <= JSON_INT_MAX:
        return number
    text = str(value)
    shown = text if len(text) <= 40 else text[:40] + "..."
    below = text.startswith("-")
    raise BadRequestError(
        f"Invalid '{param}': integer out of range. A request's integers are 64-bit, from {JSON_INT_MIN} "
        f"to {JSON_INT_MAX}; got {shown}.",
        param=param,
        code="integer_below_min_value" if below else "integer_above_max_value",
    )


def _has_wide_float(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if abs(item) >= _WIDE_FLOAT:
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    """Every scalar of a parsed JSON value with its path, named as ``inputs.check_tree`` names them."""
    out: list[tuple[str, Any]] = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, name = pending.pop()
        if isinstance(item, Mapping):
            pending.extend((inner, f"{name}.{key}" if name else str(key)) for key, inner in item.items())
        elif isinstance(item, list):
            pending.extend((inner, f"{name}[{i}]") for i, inner in enumerate(item))
        else:
            out.append((name, item))
    return out


def unflatten(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Bracket keys to nesting: ``a[b]=1, c[]=2, c[]=3, d=4, d=5`` ->
    ``{"a": {"b": 1}, "c": [2, 3], "d": [4, 5]}``.

    A list of objects (``a[][x]``) is read by occurrence: the n-th ``a[][x]`` belongs to the n-th item.
    The ``openai`` package sends such a list field by field (``a[][x]=1, a[][x]=2, a[][y]=3, a[][y]=4``:
    it groups the values of one key), a hand-written form item by item; both read the same."""
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for key, value in items:
        head, _, rest = key.partition("[")
        path = [head] + (_KEY.findall("[" + rest) if rest else [])
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        _place(out, path, value, occurrence)
    return out


def _place(target: dict[str, Any], path: list[str], value: Any, occurrence: int = 0) -> None:
    node: Any = target
    first_list = True
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            nxt = path[i + 1] if not last else None
            if last:
                node.append(value)
                return
            if first_list and all(isinstance(item, dict) for item in node):
                while len(node) <= occurrence:  # the item this occurrence of the key belongs to
                    node.append({})
                node = node[occurrence]
            else:
                if not node or not isinstance(node[-1], dict) or nxt in node[-1]:
                    node.append({})
                node = node[-1]
            first_list = False
            continue
        if last:
            if part in node:
                existing = node[part]
                if isinstance(existing, dict):  # ``a[b]=1`` then ``a=2``
                    raise _conflict(path, i)
                node[part] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                node[part] = value
            return
        if path[i + 1] == "":
            node = node.setdefault(part, [])
            if not isinstance(node, list):
                raise _conflict(path, i)
            continue
        child = node.setdefault(part, {})
        if not isinstance(child, dict):  # ``a=1`` then ``a[b]=2``
            raise _conflict(path, i)
        node = child


def _conflict(path: list[str], i: int) -> BadRequestError:
    """A field given both as a value and with bracketed fields, named as the form names it (the whole
    bracket path, not its last part: ``input_reference[image_url]``, not ``image_url``)."""
    name = path[0] + "".join(f"[{part}]" for part in path[1 : i + 1])
    return BadRequestError(
        f"Conflicting form fields for '{name}': it is given both as a value and with bracketed fields "
        f"('{name}[...]'); send one or the other.",
        param=name,
        code="conflicting_fields",
    )


def text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise BadRequestError(
                f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
            )
        return None
    if not isinstance(value, str):
        raise BadRequestError(
            f"Invalid type for '{name}': expected a string, but got {kind(value)} instead.",
            param=name,
            code="invalid_type",
        )
    if required and not value.strip():
        raise BadRequestError(
            f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
        )
    return value


def seconds_value(body: dict[str, Any]) -> str | int | None:
    value = body.get("seconds")
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise BadRequestError(
        f"Invalid type for 'seconds': expected a string, but got {kind(value)} instead.",
        param="seconds",
        code="invalid_type",
    )


async def image_input(value: Any, param: str) -> ImageInput:
    """A file part, ``{"image_url": ...}`` or ``{"file_id": ...}`` (or a bare URL string) as an ImageInput."""
    if isinstance(value, UploadFile):
        data = await value.read()
        if len(data) > MAX_IMAGE_BYTES:
            raise BadRequestError(
                f"Invalid '{param}': the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are allowed.",
                param=param,
            )
        if not data:
            raise BadRequestError(f"Invalid '{param}': the uploaded file is empty.", param=param)
        return ImageInput(data=data, mime_type=value.content_type or None, filename=value.filename)
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "data:")):
            return ImageInput(url=_checked_url(value, param))
        raise BadRequestError(
            f"Invalid '{param}': expected an uploaded image file, or an object with 'image_url' or "
            "'file_id'.",
            param=param,
        )
    if isinstance(value, dict):
        url, file_id = value.get("image_url"), value.get("file_id")
        unknown = sorted(set(value) - {"image_url", "file_id"})
        if unknown:
            raise BadRequestError(
                f"Unknown parameter: '{param}[{unknown[0]}]'.", param=f"{param}[{unknown[0]}]"
            )
        if (url is None) == (file_id is None):
            raise BadRequestError(
                f"Invalid '{param}': give exactly one of 'image_url' or 'file_id'.",
                param=param,
                code="invalid_value",
            )
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://", "data:")):
                raise BadRequestError(
                    f"Invalid '{param}[image_url]': expected an https:// or data: URL.",
                    param=f"{param}[image_url]",
                )
            return ImageInput(url=_checked_url(url, f"{param}[image_url]"))
        if not isinstance(file_id, str) or not file_id:
            raise BadRequestError(
                f"Invalid '{param}[file_id]': expected a string.", param=f"{param}[file_id]"
            )
        return ImageInput(file_id=file_id)
    raise BadRequestError(
        f"Invalid type for '{param}': expected an image file or an object, but got {kind(value)} instead.",
        param=param,
        code="invalid_type",
    )


_DATA_URL = re.compile(r"data:(image/[A-Za-z0-9.+-]+)?((?:;[^;,]*)*);base64,(.*)", re.DOTALL)


def _checked_url(url: str, param: str) -> str:
    """``url`` as given; a ``data:`` URL only when it holds a PNG, JPEG or WebP image in base64, as an
    upload must. Each adapter decoded data URLs its own way: some sent an unreadable one (invalid
    base64, not base64, ``text/plain``, an 8-byte PNG signature) to the provider, priced and reserved."""
    if not url.startswith("data:"):
        return url
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise BadRequestError(
            f"Invalid '{param}': a data: URL must be an image in base64 (data:image/png;base64,...).",
            param=param,
            code="invalid_value",
        )
    payload = match.group(3)
    if len(payload) > (MAX_IMAGE_BYTES + 2) // 3 * 4:
        raise BadRequestError(
            f"Invalid '{param}': the image is larger than the {MAX_IMAGE_BYTES} bytes allowed.", param=param
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError(
            f"Invalid '{param}': the data: URL is not valid base64.", param=param, code="invalid_value"
        ) from None
    what = unreadable(data, sniff(data))
    if what is not None:
        raise BadRequestError(
            f"Invalid '{param}': not a decodable image ({what}); expected a PNG, JPEG or WebP image.",
            param=param,
            code="invalid_image_format",
        )
    return url


async def extra_params(body: dict[str, Any], *, from_form: bool) -> dict[str, Any]:
    """Provider parameters beyond OpenAI's (validated by the catalogue); unknown names are rejected."""
    extra: dict[str, Any] = {}
    for name, value in body.items():
        if name in CORE_FIELDS:
            continue
        if name not in EXTRA_FIELDS:
            raise BadRequestError(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
        if value is None:  # null is absent, as it is for the core fields
            continue
        if name in IMAGE_FIELDS:
            extra[name] = await image_input(value, name)
        elif name in IMAGE_LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            extra[name] = tuple([await image_input(v, f"{name}[{i}]") for i, v in enumerate(items)])
        elif from_form and name in _INT_FIELDS and isinstance(value, str):
            extra[name] = _form_int(name, value)
        elif from_form and name in _BOOL_FIELDS and isinstance(value, str):
            extra[name] = _form_bool(name, value)
        else:
            extra[name] = value
    return extra


async def extra_body(body: dict[str, Any]) -> dict[str, Any]:
    """The pass-through fields; a file part directly under ``extra_body[name]`` is kept as a
    ``FilePart`` (forwarded untouched where the provider takes form files, else a 400 before pricing)."""
    value = body.get("extra_body")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequestError(
            "Invalid type for 'extra_body': expected an object.", param="extra_body", code="invalid_type"
        )
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if isinstance(inner, UploadFile):
            out[key] = FilePart(inner.filename, inner.content_type, await inner.read())
        else:
            _refuse_files(inner, f"extra_body.{key}")
            out[key] = inner
    return out


def _refuse_files(value: Any, path: str) -> None:
    """A file part nested deeper than ``extra_body[name]`` has no place in a provider's body: a 400
    naming it (a reference image goes in ``input_reference``)."""
    if isinstance(value, UploadFile):
        raise BadRequestError(
            f"Invalid '{path}': file parts cannot be passed through; send text or JSON values "
            "(the reference image goes in 'input_reference').",
            param=path,
            code="invalid_type",
        )
    if isinstance(value, dict):
        for key, inner in value.items():
            _refuse_files(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _refuse_files(inner, f"{path}[{index}]")


def is_form(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype in ("multipart/form-data", "application/x-www-form-urlencoded")


def _form_int(name: str, value: str) -> int | str:
    """Integer text as the integer JSON would carry; any other text stays text. The catalogue checks
    both (seed, n), so a form's value is refused in the same words as the JSON value."""
    text = value.strip()
    return _check_int_range(text, name) if _INT_TEXT.fullmatch(text) else value


def _form_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BadRequestError(f"Invalid type for '{name}': expected a boolean, but got '{value}'.", param=name)
