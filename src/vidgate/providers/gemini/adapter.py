"""Gemini API (Veo) adapter: ``models/{model}:predictLongRunning``, ``GET {operation name}``, and the
file download that redirects to storage, all with ``x-goog-api-key``.

``api_base`` is the host root google-genai's ``http_options.base_url`` takes (default
``https://generativelanguage.googleapis.com``); the adapter adds ``/v1beta/...`` (or
``Credentials.api_version``). A base that already ends in ``/v1beta`` is accepted as the same root.

Gemini Omni rows (``gemini-omni-*``) use the Interactions API instead (``_google_wire.omni``): the
adapter picks that flow family by the row on create and by the native id (``interactions/{id}``) on
every follow-up. Omni videos are delivered by ``uri`` (a Gemini file, downloaded like Veo's) and can be
remixed (``previous_interaction_id``) and deleted.

Edits and extensions (``VideoRequest.task``): Veo 3.1 extends a video the Gemini API generated, named by
its file URI (``instances[0].video.uri``: from ``source_video.outputs``, else read from the source's
operation on this deployment; the API documents no other source, so a video without such a URI is a 400
naming ``video``); Omni edits and extends through ``previous_interaction_id`` when the
source is an interaction of this deployment, else with the video as an input block (its file URI, or
its bytes inline).

The Gemini API has no remix, list or delete for Veo: those are declared absent (UnsupportedOperationError).
It reads images only inline, so an ``https`` image URL is rejected before any request.

``extra_body`` keys are merged into ``parameters`` (e.g. ``{"enhancePrompt": false}``), except
``webhookConfig``, which the API takes at the top level of the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.catalog import ModelSpec
from vidgate.errors import AuthenticationError, BadRequestError
from vidgate.providers._google_wire.omni import (
    OMNI_RESERVED,
    OmniFlows,
    is_interaction,
    is_omni,
    omni_image_block,
)
from vidgate.providers._google_wire.veo import VEO_RESERVED, GoogleVeoProvider
from vidgate.providers._google_wire.wire import image_part
from vidgate.providers.base import Credentials, Download, Flow, HttpCall, ProviderJob
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, SourceVideo, VideoRequest

DEFAULT_API_BASE = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
INTERACTIONS_VERSION = "v1"
TOP_LEVEL_EXTRA = frozenset({"webhookConfig"})
# The file id in a generated video's URI (``.../v1beta/files/{id}:download?alt=media``).
_FILE_URI = re.compile(r"^https://[^?#]*/files/([A-Za-z0-9_-]+)")
_OPERATION_NAME = re.compile(r"^(models|tunedModels)/[A-Za-z0-9._-]+/operations/[A-Za-z0-9._-]+$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9._-]+$")


class GeminiProvider(GoogleVeoProvider, OmniFlows):
    name: ClassVar[str] = "gemini"
    service: ClassVar[str] = "the Gemini API"
    model_prefix: ClassVar[str] = "models/"
    top_level_extra: ClassVar[frozenset[str]] = TOP_LEVEL_EXTRA
    needs_source_uri: ClassVar[bool] = True
    reserved_params: ClassVar[Mapping[str, str]] = {**VEO_RESERVED, **OMNI_RESERVED}

    @staticmethod
    def root(creds: Credentials) -> str:
        """``{api_base}/{version}``: where every Gemini path starts."""
        version = creds.api_version or API_VERSION
        base = (creds.api_base or DEFAULT_API_BASE).rstrip("/")
        base = base.removesuffix(f"/{version}")
        return f"{base}/{version}"

    def headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "No Gemini API key: pass api_key or set GEMINI_API_KEY (or GOOGLE_API_KEY).",
                code="missing_api_key",
                provider=self.name,
            )
        return {**creds.extra_headers, "x-goog-api-key": creds.api_key}

    # ---- create -------------------------------------------------------------------------------

    def model_id(self, model: str) -> str:
        bare = model.removeprefix(self.model_prefix)
        if not _MODEL_ID.match(bare):
            raise BadRequestError(f"Invalid model name '{model}'.", param="model")
        return bare

    def image(self, image: ImageInput, param: str) -> dict[str, str]:
        return image_part(image, param, service=self.service, allow_gcs=False)

    def source_uri(self, source: SourceVideo) -> str | None:
        """The source's Gemini file URI (an output of this API), if it has one."""
        return next((uri for uri in source.outputs if _FILE_URI.match(uri)), None)

    def source_video_part(self, source: SourceVideo) -> dict[str, str]:
        uri = self.source_uri(source)
        if uri is None:
            raise BadRequestError(
                "The Gemini API extends only a Veo video it generated (named by its file URI), and this "
                "video has none: extend a video made by this deployment, or use Vertex AI, which takes "
                "the bytes.",
                param="video",
            )
        return {"uri": uri}

    def audio_parameter(self, req: VideoRequest, spec: ModelSpec | None, parameters: dict[str, Any]) -> None:
        if req.generate_audio is not None:
            raise BadRequestError(
                "The Gemini API has no 'generate_audio' switch (Veo 3 models always generate audio).",
                param="generate_audio",
                code="unsupported_parameter",
            )

    def predict_url(self, model: str, creds: Credentials) -> str:
        return f"{self.root(creds)}/models/{model.removeprefix(self.model_prefix)}:predictLongRunning"

    # ---- retrieve / download ------------------------------------------------------------------

    def check_operation_name(self, native_id: str) -> None:
        if not _OPERATION_NAME.match(native_id):
            raise BadRequestError(
                f"Invalid Gemini operation name '{native_id[:200]}': expected 'models/MODEL/operations/ID'.",
                param="video_id",
            )

    def poll_call(self, native_id: str, creds: Credentials) -> HttpCall:
        return HttpCall("GET", f"{self.root(creds)}/{native_id}", headers=self.headers(creds))

    def sample_call(self, uri: str, creds: Credentials) -> HttpCall:
        """GET the file, rebuilt on the configured base as google-genai does (``files/{id}:download``);
        the API answers with a redirect to storage, which the runner follows."""
        match = _FILE_URI.match(uri)
        if match:
            url = f"{self.root(creds)}/files/{match.group(1)}:download"
            return HttpCall(
                "GET", url, headers=self.headers(creds), params={"alt": "media"}, follow_redirects=True
            )
        return HttpCall("GET", uri, headers=self.headers(creds), follow_redirects=True)

    # ---- Gemini Omni (Interactions API) ---------------------------------------------------------

    def interactions_url(self, creds: Credentials) -> str:
        """``{api_base}/v1/interactions``: google-genai 3.x's default version for the Gemini API (the
        reference's examples use ``v1beta``, also served); ``Credentials.api_version`` overrides it."""
        version = creds.api_version or INTERACTIONS_VERSION
        base = (creds.api_base or DEFAULT_API_BASE).rstrip("/")
        for suffix in (version, API_VERSION, INTERACTIONS_VERSION):
            base = base.removesuffix(f"/{suffix}")
        return f"{base}/{version}/interactions"

    def omni_image(self, image: ImageInput, param: str) -> dict[str, str]:
        return omni_image_block(self.image(image, param))

    def response_format_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {"delivery": "uri"}

    def omni_sample_call(self, uri: str, creds: Credentials) -> HttpCall:
        return self.sample_call(uri, creds)

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        model = self.model_id(req.model)
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
