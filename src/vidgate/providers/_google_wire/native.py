"""The Google providers' native pass-through codec: a native request checked against the catalogue (in
Google's field names), the gateway's own file ids, and stored jobs rendered as Google operations.

Pure (no I/O): ``gateway.passthrough`` does the work and calls these. A job is read through the
``StoredJob`` protocol (the gateway's ``JobRecord`` satisfies it), so this package needs no gateway code.

File ids: a video of an operation is named ``{hex of the job id}s{sample index}``, lower-case letters
and digits only, because google-genai extracts the id of a file URI with ``[a-z0-9]+``. The URI keeps
Google's host (``https://generativelanguage.googleapis.com/v1beta/files/{id}:download?alt=media``)
unless ``general_settings.public_base_url`` is set (then ``{public_base_url}/gemini/v1beta/files/...``,
so ``fetch(uri + "&key=KEY")`` reaches the gateway): google-genai takes only the id from an ``https``
URI and calls its own base URL, and seed-style clients replace the Google prefix with the gateway's.
The provider's file id (and key) never reaches the client.

``GoogleNative`` is the codec object a Google provider package exports as ``ProviderSpec.native``: the
gateway's pass-through (``gateway.passthrough``) and the Google error envelope (``server.google_errors``)
dispatch through it and never name a provider. What differs between the two services is data on it
(where its routes are mounted, its service name, OAuth or API-key callers, inline or file outputs,
``gs://`` inputs); the Interactions API half is ``native_interactions`` and ``interaction_bodies``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from vidgate.catalog import ModelSpec, aspect_ratio, validate
from vidgate.errors import BadRequestError, NotFoundError
from vidgate.providers._google_wire import interaction_bodies as bodies
from vidgate.providers._google_wire import native_interactions as interactions
from vidgate.providers._google_wire import passthrough as wire
from vidgate.providers._google_wire.interaction_bodies import InteractionBody
from vidgate.providers._google_wire.omni import OmniFlows, is_interaction, is_omni, read_interaction
from vidgate.providers._google_wire.passthrough import NativeRequest
from vidgate.providers._google_wire.veo import GoogleVeoProvider
from vidgate.providers._google_wire.wire import GRPC_CODES, read_operation, samples
from vidgate.providers.base import Credentials, Download, Flow, Provider, ProviderJob
from vidgate.types import VIDEO_ID_PREFIX, VideoRequest

Surface = Literal["gemini", "vertex_ai"]


class StoredJob(Protocol):
    """What the codec reads of a stored job."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def n(self) -> int: ...
    @property
    def videos_generated(self) -> int | None: ...
    @property
    def native_payload(self) -> Mapping[str, Any]: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def native_id(self) -> str: ...


GEMINI_FILES_ROOT = "https://generativelanguage.googleapis.com/v1beta/files"
GEMINI_RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
VERTEX_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
# Stands in for the prompt of an image-to-video request that has none (Google makes the prompt optional
# there); used for catalogue validation only, never sent or stored.
_IMAGE_ONLY_PROMPT = "(image-to-video)"
_FILE_ID = re.compile(r"^([0-9a-f]{16,64})s(\d{1,3})$")  # video ids are "video_" + hex
_GRPC_BY_NAME = {name: number for number, name in GRPC_CODES.items()}
_GRPC_FOR_ERROR = {"timeout": 4, "not_found": 5, "moderation_blocked": 3}
_GOOGLE_FIELD = {
    "prompt": "prompt",
    "seconds": "durationSeconds",
    "size": "aspectRatio",
    "n": "sampleCount",
    "input_reference": "image",
    "last_frame": "lastFrame",
    "reference_images": "referenceImages",
    "negative_prompt": "negativePrompt",
    "person_generation": "personGeneration",
    "seed": "seed",
    "generate_audio": "generateAudio",
}


# ---- the request, checked against the catalogue -------------------------------------------------


def _invalid(message: str, field: str) -> BadRequestError:
    return BadRequestError(message, param=field, code="invalid_argument")


def _out_of_bound(field: str, low: int, high: int) -> BadRequestError:
    """Google's wording for a number outside its range."""
    return _invalid(
        f"The number value for `{field}` is out of bound. Please provide a value between {low} and {high}, "
        "inclusive.",
        field,
    )


