"""Fields that may not arrive through a side door (``extra_body``, a form extra, a pass-through alias).

The rule: the request checked against the key, validated and priced is the request that is sent. A
pass-through key that names something the gateway validates, permits or prices (the model, prompt,
duration, size, count, audio, input media, and each provider's native names for them) would let a
caller be checked for one request and served another, so it is refused with a 400 naming the key and
the first-class parameter to use instead.

Each adapter declares its own native names (``reserved_params``, a ClassVar: native name -> the
first-class parameter); ``check_extra`` is the one check every entry point calls before pricing (the
gateway, the SDK, the Google pass-through) and the adapters call again while building the body.
Names are compared normalized (case, ``_`` and ``-`` ignored, a ``[...]`` suffix dropped), so
``duration_seconds``, ``DurationSeconds`` and ``durationSeconds`` are one name. Case is folded as the
providers' JSON decoders fold it, non-ASCII letters included: Go's ``encoding/json`` matches ``"ſeed"``
to ``seed`` (U+017F folds to ``s``) and Java's ``equalsIgnoreCase`` matches ``"sıze"`` to ``size``, so
such a key must be reserved here too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from vidgate.errors import BadRequestError
from vidgate.types import FilePart

# Names every provider reserves: the OpenAI-shaped request's own fields and their common synonyms.
COMMON_RESERVED: Mapping[str, str] = {
    "model": "model",
    "prompt": "prompt",
    "seconds": "seconds",
    "duration": "seconds",
    "duration_seconds": "seconds",
    "size": "size",
    "aspect_ratio": "size",
    "resolution": "size",
    "width": "size",
    "height": "size",
    "n": "n",
    "count": "n",
    "sample_count": "n",
    "number_of_videos": "n",
    "input_reference": "input_reference",
    "image": "input_reference",
    "last_frame": "last_frame",
    "reference_images": "reference_images",
    "generate_audio": "generate_audio",
    "audio": "generate_audio",
    "negative_prompt": "negative_prompt",
    "person_generation": "person_generation",
    "seed": "seed",
    "user": "user",
    "extra_body": "extra_body",
}

_NOT_NAME = re.compile(r"[^a-z0-9]")


def normalized(name: str) -> str:
    """``"durationSeconds"``, ``"duration_seconds"`` and ``"input_reference[image_url]"`` compared
    as ``"durationseconds"`` and ``"inputreference"``. Compatibility forms (fullwidth letters) become
    their plain letters, and upper-casing before case-folding maps the letters other languages fold
    onto ASCII (``ſ``, ``ı``, the Kelvin sign) to it; any other character is dropped."""
    plain = unicodedata.normalize("NFKC", name)
    return _NOT_NAME.sub("", plain.split("[", 1)[0].upper().casefold())


def reserved_index(*tables: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """normalized name -> (name as declared, first-class parameter), later tables winning."""
    index: dict[str, tuple[str, str]] = {}
    for table in tables:
        for name, param in table.items():
            index[normalized(name)] = (name, param)
    return index


def reserved_error(key: str, param: str, where: str) -> BadRequestError:
    """``param`` is the first-class parameter to use; "" when vidgate has none (e.g. Veo's ``video``)."""
    path = f"{where}.{key}" if where else key
    instead = f"Use the '{param}' parameter instead." if param else "vidgate has no parameter for it."
    return BadRequestError(
        f"'{path}' is not allowed: '{key}' sets a field vidgate validates and prices, so it cannot be "
        f"passed through. {instead}",
        param=path,
        code="reserved_parameter",
    )


def check_extra(extra: Mapping[str, Any], reserved: Mapping[str, str], *, where: str = "extra_body") -> None:
    """Raise BadRequestError (param ``{where}.{key}``) for the first key of ``extra`` that names a
    reserved field (``reserved`` and ``COMMON_RESERVED``, compared normalized)."""
    if not extra:
        return
    index = reserved_index(COMMON_RESERVED, reserved)
    for key in extra:
        if not isinstance(key, str):
            raise BadRequestError(f"Invalid key in '{where}': expected a string.", param=where)
        hit = index.get(normalized(key))
        if hit is not None:
            raise reserved_error(key, hit[1], where)


def refuse_overlap(extra: Mapping[str, Any], built: Mapping[str, Any], *, where: str = "extra_body") -> None:
    """The last guard while a body is built: an extra key may never replace a field the validated
    request already put there (whatever ``reserved_params`` says)."""
    for key in extra:
        if key in built:
            raise reserved_error(key, key, where)


def reserved_for(provider: object) -> Mapping[str, str]:
    """An adapter's declared native names (an adapter from a plugin without them: the common ones)."""
    declared = getattr(provider, "reserved_params", None)
    return declared if isinstance(declared, Mapping) else COMMON_RESERVED


def check_extra_for(provider: object, extra: Mapping[str, Any], *, where: str = "extra_body") -> None:
    """``check_extra`` with ``provider``'s declared names: the call the gateway and the SDK make. A
    file part is accepted only by an adapter that forwards them (``extra_file_parts``): any other
    would send the repr of an upload."""
    check_extra(extra, reserved_for(provider), where=where)
    if getattr(provider, "extra_file_parts", False):
        return
    for key, value in extra.items():
        if isinstance(value, FilePart):
            raise BadRequestError(
                f"Invalid '{where}.{key}': this model's provider takes no file parts in pass-through "
                "fields; send text or JSON values (the reference image goes in 'input_reference').",
                param=f"{where}.{key}",
                code="invalid_type",
            )
