"""Client input the gateway will store or compute with, checked in one place: text the databases can
store, and integers parsed strictly with bounds.

Why here: PostgreSQL refuses a NUL in text (and both databases a lone surrogate, which is not UTF-8),
so such a value that got past the server would fail *after* the provider had started a paid job.
``int()`` accepts what no API means (``"²"`` passes ``str.isdigit()`` and then fails; ``"٣"`` converts;
4,300+ digits raise) and Python integers exceed every 64-bit column. Each refusal is a 400 naming the
param.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vidgate.errors import BadRequestError

INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # ASCII only; 19 digits bound the work and cover int64


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode text"
    return None


def check_text(text: str, param: str) -> str:
    """``text`` when it can be stored, else a 400 naming ``param``."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise BadRequestError(f"Invalid '{param}': the text {reason}.", param=param, code="invalid_value")
    return text


def kind(value: object) -> str:
    """What a value is, in the API's words ("a string", "an integer", "a file"), for a type error: a
    Python type name ("UploadFile", "float") means nothing to a client. Only an object no request body
    can hold (an SDK caller's) is named by its type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, bytes | bytearray) or hasattr(value, "read"):  # a form's file part, or bytes
        return "a file"
    return type(value).__name__


MAX_DEPTH = 64  # levels of nesting a request body may have (no API field nests more than a few)


def check_tree(value: Any, param: str) -> None:
    """Every string (keys too) in a parsed JSON/form value, named by its path (``metadata.a[0]``), and
    the value no deeper than ``MAX_DEPTH``: a 400 naming the path. Walked with a stack, not recursion:
    a body nested ~1,000 deep (orjson reads up to 1,024) made the recursive walk a 500."""
    pending: list[tuple[Any, str, int]] = [(value, param, 0)]
    while pending:
        item, name, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, name)
            continue
        if not isinstance(item, Mapping | list | tuple):
            continue
        if depth >= MAX_DEPTH:
            raise BadRequestError(
                f"Invalid '{name}': nested deeper than {MAX_DEPTH} levels.", param=name, code="invalid_value"
            )
        if isinstance(item, Mapping):
            for key, inner in reversed(list(item.items())):  # popped in order: a key, then its value
                path = f"{name}.{key}" if name else str(key)
                pending.append((inner, path, depth + 1))
                if isinstance(key, str):
                    pending.append((key, path, depth + 1))
        else:
            pending.extend((inner, f"{name}[{i}]", depth + 1) for i, inner in reversed(list(enumerate(item))))


def parse_int(raw: object, param: str, *, low: int = -INT64_MAX, high: int = INT64_MAX) -> int:
    """An integer from JSON (int, or a float with no fraction) or text (ASCII digits, optional sign),
    within [low, high]; anything else is a 400 naming ``param`` and the range."""
    value: int | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        value = int(raw.strip())
    if value is None or not low <= value <= high:
        shown = raw if not isinstance(raw, str) else repr(raw[:40])
        raise BadRequestError(
            f"Invalid '{param}': expected an integer from {low} to {high}, got {shown}.",
            param=param,
            code="invalid_value",
        )
    return value
