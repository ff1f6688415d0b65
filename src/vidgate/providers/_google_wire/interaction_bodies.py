"""Google-native Interactions API bodies (Gemini Omni) forwarded through the gateway's pass-through.

A client speaking the Interactions API (google-genai 3.x ``client.interactions``, or REST) sends
``POST .../interactions``. The gateway reads the body into the catalogue's terms (``read_interaction_body``,
Google's field names kept for error messages), prices it, and forwards it with only two fields
rewritten: ``model`` (the deployment's own model id) and ``previous_interaction_id`` (the provider's id of
the caller's earlier interaction; the client only ever sees the gateway's ids). The flows run on a
deployment's adapter, so the pass-through and ``/v1/videos`` agree on where an interaction lives.

Refused, because the gateway could not keep its promises with them: ``background`` other than ``true``
(the create would hold a connection, a slot and a write-ahead lease for the whole generation),
``stream``, ``store`` other than ``true`` (an interaction not stored cannot be followed: the provider
would bill a video nobody gets), ``webhook_config`` (the provider would call back with its own ids),
``agent`` (this route serves models), ``tools`` (billed apart, not priced), the ``upscale`` task
(``UPSCALE_REFUSED``: nothing says what it bills), and any other spelling of a field the gateway reads
(``responseFormat``, ``durationSeconds``, ...).

Video inputs (``{"type": "video", "uri"|"data", "mime_type"}``; a ``uri`` is an https URL on a public
host, unless the operator allows private ones as for ``callback_url``, or on Vertex a ``gs://`` object;
``data`` is bounded by the request body limit) are reference videos of ``reference_to_video`` (up to the
row's ``max_reference_videos``), priced as ``/v1/videos`` prices them (the row's
``price_per_input.video`` where it has one; Omni has none: its token bound applies), or the one source of
an ``edit``/``extend`` without ``previous_interaction_id`` (an extension priced at its duration, an edit
at the source's length, read from its ``data``: an edit's source by URL is refused, and so is a
``duration`` other than that length).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vidgate.catalog.urls import check_url, is_private_host
from vidgate.errors import APIError, BadRequestError
from vidgate.providers._google_wire.omni import PREFIX, OmniFlows
from vidgate.providers._google_wire.passthrough import GOOGLE_RESERVED
from vidgate.providers._google_wire.wire import json_object
from vidgate.providers.base import Credentials, Flow, HttpCall
from vidgate.providers.reserved import COMMON_RESERVED, normalized, reserved_error, reserved_index
from vidgate.types import ImageInput, SourceVideo

GENERATE_TASKS = ("text_to_video", "image_to_video", "reference_to_video")
FOLLOW_UP_TASKS = ("edit", "extend")  # continue ``previous_interaction_id``
MAX_REFERENCE_IMAGES = 3
MAX_VIDEO_URI = 2048  # characters of a video input's uri (the callback URL's bound)
PRIVATE_SETTING = "general_settings.allow_private_callback_urls"
UPSCALE_REFUSED = (
    "The task upscale isn't supported through vidgate: no published source says what Google bills for "
    "an upscale (which duration and resolution, input or output), so the gateway cannot reserve an "
    "exact price for it. Call the provider directly for upscales."
)
_REFUSED = {
    "stream": "`stream` is not supported through the vidgate gateway: create with `background: true` and "
    "poll the interaction.",
    "webhook_config": "`webhook_config` is not supported through the vidgate gateway: poll the interaction "
    "instead.",
    "agent": "`agent` is not supported here: this route serves video models (`model`).",
    "agent_config": "`agent_config` is not supported here: this route serves video models (`model`).",
    "tools": "`tools` is not supported through the vidgate gateway: a tool's use is billed apart from the "
    "video, which is all the gateway prices.",
}
_REFUSED_NAMES = {normalized(field): field for field in _REFUSED}
# The fields the gateway reads, where it reads them; any other spelling of a reserved name is refused.
_READ_TOP = frozenset(
    {"model", "input", "response_format", "generation_config", "previous_interaction_id", "background"}
)
_READ_FORMAT = frozenset({"type", "aspect_ratio", "resolution", "duration", "delivery", "gcs_uri"})
_READ_GENERATION = frozenset({"seed", "video_config"})
_READ_VIDEO_CONFIG = frozenset({"task"})
# Forwarded untouched and not priced (the provider's own switches).
_PASSED = frozenset({"response_modalities"})


@dataclass(frozen=True)
class InteractionBody:
    """An Interactions create in the catalogue's terms, for validation and pricing only (the body is
    forwarded as sent but for ``model`` and ``previous_interaction_id``). Values are as sent."""

    model: str
    prompt: str
    images: tuple[ImageInput, ...] = ()
    videos: tuple[SourceVideo, ...] = ()
    task: str | None = None
    aspect_ratio: object = None
    resolution: object = None
    duration: object = None
    seed: object = None
    previous_interaction_id: str | None = None
    has_format: bool = False

    @property
    def reads_previous_clip(self) -> bool:
        """An ``edit`` of ``previous_interaction_id``, or a follow-up naming no task (a "conversational
        edit"): its price depends on that video's whole length, which the gateway reads from its bytes."""
        return self.previous_interaction_id is not None and self.task in (None, "edit")


def _invalid(message: str, field: str) -> BadRequestError:
    return BadRequestError(message, param=field, code="invalid_argument")


def _object(value: object, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"Invalid value at '{field}': expected an object.", field)
    return value


def _refuse_aliases(
    part: Mapping[str, Any], read: frozenset[str], where: str, reserved: Mapping[str, tuple[str, str]]
) -> None:
    for key in part:
        hit = reserved.get(normalized(str(key)))
        if hit is not None and key not in read and key not in _PASSED:
            raise reserved_error(str(key), hit[1], where)


def _image(block: Mapping[str, Any], field: str, *, allow_gcs: bool) -> ImageInput:
    mime = block.get("mime_type")
    if mime is not None and not isinstance(mime, str):
        raise _invalid(f"Invalid value at '{field}.mime_type' (TYPE_STRING).", field)
    uri = block.get("uri")
    if uri is not None:
        if not allow_gcs:
            raise _invalid(
                f"`{field}.uri` isn't supported through vidgate: send the image bytes as `data`.", field
            )
        if not isinstance(uri, str) or not uri.startswith("gs://") or len(uri) <= len("gs://"):
            raise _invalid(f"Invalid value at '{field}.uri': expected a gs:// URI.", field)
        return ImageInput(url=uri, mime_type=mime)
    data = block.get("data")
    if not isinstance(data, str) or not data:
        accepted = "`data` (or a gs:// `uri`)" if allow_gcs else "`data`"
        raise _invalid(f"`{field}` needs {accepted} and `mime_type`.", field)
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"Invalid value at '{field}.data': not valid base64.", field) from exc
    return ImageInput(data=decoded, mime_type=mime)