def _integer(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _invalid(f"Invalid value at 'parameters.{field}' (TYPE_INT32), {value!r}", field)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):  # ASCII digits only
        return int(value.strip())
    raise _invalid(f"Invalid value at 'parameters.{field}' (TYPE_INT32), {value!r}", field)


def _text(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"Invalid value at 'parameters.{field}' (TYPE_STRING), {value!r}", field)


def native_size(spec: ModelSpec, aspect: object, resolution: object) -> str:
    """The catalogue size for ``aspectRatio`` + ``resolution`` (Google's defaults: the model's default
    size, i.e. 16:9 at 720p). Veo 2 has no ``resolution`` parameter."""
    default = spec.default_size
    for field, value in (("aspectRatio", aspect), ("resolution", resolution)):
        if isinstance(value, str) and not value.strip():  # empty is not absent: no silent default
            raise _invalid(
                f"`{field}` is empty. Give a value, or leave `{field}` out for the default.", field
            )
    aspect_text = _text(aspect, "aspectRatio") or aspect_ratio(default)
    if resolution is not None and not spec.send_resolution:
        raise _invalid(f"`resolution` isn't supported by {spec.model}.", "resolution")
    tier = (_text(resolution, "resolution") or spec.tier(default)).lower()
    for size, size_tier in spec.sizes.items():
        if size_tier == tier and aspect_ratio(size) == aspect_text:
            return size
    aspects = sorted({aspect_ratio(s) for s in spec.sizes})
    if aspect_text not in aspects:
        raise _invalid(
            f"`aspectRatio` {aspect_text!r} isn't supported by {spec.model}. Supported values are: "
            f"{', '.join(aspects)}.",
            "aspectRatio",
        )
    tiers = sorted({t for s, t in spec.sizes.items() if aspect_ratio(s) == aspect_text})
    raise _invalid(
        f"`resolution` {tier!r} isn't supported by {spec.model} with `aspectRatio` {aspect_text}. "
        f"Supported values are: {', '.join(tiers)}.",
        "resolution",
    )


def _seconds(spec: ModelSpec, value: object, size: str) -> int | None:
    seconds = _integer(value, "durationSeconds")
    if seconds is None:
        return None  # the model's default, as Veo applies it
    allowed = spec.allowed_seconds(size)
    if not min(allowed) <= seconds <= max(allowed):
        raise _out_of_bound("durationSeconds", min(allowed), max(allowed))
    if seconds not in allowed:
        raise _invalid(
            f"`durationSeconds` {seconds} isn't supported by {spec.model} at {spec.tier(size)}. Supported "
            f"values are: {', '.join(str(s) for s in allowed)}.",
            "durationSeconds",
        )
    return seconds


def _google_wording(err: BadRequestError) -> BadRequestError:
    """A catalogue error, its param renamed to the Google field the client sent."""
    field = _GOOGLE_FIELD.get(err.param or "", err.param or "")
    message = err.message
    if err.param:
        message = message.replace(f"'{err.param}'", f"`{field}`")
    return BadRequestError(message, param=field or None, code="invalid_argument")


def check_request(spec: ModelSpec, native: NativeRequest) -> VideoRequest:
    """The native request as the catalogue's VideoRequest (what is priced), or a 400 naming the Google
    field. The body itself is forwarded unchanged, so defaults here are Veo's own."""
    if is_omni(spec.model):
        raise _invalid(
            f"{spec.model} isn't a :predictLongRunning model: create it with POST .../interactions.", "model"
        )
    if native.has_video:
        raise _invalid(
            "`video` (extending a video) isn't supported through vidgate: the catalogue has no price for it.",
            "video",
        )
    if native.has_mask:
        raise _invalid("`mask` (video editing) isn't supported through vidgate.", "mask")
    size = native_size(spec, native.aspect_ratio, native.resolution)
    seconds = _seconds(spec, native.duration_seconds, size)
    count = _integer(native.sample_count, "sampleCount")
    if count is not None and not 1 <= count <= spec.max_n:
        raise _out_of_bound("sampleCount", 1, spec.max_n)
    seed = _integer(native.seed, "seed")
    audio = native.generate_audio
    if audio is not None and not isinstance(audio, bool):
        raise _invalid(f"Invalid value at 'parameters.generateAudio' (TYPE_BOOL), {audio!r}", "generateAudio")
    prompt = native.prompt
    if not (prompt or "").strip():
        if native.image is None:
            raise _invalid("A text `prompt` or an input `image` is required.", "prompt")
        prompt = _IMAGE_ONLY_PROMPT
    try:
        return validate(
            spec,
            prompt=prompt,
            seconds=seconds,
            size=size,
            input_reference=native.image,
            last_frame=native.last_frame,
            reference_images=native.reference_images,
            negative_prompt=_text(native.negative_prompt, "negativePrompt"),
            person_generation=_text(native.person_generation, "personGeneration"),
            seed=seed,
            n=count,
            generate_audio=audio,
        )
    except BadRequestError as exc:
        raise _google_wording(exc) from exc


