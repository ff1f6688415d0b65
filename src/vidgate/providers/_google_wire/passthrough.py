"""Google-native Veo requests forwarded as sent (the gateway's Gemini and Vertex AI pass-through).

A client speaking Google's own wire format (google-genai, or plain REST) sends a ``:predictLongRunning``
body. The gateway must check and price it with the catalogue before anything is sent, then forward the
body unchanged to the deployment, poll the operation and fetch its videos. This module holds that wire
knowledge: ``read_native_body`` reads a body into the catalogue's terms (names of Google's fields kept
for error messages), and the flows build the calls on a deployment's credentials through the Gemini and
Vertex adapters' own URL and header rules, so the pass-through and the OpenAI-shaped path can never
disagree about where a deployment lives.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vidgate.errors import APIError, BadRequestError, NotFoundError
from vidgate.providers._google_wire.omni import OMNI_RESERVED
from vidgate.providers._google_wire.veo import VEO_RESERVED, GoogleVeoProvider
from vidgate.providers._google_wire.wire import json_object, read_operation, samples
from vidgate.providers.base import Credentials, Download, Flow, HttpCall
from vidgate.providers.reserved import COMMON_RESERVED, normalized, reserved_error, reserved_index
from vidgate.types import ImageInput

# The Google adapters' reserved names (Veo's and the Interactions API's), the default for a body read
# without an adapter at hand.
GOOGLE_RESERVED: Mapping[str, str] = {**VEO_RESERVED, **OMNI_RESERVED}
# Top-level body fields the gateway cannot forward: a provider webhook would be called with the
# provider's own operation name, bypassing the gateway's ids and ownership.
_REFUSED_TOP_LEVEL = frozenset({normalized("webhookConfig")})
# The fields ``read_native_body`` reads where it reads them: any other spelling of a reserved name
# (``duration_seconds``, ``numberOfVideos``, a top-level ``model``) could be read upstream as the field
# itself while the gateway priced the body without it, so it is refused.
_READ_TOP = frozenset({"instances", "parameters"})
_READ_INSTANCE = frozenset({"prompt", "image", "lastFrame", "referenceImages", "video", "mask"})
_READ_PARAMETERS = frozenset(
    {
        "durationSeconds",
        "aspectRatio",
        "resolution",
        "sampleCount",
        "negativePrompt",
        "personGeneration",
        "seed",
        "generateAudio",
    }
)
_GOOGLE_NAME = {
    "seconds": "parameters.durationSeconds",
    "size": "parameters.aspectRatio",
    "n": "parameters.sampleCount",
    "input_reference": "instances[0].image",
    "last_frame": "instances[0].lastFrame",
    "reference_images": "instances[0].referenceImages",
    "generate_audio": "parameters.generateAudio",
    "negative_prompt": "parameters.negativePrompt",
    "person_generation": "parameters.personGeneration",
    "seed": "parameters.seed",
    "prompt": "instances[0].prompt",
}


@dataclass(frozen=True)
class NativeRequest:
    """A ``:predictLongRunning`` body in the catalogue's terms, for validation and pricing only (the
    body itself is forwarded as the client sent it). Values are as sent; the gateway checks them."""

    prompt: str | None
    duration_seconds: object = None
    aspect_ratio: object = None
    resolution: object = None
    sample_count: object = None
    negative_prompt: object = None
    person_generation: object = None
    seed: object = None
    generate_audio: object = None
    image: ImageInput | None = None
    last_frame: ImageInput | None = None
    reference_images: tuple[ImageInput, ...] = ()
    has_video: bool = False
    has_mask: bool = False
    storage_uri: str | None = None


def _invalid(message: str, field: str) -> BadRequestError:
    return BadRequestError(message, param=field, code="invalid_argument")


def _image(raw: object, field: str, *, allow_gcs: bool) -> ImageInput | None:
    """``{bytesBase64Encoded, mimeType}``, ``{inlineData: {data, mimeType}}`` (Gemini REST examples) or
    ``{gcsUri, mimeType}`` (Vertex only)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _invalid(f"Invalid value at '{field}': expected an object.", field)
    inline = raw.get("inlineData")
    if isinstance(inline, dict):
        raw = {"bytesBase64Encoded": inline.get("data"), "mimeType": inline.get("mimeType")}
    mime = raw.get("mimeType")
    if mime is not None and not isinstance(mime, str):
        raise _invalid(f"Invalid value at '{field}.mimeType' (TYPE_STRING).", field)
    gcs = raw.get("gcsUri")
    if gcs is not None:
        if not allow_gcs:
            raise _invalid(
                f"`gcsUri` isn't supported in `{field}` by the Gemini API. Send the image bytes.", field
            )
        if not isinstance(gcs, str) or not gcs.startswith("gs://"):
            raise _invalid(f"Invalid value at '{field}.gcsUri': expected a gs:// URI.", field)
        return ImageInput(url=gcs, mime_type=mime)
    data = raw.get("bytesBase64Encoded")
    if not isinstance(data, str) or not data:
        accepted = "`bytesBase64Encoded` (or `gcsUri`)" if allow_gcs else "`bytesBase64Encoded`"
        raise _invalid(f"`{field}` needs {accepted} and `mimeType`.", field)
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"Invalid value at '{field}.bytesBase64Encoded': not valid base64.", field) from exc
    return ImageInput(data=decoded, mime_type=mime)


