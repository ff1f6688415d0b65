"""Vertex AI (Veo) adapter: ``publishers/google/models/{model}:predictLongRunning`` and polling by
``POST ...:fetchPredictOperation {"operationName": ...}``, with an OAuth2 Bearer token.

Endpoint: ``Credentials.api_base`` (the host root google-genai's ``http_options.base_url`` takes), else
``https://{location}-aiplatform.googleapis.com`` (``global`` -> ``https://aiplatform.googleapis.com``;
the multi-regions ``us``/``eu`` -> ``https://aiplatform.{location}.rep.googleapis.com``), then
``/v1/projects/{project}/locations/{location}/...`` (``Credentials.api_version`` overrides ``v1``).

Auth: ``Credentials.access_token`` as ``Authorization: Bearer``. Adapters do no I/O, so the token is
resolved before the flow runs (``vidgate.transport.google_auth``: ``VERTEXAI_ACCESS_TOKEN`` or
google-auth's application-default credentials); a flow without one fails with AuthenticationError.

Outputs: without ``storageUri`` Vertex returns the videos inline as base64 (already in memory, so the
download is ``Download(data=...)``); with ``extra_body={"storageUri": "gs://bucket/dir"}`` it writes
``gs://`` objects, downloaded through the GCS JSON API (``/storage/v1/b/{bucket}/o/{object}?alt=media``)
with the same token. The GCS host is ``https://storage.googleapis.com``, except when ``api_base`` points
somewhere other than ``*.googleapis.com`` (an emulator or a gateway): then that same host serves the
GCS routes too. ``extra_body`` keys go into ``parameters``, except ``labels`` (top level).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from vidgate.catalog import find_model
from vidgate.errors import APIError, AuthenticationError, BadRequestError, invalid_value
from vidgate.providers.base import (
    BaseProvider,
    Capability,
    Credentials,
    Download,
    Flow,
    HttpCall,
    HttpReply,
    ProviderJob,
)
from vidgate.providers.google_wire import (
    VERTEX_IMAGE_TYPES,
    decode_inline,
    google_error,
    image_part,
    json_object,
    read_operation,
    samples,
)
from vidgate.types import ImageInput, VideoRequest

API_VERSION = "v1"
STORAGE_BASE = "https://storage.googleapis.com"
MULTI_REGIONS = frozenset({"us", "eu"})
TOP_LEVEL_EXTRA = frozenset({"labels"})
_SERVICE = "Vertex AI"
_NAME_PART = re.compile(r"^[A-Za-z0-9._-]+$")
_OPERATION_NAME = re.compile(
    r"^projects/[A-Za-z0-9._-]+/locations/[A-Za-z0-9._-]+/publishers/google/models/[A-Za-z0-9._-]+"
    r"/operations/[A-Za-z0-9._-]+$"
)


def _image(image: ImageInput, param: str) -> dict[str, str]:
    return image_part(image, param, service=_SERVICE, allow_gcs=True, types=VERTEX_IMAGE_TYPES)


def default_api_base(location: str) -> str:
    """The regional endpoint google-genai uses for ``location``."""
    if location == "global":
        return "https://aiplatform.googleapis.com"
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def parse_gcs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/path/to/object`` -> ("bucket", "path/to/object")."""
    rest = uri.removeprefix("gs://")
    bucket, _, name = rest.partition("/")
    if not uri.startswith("gs://") or not bucket or not name:
        raise APIError(f"Vertex AI returned an unreadable output URI '{uri[:200]}'.", status_code=502)
    return bucket, name