# ---- file ids -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    job_id: str
    index: int


def file_id(job_id: str, index: int) -> str:
    hex_part = job_id.removeprefix(VIDEO_ID_PREFIX)
    return f"{hex_part}s{index}"


def parse_file_id(value: str) -> FileRef | None:
    match = _FILE_ID.match(value)
    if match is None:
        return None
    return FileRef(VIDEO_ID_PREFIX + match.group(1), int(match.group(2)))


def file_uri(job_id: str, index: int, public_base_url: str | None = None) -> str:
    """Google's host, or ``{public_base_url}/gemini/v1beta`` when the operator set one (so clients that
    fetch the URI as given reach the gateway)."""
    root = f"{public_base_url}/gemini/v1beta/files" if public_base_url else GEMINI_FILES_ROOT
    return f"{root}/{file_id(job_id, index)}:download?alt=media"


def operation_id(name: str) -> str:
    """The job id an operation name carries (``.../operations/{video id}``); '' when it has none."""
    head, sep, tail = name.rpartition("/operations/")
    return tail if sep and head and tail and "/" not in tail else ""


# ---- jobs as operations ---------------------------------------------------------------------------


def _payload_response(job: StoredJob) -> dict[str, Any]:
    """The provider's last ``response`` object (Gemini: its ``generateVideoResponse``), if stored."""
    response = job.native_payload.get("response")
    if not isinstance(response, dict):
        return {}
    nested = response.get("generateVideoResponse")
    return dict(nested) if isinstance(nested, dict) else dict(response)


def sample_count(job: StoredJob) -> int:
    """How many videos a completed job has: as the provider reported them (in its stored reply, else as
    counted at completion), else as requested."""
    found = samples(job.native_payload)
    if found:
        return len(found)
    return job.videos_generated if job.videos_generated is not None else job.n


def _filter_fields(job: StoredJob) -> dict[str, Any]:
    """``raiMediaFilteredCount``/``Reasons`` as the provider sent them (some samples can be filtered)."""
    response = _payload_response(job)
    return {k: response[k] for k in ("raiMediaFilteredCount", "raiMediaFilteredReasons") if k in response}


def grpc_error(job: StoredJob) -> dict[str, Any]:
    """A failed job as ``google.rpc.Status``: the provider's own code when it sent one."""
    error = job.native_payload.get("error")
    message = job.error_message or "The video could not be generated."
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        return {"code": error["code"], "message": str(error.get("message") or message)}
    code = job.error_code or ""
    number = _GRPC_BY_NAME.get(code) or _GRPC_FOR_ERROR.get(code) or 13
    return {"code": number, "message": message}


def filtered(job: StoredJob) -> bool:
    return job.status == "failed" and job.error_code == "moderation_blocked"


def filtered_response(job: StoredJob) -> dict[str, Any]:
    fields = _filter_fields(job)
    fields.setdefault("raiMediaFilteredCount", job.n)
    fields.setdefault(
        "raiMediaFilteredReasons", [job.error_message or "The video was blocked by safety filters."]
    )
    return fields


