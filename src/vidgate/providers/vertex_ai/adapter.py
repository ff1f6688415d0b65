"""Vertex AI (Veo) adapter: ``publishers/google/models/{model}:predictLongRunning`` and polling by
``POST ...:fetchPredictOperation {"operationName": ...}``, with an OAuth2 Bearer token.

Endpoint: ``Credentials.api_base`` (the host root google-genai's ``http_options.base_url`` takes), else
``https://{location}-aiplatform.googleapis.com`` (``global`` -> ``https://aiplatform.googleapis.com``;
the multi-regions ``us``/``eu`` -> ``https://aiplatform.{location}.rep.googleapis.com``), then
``/v1/projects/{project}/locations/{location}/...`` (``Credentials.api_version`` overrides ``v1``).

Auth: ``Credentials.access_token`` as ``Authorization: Bearer``. Adapters do no I/O, so the token is
resolved before the flow runs (``vidgate.providers.vertex_ai.auth``: ``VERTEXAI_ACCESS_TOKEN`` or
google-auth's application-default credentials); a flow without one fails with AuthenticationError.

Outputs: without ``storageUri`` Vertex returns the videos inline as base64 (already in memory, so the
download is ``Download(data=...)``); with ``extra_body={"storageUri": "gs://bucket/dir"}`` it writes
``gs://`` objects, downloaded through the GCS JSON API (``/storage/v1/b/{bucket}/o/{object}?alt=media``)
with the same token. The GCS host is ``https://storage.googleapis.com``, except when ``api_base`` points
somewhere other than ``*.googleapis.com`` (an emulator or a gateway): then that same host serves the
GCS routes too. ``extra_body`` keys go into ``parameters``, except ``labels`` (top level).

Edits and extensions (``VideoRequest.task``): a Veo 3.1 extension sends the source as
``instances[0].video``, ``{gcsUri, mimeType}`` when it is a ``gs://`` output, else
``{bytesBase64Encoded, mimeType}`` (google-genai's ``_Video_to_vertex``). Omni edits and extends through
``previous_interaction_id`` or the video as an input block (``gs://`` uri or inline bytes).

Gemini Omni rows (``gemini-omni-*``) use the Interactions API at
``{api_base}/v1beta1/projects/{project}/locations/global/interactions`` (always ``global``, whatever the
deployment's location; default host ``https://aiplatform.googleapis.com``) with the same token. The
video is delivered inline, or with ``extra_body={"storageUri": "gs://..."}`` as ``uri`` delivery to that
``gcs_uri``, downloaded like Veo's objects.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from vidgate.catalog import ModelSpec
from vidgate.errors import APIError, AuthenticationError, BadRequestError
from vidgate.providers._google_wire.omni import (
    OMNI_RESERVED,
    OmniFlows,
    is_interaction,
    is_omni,
    omni_image_block,
)
from vidgate.providers._google_wire.veo import VEO_RESERVED, GoogleVeoProvider
from vidgate.providers._google_wire.wire import VERTEX_IMAGE_TYPES, image_part
from vidgate.providers.base import Credentials, Download, Flow, HttpCall, ProviderJob
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, SourceVideo, VideoRequest

API_VERSION = "v1"
INTERACTIONS_VERSION = "v1beta1"
STORAGE_BASE = "https://storage.googleapis.com"
MULTI_REGIONS = frozenset({"us", "eu"})
TOP_LEVEL_EXTRA = frozenset({"labels"})
_NAME_PART = re.compile(r"^[A-Za-z0-9._-]+$")
_OPERATION_NAME = re.compile(
    r"^projects/[A-Za-z0-9._-]+/locations/[A-Za-z0-9._-]+/publishers/google/models/[A-Za-z0-9._-]+"
    r"/operations/[A-Za-z0-9._-]+$"
)


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


class VertexProvider(GoogleVeoProvider, OmniFlows):
    name: ClassVar[str] = "vertex_ai"
    service: ClassVar[str] = "Vertex AI"
    model_prefix: ClassVar[str] = "publishers/google/models/"
    top_level_extra: ClassVar[frozenset[str]] = TOP_LEVEL_EXTRA
    reserved_params: ClassVar[Mapping[str, str]] = {**VEO_RESERVED, **OMNI_RESERVED}

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
        model = model.removeprefix(self.model_prefix)
        if not _NAME_PART.match(model):
            raise BadRequestError(f"Invalid model name '{model}'.", param="model")
        return (
            f"{self.root(creds)}/projects/{self.project(creds)}/locations/{self.location(creds)}"
            f"/publishers/google/models/{model}"
        )

    # ---- create -------------------------------------------------------------------------------

    def image(self, image: ImageInput, param: str) -> dict[str, str]:
        return image_part(image, param, service=self.service, allow_gcs=True, types=VERTEX_IMAGE_TYPES)

    def source_uri(self, source: SourceVideo) -> str | None:
        """The source's ``gs://`` object (an output written to Cloud Storage), if it has one."""
        return next((uri for uri in source.outputs if uri.startswith("gs://") and len(uri) > 5), None)

    def source_video_part(self, source: SourceVideo) -> dict[str, str]:
        uri = self.source_uri(source)
        if uri is not None:
            return {"gcsUri": uri, "mimeType": source.media_type}
        if not source.data:
            raise BadRequestError("Invalid 'video': the video to extend has no bytes.", param="video")
        return {
            "bytesBase64Encoded": base64.b64encode(source.data).decode("ascii"),
            "mimeType": source.media_type,
        }

    def audio_parameter(self, req: VideoRequest, spec: ModelSpec | None, parameters: dict[str, Any]) -> None:
        """``generateAudio`` is sent for models with an audio switch: the request's value, else ``true``
        (what the catalogue prices by default, and required by the Veo 3 previews)."""
        if spec is not None and spec.has("audio_toggle"):
            parameters["generateAudio"] = True if req.generate_audio is None else req.generate_audio
        elif req.generate_audio is not None:
            parameters["generateAudio"] = req.generate_audio

    def predict_url(self, model: str, creds: Credentials) -> str:
        return f"{self.model_path(model, creds)}:predictLongRunning"

    # ---- retrieve / download ------------------------------------------------------------------

    def check_operation_name(self, native_id: str) -> None:
        if not _OPERATION_NAME.match(native_id):
            raise BadRequestError(
                f"Invalid Vertex AI operation name '{native_id[:200]}': expected "
                "'projects/P/locations/L/publishers/google/models/M/operations/ID'.",
                param="video_id",
            )

    def poll_call(self, native_id: str, creds: Credentials) -> HttpCall:
        resource = native_id.rpartition("/operations/")[0]
        return HttpCall(
            "POST",
            f"{self.root(creds)}/{resource}:fetchPredictOperation",
            headers=self.headers(creds),
            json={"operationName": native_id},
        )

    def sample_call(self, uri: str, creds: Credentials) -> HttpCall:
        """The ``gs://`` object through the GCS JSON API, with the same token."""
        bucket, name = parse_gcs_uri(uri)
        url = f"{self.storage_base(creds)}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        return HttpCall("GET", url, headers=self.headers(creds), params={"alt": "media"})

    # ---- Gemini Omni (Interactions API) ---------------------------------------------------------

    def interactions_url(self, creds: Credentials) -> str:
        base = (creds.api_base or default_api_base("global")).rstrip("/")
        for version in (creds.api_version or API_VERSION, INTERACTIONS_VERSION):
            base = base.removesuffix(f"/{version}")
        return f"{base}/{INTERACTIONS_VERSION}/projects/{self.project(creds)}/locations/global/interactions"

    def omni_image(self, image: ImageInput, param: str) -> dict[str, str]:
        return omni_image_block(self.image(image, param))

    def response_format_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        """Inline, or with ``extra_body={"storageUri": "gs://..."}`` (Veo's name for the same choice)
        ``uri`` delivery to that prefix, downloaded through the GCS JSON API."""
        storage = extra.pop("storageUri", None)
        if storage is None:
            return {"delivery": "inline"}
        if not isinstance(storage, str) or not storage.startswith("gs://") or len(storage) <= len("gs://"):
            raise BadRequestError(
                "Invalid 'extra_body.storageUri': expected a gs://bucket/prefix URI.",
                param="extra_body.storageUri",
            )
        return {"delivery": "uri", "gcs_uri": storage}

    def omni_sample_call(self, uri: str, creds: Credentials) -> HttpCall:
        return self.sample_call(uri, creds)

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        model = req.model.removeprefix(self.model_prefix)
        req = yield from self.resolve_source(req, creds)
        if is_omni(model):
            return (yield from self.omni_create(req, find_model(f"{self.name}/{model}"), creds))
        return (yield from super().create(req, creds))

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        if is_interaction(native_id):
            return (yield from self.omni_retrieve(native_id, creds))
        return (yield from super().retrieve(native_id, creds))

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if is_interaction(native_id):
            return (yield from self.omni_download(native_id, variant, creds))
        return (yield from super().download(native_id, variant, creds))

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        if is_interaction(native_id):
            return (yield from self.omni_remix(native_id, prompt, creds))
        return (yield from super().remix(native_id, prompt, creds))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        if is_interaction(native_id):
            return (yield from self.omni_delete(native_id, creds))
        return (yield from super().delete(native_id, creds))