class VertexProvider(BaseProvider):
    name: ClassVar[str] = "vertex_ai"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CREATE, Capability.RETRIEVE, Capability.DOWNLOAD}
    )

    # ---- plumbing -----------------------------------------------------------------------------

    def _setting(self, value: str | None, name: str, env_names: str) -> str:
        if not value:
            raise BadRequestError(
                f"Vertex AI needs a {name}: pass vertex_{name} or set {env_names}.",
                param=f"vertex_{name}",
                code="missing_setting",
                provider=self.name,
            )
        if not _NAME_PART.match(value):
            raise BadRequestError(
                f"Invalid Vertex AI {name} '{value}'.", param=f"vertex_{name}", provider=self.name
            )
        return value

    def project(self, creds: Credentials) -> str:
        return self._setting(creds.project, "project", "VERTEXAI_PROJECT (or GOOGLE_CLOUD_PROJECT)")

    def location(self, creds: Credentials) -> str:
        return self._setting(creds.location, "location", "VERTEXAI_LOCATION (or GOOGLE_CLOUD_LOCATION)")

    def api_base(self, creds: Credentials) -> str:
        return (creds.api_base or default_api_base(self.location(creds))).rstrip("/")

    def root(self, creds: Credentials) -> str:
        version = creds.api_version or API_VERSION
        return f"{self.api_base(creds).removesuffix('/' + version)}/{version}"

    def storage_base(self, creds: Credentials) -> str:
        """The GCS JSON API host: Google's, or a custom non-Google ``api_base`` (see the module doc)."""
        if creds.api_base:
            host = urlsplit(creds.api_base).hostname or ""
            if not host.endswith(".googleapis.com"):
                return creds.api_base.rstrip("/")
        return STORAGE_BASE

    def headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.access_token:
            raise AuthenticationError(
                "No Vertex AI access token: pass access_token, set VERTEXAI_ACCESS_TOKEN, or install "
                "google-auth (pip install 'vidgate[google]') and configure application-default credentials "
                "(gcloud auth application-default login).",
                code="missing_access_token",
                provider=self.name,
            )
        return {**creds.extra_headers, "Authorization": f"Bearer {creds.access_token}"}

    def model_path(self, model: str, creds: Credentials) -> str:
        model = model.removeprefix("publishers/google/models/")
        if not _NAME_PART.match(model):
            raise BadRequestError(f"Invalid model name '{model}'.", param="model")
        return (
            f"{self.root(creds)}/projects/{self.project(creds)}/locations/{self.location(creds)}"
            f"/publishers/google/models/{model}"
        )

    def error_for(self, reply: HttpReply) -> APIError:
        return google_error(reply, self.name)

    # ---- create -------------------------------------------------------------------------------

    def request_body(self, req: VideoRequest) -> dict[str, Any]:
        """The ``:predictLongRunning`` body for a validated request (raises BadRequestError, no I/O).

        ``generateAudio`` is sent for models with an audio switch: the request's value, else ``true``
        (what the catalogue prices by default, and required by the Veo 3 previews).
        """
        model = req.model.removeprefix("publishers/google/models/")
        spec = find_model(f"{self.name}/{model}")
        instance: dict[str, Any] = {"prompt": req.prompt}
        if req.input_reference is not None:
            instance["image"] = _image(req.input_reference, "input_reference")
        if req.last_frame is not None:
            instance["lastFrame"] = _image(req.last_frame, "last_frame")
        if req.reference_images:
            instance["referenceImages"] = [
                {
                    "image": _image(img, "reference_images"),
                    "referenceType": "asset",
                }
                for img in req.reference_images
            ]
        parameters: dict[str, Any] = {"aspectRatio": req.aspect_ratio}
        if spec is None or spec.send_resolution:
            parameters["resolution"] = req.resolution
        parameters["durationSeconds"] = int(req.seconds)
        parameters["sampleCount"] = req.n
        if req.negative_prompt is not None:
            parameters["negativePrompt"] = req.negative_prompt
        if req.person_generation is not None:
            parameters["personGeneration"] = req.person_generation
        if req.seed is not None:
            parameters["seed"] = req.seed
        if spec is not None and spec.has("audio_toggle"):
            parameters["generateAudio"] = True if req.generate_audio is None else req.generate_audio
        elif req.generate_audio is not None:
            parameters["generateAudio"] = req.generate_audio
        body: dict[str, Any] = {"instances": [instance], "parameters": parameters}
        for key, value in req.extra_body.items():
            (body if key in TOP_LEVEL_EXTRA else parameters)[key] = value
        return body

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = self.request_body(req)
        url = f"{self.model_path(req.model, creds)}:predictLongRunning"
        reply = yield HttpCall("POST", url, headers=self.headers(creds), json=body, retry_safe=False)
        model = req.model.removeprefix("publishers/google/models/")
        job = read_operation(json_object(reply), fallback_model=model)
        if not job.native_id:
            raise APIError("Vertex AI answered the create without an operation name.", provider=self.name)
        status = job.status if job.status != "in_progress" else "queued"
        return replace(
            job,
            status=status,
            progress=0 if status == "queued" else job.progress,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
        )

    # ---- retrieve / download ------------------------------------------------------------------

    def _fetch_call(self, native_id: str, creds: Credentials) -> HttpCall:
        if not _OPERATION_NAME.match(native_id):
            raise BadRequestError(
                f"Invalid Vertex AI operation name '{native_id[:200]}': expected "
                "'projects/P/locations/L/publishers/google/models/M/operations/ID'.",
                param="video_id",
            )
        resource = native_id.rpartition("/operations/")[0]
        return HttpCall(
            "POST",
            f"{self.root(creds)}/{resource}:fetchPredictOperation",
            headers=self.headers(creds),
            json={"operationName": native_id},
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._fetch_call(native_id, creds)
        return read_operation(json_object(reply))

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """The first video: inline bytes as they came, or the ``gs://`` object through the GCS JSON API."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += " Vertex AI has no thumbnail or spritesheet."
            error.provider = self.name
            raise error
        reply = yield self._fetch_call(native_id, creds)
        op = json_object(reply)
        job = read_operation(op)
        if job.status != "completed":
            reason = f": {job.error.message}" if job.error else ""
            raise BadRequestError(
                f"Video is not ready for download: status is '{job.status}'{reason}",
                code="video_not_ready",
                provider=self.name,
            )
        sample = samples(op)[0]
        if sample.data_b64 is not None:
            return Download(media_type=sample.mime_type, data=decode_inline(sample))
        assert sample.uri is not None
        bucket, name = parse_gcs_uri(sample.uri)
        url = f"{self.storage_base(creds)}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        return Download(
            media_type=sample.mime_type,
            call=HttpCall("GET", url, headers=self.headers(creds), params={"alt": "media"}),
        )