def read_native_body(
    body: object, provider: str, reserved_params: Mapping[str, str] = GOOGLE_RESERVED
) -> NativeRequest:
    """Read a Gemini (``provider="gemini"``) or Vertex (``"vertex_ai"``) ``:predictLongRunning`` body;
    ``reserved_params`` are the deployment adapter's.

    Raises BadRequestError (param = Google's field name) when the body is not that shape.
    """
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload: expected an object.", "body")
    for key in body:  # by normalized name: the API's JSON parser takes ``webhook_config`` too
        if normalized(str(key)) in _REFUSED_TOP_LEVEL:
            raise _invalid(
                f"`{key}` is not supported through the vidgate gateway: poll the operation instead.", str(key)
            )
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise _invalid("`instances` must be a list with exactly one instance object.", "instances")
    instance: dict[str, Any] = instances[0]
    params = body.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _invalid("Invalid value at 'parameters': expected an object.", "parameters")
    reserved = reserved_index(COMMON_RESERVED, reserved_params)
    _refuse_aliases(body, _READ_TOP, "", reserved)
    _refuse_aliases(instance, _READ_INSTANCE, "instances[0]", reserved)
    _refuse_aliases(params, _READ_PARAMETERS, "parameters", reserved)
    prompt = instance.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise _invalid("Invalid value at 'instances[0].prompt' (TYPE_STRING).", "prompt")
    allow_gcs = provider == "vertex_ai"
    references = instance.get("referenceImages")
    refs: list[ImageInput] = []
    if references is not None:
        if not isinstance(references, list):
            raise _invalid("`referenceImages` must be a list.", "referenceImages")
        for i, ref in enumerate(references):
            if not isinstance(ref, dict):
                raise _invalid(
                    f"Invalid value at 'referenceImages[{i}]': expected an object.", "referenceImages"
                )
            image = _image(ref.get("image"), f"referenceImages[{i}].image", allow_gcs=allow_gcs)
            if image is None:
                raise _invalid(f"`referenceImages[{i}]` needs an `image`.", "referenceImages")
            refs.append(image)
    storage = params.get("storageUri")
    return NativeRequest(
        prompt=prompt,
        duration_seconds=params.get("durationSeconds"),
        aspect_ratio=params.get("aspectRatio"),
        resolution=params.get("resolution"),
        sample_count=params.get("sampleCount"),
        negative_prompt=params.get("negativePrompt"),
        person_generation=params.get("personGeneration"),
        seed=params.get("seed"),
        generate_audio=params.get("generateAudio"),
        image=_image(instance.get("image"), "image", allow_gcs=allow_gcs),
        last_frame=_image(instance.get("lastFrame"), "lastFrame", allow_gcs=allow_gcs),
        reference_images=tuple(refs),
        has_video=instance.get("video") is not None,
        has_mask=instance.get("mask") is not None,
        storage_uri=storage if isinstance(storage, str) else None,
    )


def _refuse_aliases(
    part: Mapping[str, Any], read: frozenset[str], where: str, reserved: Mapping[str, tuple[str, str]]
) -> None:
    """A key of ``part`` that spells a reserved field other than as the gateway reads it is a 400."""
    for key in part:
        hit = reserved.get(normalized(str(key)))
        if hit is not None and key not in read:
            raise reserved_error(str(key), _GOOGLE_NAME.get(hit[1], hit[1]), where)


# ---- calls on a deployment (through the deployment's own adapter) --------------------------------


def create_call(
    adapter: GoogleVeoProvider, model: str, body: Mapping[str, Any], creds: Credentials
) -> HttpCall:
    """``POST ...:predictLongRunning`` with the body as sent, on the deployment (never blindly re-sent)."""
    return adapter.create_call(model, body, creds)


def operation_call(adapter: GoogleVeoProvider, native_id: str, creds: Credentials) -> HttpCall:
    """The poll: Gemini ``GET {operation name}``; Vertex ``POST {model}:fetchPredictOperation``."""
    return adapter.poll_call(native_id, creds)


def create(
    adapter: GoogleVeoProvider, model: str, body: Mapping[str, Any], creds: Credentials
) -> Flow[dict[str, Any]]:
    """Forward a native create; returns the provider's operation JSON (it must carry a name)."""
    reply = yield create_call(adapter, model, body, creds)
    op = dict(json_object(reply))
    if not isinstance(op.get("name"), str) or not op["name"]:
        raise APIError("The provider answered the create without an operation name.", provider=adapter.name)
    return op


def fetch_operation(adapter: GoogleVeoProvider, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
    """The provider's current operation JSON, whole (inline Vertex bytes included)."""
    reply = yield operation_call(adapter, native_id, creds)
    return dict(json_object(reply))


def sample_download(
    adapter: GoogleVeoProvider, op: Mapping[str, Any], index: int, creds: Credentials
) -> Download:
    """Where sample ``index`` of a done operation is: inline bytes, a Gemini file (the API redirects to
    storage; the runner follows), or a ``gs://`` object read through the GCS JSON API."""
    found = samples(op)
    if not 0 <= index < len(found):
        job = read_operation(op)
        reason = f" ({job.error.message})" if job.error else ""
        raise NotFoundError(f"The operation has no video {index}{reason}.", provider=adapter.name)
    return adapter.sample_download(found[index], creds)


def download_sample(
    adapter: GoogleVeoProvider, native_id: str, index: int, creds: Credentials
) -> Flow[Download]:
    """Fetch the operation, then locate sample ``index`` (any sample, not only the first)."""
    op = yield from fetch_operation(adapter, native_id, creds)
    return sample_download(adapter, op, index, creds)