def _video(block: Mapping[str, Any], field: str, *, allow_gcs: bool, allow_private: bool) -> SourceVideo:
    """A video input block: an https URL (public host unless allowed), a ``gs://`` object where the
    service reads them, or base64 ``data``."""
    mime = block.get("mime_type")
    if mime is not None and (not isinstance(mime, str) or not mime.startswith("video/")):
        raise _invalid(f"Invalid value at '{field}.mime_type': expected a video/* type.", field)
    media_type = mime or "video/mp4"
    uri = block.get("uri")
    if uri is not None:
        if isinstance(uri, str) and allow_gcs and uri.startswith("gs://") and len(uri) > len("gs://"):
            return SourceVideo(url=uri, media_type=media_type)

        def bad(reason: str) -> BadRequestError:
            return _invalid(f"Invalid value at '{field}.uri': {reason}", f"{field}.uri")

        if not isinstance(uri, str):
            raise bad("expected a string.")
        if allow_gcs and not uri.startswith("https://"):
            raise bad("expected an https:// URL or a gs:// URI.")
        host = check_url(uri, schemes=("https",), max_length=MAX_VIDEO_URI, bad=bad)
        if not allow_private and is_private_host(host):
            raise bad(
                f"'{host}' is a private, loopback or link-local address; video inputs must be on public "
                f"hosts (an operator can allow private ones with {PRIVATE_SETTING})."
            )
        return SourceVideo(url=uri, media_type=media_type)
    data = block.get("data")
    if not isinstance(data, str) or not data:
        raise _invalid(f"`{field}` needs `uri` or `data`.", field)
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"Invalid value at '{field}.data': not valid base64.", field) from exc
    return SourceVideo(data=decoded, media_type=media_type)


def _input(
    raw: object, *, allow_gcs: bool, allow_private: bool
) -> tuple[str, tuple[ImageInput, ...], tuple[SourceVideo, ...]]:
    """The text, images and videos of ``input``: a string, one content block, or a list of them (also
    google-genai 3.x's one ``user_input`` step holding the list)."""
    if isinstance(raw, str):
        return raw, (), ()
    if (
        isinstance(raw, list)
        and len(raw) == 1
        and isinstance(raw[0], dict)
        and raw[0].get("type") == "user_input"
        and isinstance(raw[0].get("content"), list)
    ):
        raw = raw[0]["content"]
    blocks = [raw] if isinstance(raw, dict) else raw
    if not isinstance(blocks, list) or not blocks:
        raise _invalid(
            "`input` must be a text prompt or a list of `text`, `image` and `video` content blocks.", "input"
        )
    texts: list[str] = []
    images: list[ImageInput] = []
    videos: list[SourceVideo] = []
    for i, block in enumerate(blocks):
        field = f"input[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "image":
            images.append(_image(block, field, allow_gcs=allow_gcs))
        elif kind == "video":
            videos.append(_video(block, field, allow_gcs=allow_gcs, allow_private=allow_private))
        else:
            raise _invalid(f"`{field}` must be a `text`, an `image` or a `video` content block.", field)
    return "\n".join(texts), tuple(images), tuple(videos)