def gemini_operation(job: StoredJob, name: str, public_base_url: str | None = None) -> dict[str, Any]:
    """A job as the Gemini API's operation; the videos' URIs carry the gateway's file ids (on
    ``public_base_url`` when set)."""
    if job.status in ("queued", "in_progress"):
        return {"name": name, "done": False}
    if job.status == "completed":
        result: dict[str, Any] = {
            "generatedSamples": [
                {"video": {"uri": file_uri(job.id, i, public_base_url)}} for i in range(sample_count(job))
            ],
            **_filter_fields(job),
        }
    elif filtered(job):
        result = filtered_response(job)
    else:
        return {"name": name, "done": True, "error": grpc_error(job)}
    return {
        "name": name,
        "done": True,
        "response": {"@type": GEMINI_RESPONSE_TYPE, "generateVideoResponse": result},
    }


def vertex_operation(job: StoredJob, name: str, videos: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A job as Vertex AI's operation. ``videos`` (``{bytesBase64Encoded|gcsUri, mimeType}``) are
    required for a completed job: the caller loads them (inline bytes are Vertex's wire format)."""
    if job.status in ("queued", "in_progress"):
        return {"name": name, "done": False}
    if job.status == "completed":
        response: dict[str, Any] = {"@type": VERTEX_RESPONSE_TYPE, "raiMediaFilteredCount": 0}
        response.update(_filter_fields(job))
        response["videos"] = list(videos or [])
    elif filtered(job):
        response = {"@type": VERTEX_RESPONSE_TYPE, **filtered_response(job)}
    else:
        return {"name": name, "done": True, "error": grpc_error(job)}
    return {"name": name, "done": True, "response": response}


def stored_gcs_videos(job: StoredJob) -> list[dict[str, Any]] | None:
    """The ``gs://`` outputs of a completed Vertex job (written to the client's ``storageUri``), or None
    when its videos came inline (the stored payload keeps no video bytes)."""
    found = samples(job.native_payload)
    if found and all(s.uri and s.uri.startswith("gs://") for s in found):
        return [{"gcsUri": s.uri, "mimeType": s.mime_type} for s in found]
    return None


# ---- the codec a Google provider package exports (``ProviderSpec.native``) ----------------------------


@dataclass(frozen=True)
class GoogleNative:
    """One Google service's native API, for the gateway's pass-through routes mounted at ``mount``.

    - ``surface``: the provider (and ``api_surface`` of the jobs its routes create);
    - ``service``: the service name in Google's error details;
    - ``oauth_callers``: callers send a Bearer token (a bad one is 401 UNAUTHENTICATED), not an API key;
    - ``gateway_files``: finished videos are files the gateway serves under ``{mount}/v1beta/files``
      (the Gemini API's), else they come inline or as the client's own ``gs://`` objects (Vertex);
    - ``inline_outputs``: a finished operation carries its videos' bytes (Vertex);
    - ``allow_gcs``: inputs may be ``gs://`` URIs;
    - ``model_missing``: the 404 wording for an unknown model (``{model}`` replaced).
    """

    surface: Surface
    mount: str
    service: str
    oauth_callers: bool
    gateway_files: bool
    inline_outputs: bool
    allow_gcs: bool
    model_missing: str

    # ---- errors -------------------------------------------------------------------------------

    def model_not_found(self, model: str) -> NotFoundError:
        """Also for a model the key may not use (a key cannot probe which exist)."""
        return NotFoundError(self.model_missing.format(model=model), param="model", code="not_found")

    @staticmethod
    def interaction_not_found(interaction_id: str) -> NotFoundError:
        return NotFoundError(f"Interaction {interaction_id} not found.", param="id", code="not_found")

    # ---- :predictLongRunning (Veo) ------------------------------------------------------------

    def read_predict(self, body: object, adapter: Provider) -> NativeRequest:
        return wire.read_native_body(body, self.surface, adapter.reserved_params)

    @staticmethod
    def check_predict(spec: ModelSpec, native: NativeRequest) -> VideoRequest:
        return check_request(spec, native)

    @staticmethod
    def predict(
        adapter: Provider, model: str, body: Mapping[str, Any], creds: Credentials
    ) -> Flow[dict[str, Any]]:
        return wire.create(_veo(adapter), model, body, creds)

    @staticmethod
    def read_operation(op: Mapping[str, Any], fallback_model: str) -> ProviderJob:
        return read_operation(op, fallback_model=fallback_model)

    def operation(
        self,
        job: StoredJob,
        name: str,
        public_base_url: str | None,
        videos: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The job as this service's operation (``videos``: loaded by the caller when
        ``inline_outputs`` and the job completed)."""
        if self.inline_outputs:
            return vertex_operation(job, name, videos)
        return gemini_operation(job, name, public_base_url)

    @staticmethod
    def fetch_operation(adapter: Provider, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
        return wire.fetch_operation(_veo(adapter), native_id, creds)

    @staticmethod
    def download_sample(adapter: Provider, native_id: str, index: int, creds: Credentials) -> Flow[Download]:
        return wire.download_sample(_veo(adapter), native_id, index, creds)

    # ---- the Interactions API (Gemini Omni) ---------------------------------------------------

    def read_interaction_body(self, body: object, *, allow_private_urls: bool = False) -> InteractionBody:
        """Read before the model is resolved (``model`` is in the body): the Google adapters share
        their reserved names (``passthrough.GOOGLE_RESERVED``). ``allow_private_urls``: the operator's
        setting for video inputs by URL."""
        return bodies.read_interaction_body(
            body, allow_gcs=self.allow_gcs, allow_private_urls=allow_private_urls
        )

    @staticmethod
    def check_interaction(
        spec: ModelSpec,
        body: InteractionBody,
        *,
        previous: interactions.PreviousJob | None,
        clip_seconds: int | None,
    ) -> VideoRequest:
        return interactions.check_interaction(spec, body, previous=previous, clip_seconds=clip_seconds)

    @staticmethod
    def forwarded_interaction(
        body: Mapping[str, Any], model: str, previous_native_id: str | None
    ) -> dict[str, Any]:
        return bodies.forwarded_body(body, model, previous_native_id)

    @staticmethod
    def create_interaction(
        adapter: Provider, body: Mapping[str, Any], creds: Credentials
    ) -> Flow[dict[str, Any]]:
        return bodies.create_interaction(_omni(adapter), body, creds)

    @staticmethod
    def cancel_interaction(adapter: Provider, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
        return bodies.cancel_interaction(_omni(adapter), native_id, creds)

    @staticmethod
    def fetch_interaction(adapter: Provider, native_id: str, creds: Credentials) -> Flow[dict[str, Any]]:
        return bodies.fetch_interaction(_omni(adapter), native_id, creds)

    @staticmethod
    def read_interaction(answer: Mapping[str, Any], *, now: float, fallback_model: str) -> ProviderJob:
        return read_interaction(answer, now=now, fallback_model=fallback_model)

    @staticmethod
    def is_interaction(job: StoredJob) -> bool:
        return is_interaction(job.native_id)

    @staticmethod
    def needs_inline_bytes(job: StoredJob) -> bool:
        """Whether rendering this completed interaction needs its video's bytes (inline delivery)."""
        return job.status == "completed" and interactions.output_is_inline(job)

    def interaction(
        self,
        job: StoredJob,
        *,
        model: str,
        previous_interaction_id: str | None,
        created_at: int,
        updated_at: int | None,
        public_base_url: str | None,
        inline: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """The job as an Interaction with the gateway's ids; ``inline`` = (base64 data, MIME type) of
        an inline output, loaded by the caller when ``needs_inline_bytes``. A ``uri`` output is a
        gateway file (on ``public_base_url`` when set) where the service has files, else the client's
        own ``gs://`` object."""
        video: dict[str, Any] | None = None
        if job.status == "completed":
            if inline is not None:
                video = interactions.inline_video(*inline)
            elif not interactions.output_is_inline(job):
                gateway_uri = file_uri(job.id, 0, public_base_url) if self.gateway_files else None
                video = interactions.uri_video(job, gateway_uri)
        return interactions.interaction(
            job,
            model=model,
            previous_interaction_id=previous_interaction_id,
            created_at=created_at,
            updated_at=updated_at,
            output_video=video,
        )


def _veo(adapter: Provider) -> GoogleVeoProvider:
    if not isinstance(adapter, GoogleVeoProvider):
        raise TypeError(f"{adapter.name} has no Veo flows")
    return adapter


def _omni(adapter: Provider) -> OmniFlows:
    if not isinstance(adapter, OmniFlows):
        raise TypeError(f"{adapter.name} has no Interactions flows")
    return adapter
