"""The create body an OpenAI-compatible videos server receives: the validated fields, then every
``extra_body`` key untouched (LiteLLM #38050 dropped them), file parts included (a multipart body
carries them as file parts under their own name; a JSON body cannot: 400 naming the field).

Pure functions; the adapter adds the URL and auth.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from vidgate.errors import BadRequestError
from vidgate.providers._openai_wire import flows as wire
from vidgate.providers.base import FileTuple
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import FilePart, ImageInput, VideoRequest

# The Videos API's own fields, plus engine names that set what the gateway prices: vLLM-Omni's
# ``num_frames`` is the duration in frames.
RESERVED: dict[str, str] = {**wire.RESERVED, "num_frames": "seconds"}
# vLLM-Omni's JSON-string field of model-specific options; a duration there would be unpriced.
NESTED_OPTIONS = ("extra_params",)


def create_body(req: VideoRequest, options: Mapping[str, str]) -> wire.CreateBody:
    """Multipart (default) or JSON per ``request_format``; ``seconds`` typed per ``seconds_type``;
    extras as their own fields or under ``extra_body`` per ``extra_fields``."""
    absent = {  # what an OpenAI-shaped server has no field for (open rows lack these features)
        "last_frame": req.last_frame is not None,
        "reference_images": bool(req.reference_images),
        "person_generation": req.person_generation is not None,
        "generate_audio": req.generate_audio is not None,
        "n": req.n != 1,
    }
    for param, present in absent.items():
        if present:
            raise BadRequestError(
                f"An OpenAI-compatible videos server has no '{param}' parameter.",
                param=param,
                code="unsupported_parameter",
            )
    check_extra(req.extra_body, RESERVED)
    for name in NESTED_OPTIONS:
        _check_nested(req.extra_body.get(name), name)
    seconds: str | int = req.seconds if options.get("seconds_type") == "integer" else str(req.seconds)
    fields: dict[str, Any] = {"model": req.model, "prompt": req.prompt, "seconds": seconds, "size": req.size}
    for name in ("user", "seed", "negative_prompt"):
        value = getattr(req, name)
        if value is not None:
            fields[name] = value
    as_json = options.get("request_format") == "json"
    nested = options.get("extra_fields") == "extra_body"
    ref = req.input_reference
    refuse_overlap(req.extra_body, {**fields, "input_reference": None, "extra_body": None})
    uploads = {k: v for k, v in req.extra_body.items() if isinstance(v, FilePart)}
    if as_json:
        if uploads:
            name = next(iter(uploads))
            raise BadRequestError(
                f"Invalid 'extra_body.{name}': this deployment sends JSON (request_format: json), which "
                "cannot carry a file part; send the value as text.",
                param=f"extra_body.{name}",
                code="invalid_type",
            )
        if ref is not None:
            fields["input_reference"] = _reference_string(ref)
        extra = dict(req.extra_body)
        if nested and extra:
            fields["extra_body"] = extra
        else:
            fields.update(extra)
        return wire.CreateBody(json=fields)
    if ref is not None and ref.data is None:
        fields["input_reference"] = wire.reference_object(ref)
    data = wire.form_fields(fields)
    texts = {k: v for k, v in req.extra_body.items() if k not in uploads}
    extras = wire.form_fields(texts, objects_as_json=True)
    data.update({f"extra_body[{k}]": v for k, v in extras.items()} if nested else extras)
    files: list[tuple[str, FileTuple]] = []  # a list, even empty: multipart (these servers read forms)
    if ref is not None and ref.data is not None:
        files.append(("input_reference", wire.image_file(ref)))
    for key, part in uploads.items():
        name = f"extra_body[{key}]" if nested else key
        files.append(
            (name, (part.filename or key, part.data, part.content_type or "application/octet-stream"))
        )
    return wire.CreateBody(data=data, files=files)


def _reference_string(ref: ImageInput) -> str:
    """A JSON body carries the reference as one string (Dynamo's ``input_reference``): its URL, a
    ``data:`` URL of uploaded bytes, or a file id."""
    if ref.data is not None:
        mime = ref.mime_type or wire.sniff_image_type(ref.data)
        return f"data:{mime};base64,{base64.b64encode(ref.data).decode('ascii')}"
    if ref.file_id:
        return ref.file_id
    return wire.reference_object(ref)["image_url"]


def _check_nested(value: object, name: str) -> None:
    """A JSON object (or JSON text of one) of options: its keys may not set reserved fields either."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, Mapping):
        check_extra(value, RESERVED, where=f"extra_body.{name}")