def read_interaction_body(
    body: object,
    *,
    allow_gcs: bool,
    allow_private_urls: bool = False,
    reserved_params: Mapping[str, str] = GOOGLE_RESERVED,
) -> InteractionBody:
    """Read an Interactions create body; BadRequestError (param = Google's field name) when it is not
    one the gateway can price. ``allow_private_urls``: the operator lets video URLs name private hosts."""
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload: expected an object.", "body")
    for key, value in body.items():
        # By normalized name: the API's JSON parser takes ``webhookConfig`` for ``webhook_config``.
        name = normalized(str(key))
        field = _REFUSED_NAMES.get(name)
        if field is not None and (key != field or value not in (None, False)):
            raise _invalid(_REFUSED[field], str(key))
        if key != "store" and name == "store":
            raise reserved_error(str(key), "store", "")
    reserved = reserved_index(COMMON_RESERVED, reserved_params)
    _refuse_aliases({k: v for k, v in body.items() if k not in _REFUSED}, _READ_TOP, "", reserved)
    if body.get("store", True) is not True:
        raise _invalid(
            "`store` must be true (or left out): the gateway follows the interaction by its stored id "
            "until the video is ready.",
            "store",
        )
    if body.get("background") is not True:
        raise _invalid(
            "`background` must be true: the gateway runs interactions in the background; poll "
            "GET .../interactions/{id} for the result.",
            "background",
        )
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _invalid("`model` is required: the video model to run (e.g. gemini-omni-1.2-flash).", "model")
    fmt = _object(body.get("response_format"), "response_format")
    generation = _object(body.get("generation_config"), "generation_config")
    video_config = _object(generation.get("video_config"), "generation_config.video_config")
    _refuse_aliases(fmt, _READ_FORMAT, "response_format", reserved)
    _refuse_aliases(generation, _READ_GENERATION, "generation_config", reserved)
    _refuse_aliases(video_config, _READ_VIDEO_CONFIG, "generation_config.video_config", reserved)
    if fmt.get("type", "video") != "video":
        raise _invalid('`response_format.type` must be "video" for a video model.', "response_format.type")
    prompt, images, videos = _input(body.get("input"), allow_gcs=allow_gcs, allow_private=allow_private_urls)
    previous = body.get("previous_interaction_id")
    if previous is not None and (not isinstance(previous, str) or not previous.strip()):
        raise _invalid("`previous_interaction_id` must be an interaction id.", "previous_interaction_id")
    task = video_config.get("task")
    if task == "upscale":
        raise _invalid(UPSCALE_REFUSED, "generation_config.video_config.task")
    if task is not None and task not in (*GENERATE_TASKS, *FOLLOW_UP_TASKS):
        allowed = ", ".join((*GENERATE_TASKS, *FOLLOW_UP_TASKS))
        raise _invalid(
            f"`generation_config.video_config.task` {task!r} isn't supported through vidgate. Supported "
            f"values are: {allowed}.",
            "generation_config.video_config.task",
        )
    return InteractionBody(
        model=model.strip().removeprefix("models/"),
        prompt=prompt,
        images=images,
        videos=videos,
        task=task,
        aspect_ratio=fmt.get("aspect_ratio"),
        resolution=fmt.get("resolution"),
        duration=fmt.get("duration"),
        seed=generation.get("seed"),
        previous_interaction_id=previous.strip() if isinstance(previous, str) else None,
        has_format="response_format" in body,
    )


def forwarded_body(body: Mapping[str, Any], model: str, previous_native_id: str | None) -> dict[str, Any]:
    """The body as sent, on the deployment's ``model``, continuing the provider's own interaction."""
    out = dict(body)
    out["model"] = model.rsplit("/", 1)[-1].removeprefix("models/")
    if previous_native_id is not None:
        out["previous_interaction_id"] = previous_native_id.removeprefix(PREFIX)
    return out


# ---- calls on a deployment ----------------------------------------------------------------------


def create_interaction(omni: OmniFlows, body: Mapping[str, Any], creds: Credentials) -> Flow[dict[str, Any]]:
    """``POST .../interactions`` (paid: never blindly re-sent); the provider's Interaction JSON."""
    reply = yield HttpCall(
        "POST", omni.interactions_url(creds), headers=omni.headers(creds), json=dict(body), retry_safe=False
    )
    answer = dict(json_object(reply))
    if not isinstance(answer.get("id"), str) or not answer["id"]:
        raise APIError(f"{omni.service} answered the create without an interaction id.", status_code=502)
    return answer


def cancel_interaction(omni: OmniFlows, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
    """``POST .../interactions/{id}/cancel``; the Interaction as the provider answers it."""
    reply = yield HttpCall(
        "POST", omni.interaction_url(native_id, creds, "/cancel"), headers=omni.headers(creds)
    )
    return dict(json_object(reply))


def fetch_interaction(omni: OmniFlows, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
    """The provider's current Interaction JSON, whole (inline video bytes included)."""
    reply = yield HttpCall("GET", omni.interaction_url(native_id, creds), headers=omni.headers(creds))
    return dict(json_object(reply))
