"""Gemini API (Veo) adapter: ``models/{model}:predictLongRunning``, ``GET {operation name}``, and the
file download that redirects to storage, all with ``x-goog-api-key``.

``api_base`` is the host root google-genai's ``http_options.base_url`` takes (default
``https://generativelanguage.googleapis.com``); the adapter adds ``/v1beta/...`` (or
``Credentials.api_version``). A base that already ends in ``/v1beta`` is accepted as the same root.

The Gemini API has no remix, list or delete for Veo: those are declared absent (UnsupportedOperationError).
It reads images only inline, so an ``https`` image URL is rejected before any request.

``extra_body`` keys are merged into ``parameters`` (e.g. ``{"enhancePrompt": false}``), except
``webhookConfig``, which the API takes at the top level of the body.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, ClassVar

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
    decode_inline,
    google_error,
    image_part,
    json_object,
    read_operation,
    samples,
)
from vidgate.types import VideoRequest

DEFAULT_API_BASE = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
TOP_LEVEL_EXTRA = frozenset({"webhookConfig"})
_SERVICE = "the Gemini API"
# The file id in a generated video's URI (``.../v1beta/files/{id}:download?alt=media``).
_FILE_URI = re.compile(r"^https://[^?#]*/files/([A-Za-z0-9_-]+)")
_OPERATION_NAME = re.compile(r"^(models|tunedModels)/[A-Za-z0-9._-]+/operations/[A-Za-z0-9._-]+$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9._-]+$")


class GeminiProvider(BaseProvider):
    name: ClassVar[str] = "gemini"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CREATE, Capability.RETRIEVE, Capability.DOWNLOAD}
    )

    # ---- plumbing -----------------------------------------------------------------------------

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

    def error_for(self, reply: HttpReply) -> APIError:
        return google_error(reply, self.name)

    # ---- create -------------------------------------------------------------------------------

    def request_body(self, req: VideoRequest) -> dict[str, Any]:
        """The ``:predictLongRunning`` body for a validated request (raises BadRequestError, no I/O)."""
        model = req.model.removeprefix("models/")
        if not _MODEL_ID.match(model):
            raise BadRequestError(f"Invalid model name '{req.model}'.", param="model")
        spec = find_model(f"{self.name}/{model}")
        instance: dict[str, Any] = {"prompt": req.prompt}
        if req.input_reference is not None:
            instance["image"] = image_part(
                req.input_reference, "input_reference", service=_SERVICE, allow_gcs=False
            )
        if req.last_frame is not None:
            instance["lastFrame"] = image_part(
                req.last_frame, "last_frame", service=_SERVICE, allow_gcs=False
            )
        if req.reference_images:
            instance["referenceImages"] = [
                {
                    "image": image_part(img, "reference_images", service=_SERVICE, allow_gcs=False),
                    "referenceType": "asset",
                }
                for img in req.reference_images
            ]
        if req.generate_audio is not None:
            raise BadRequestError(
                "The Gemini API has no 'generate_audio' switch (Veo 3 models always generate audio).",
                param="generate_audio",
                code="unsupported_parameter",
            )
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
        body: dict[str, Any] = {"instances": [instance], "parameters": parameters}
        for key, value in req.extra_body.items():
            (body if key in TOP_LEVEL_EXTRA else parameters)[key] = value
        return body

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = self.request_body(req)
        model = req.model.removeprefix("models/")
        reply = yield HttpCall(
            "POST",
            f"{self.root(creds)}/models/{model}:predictLongRunning",
            headers=self.headers(creds),
            json=body,
            retry_safe=False,
        )
        job = read_operation(json_object(reply), fallback_model=model)
        if not job.native_id:
            raise APIError(
                "The Gemini API answered the create without an operation name.", provider=self.name
            )
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

    def _operation_call(self, native_id: str, creds: Credentials) -> HttpCall:
        if not _OPERATION_NAME.match(native_id):
            raise BadRequestError(
                f"Invalid Gemini operation name '{native_id[:200]}': expected 'models/MODEL/operations/ID'.",
                param="video_id",
            )
        return HttpCall("GET", f"{self.root(creds)}/{native_id}", headers=self.headers(creds))

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._operation_call(native_id, creds)
        return read_operation(json_object(reply))

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """The first sample's bytes. Only ``video`` exists on Gemini (no thumbnail or spritesheet)."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += " The Gemini API has no thumbnail or spritesheet."
            error.provider = self.name
            raise error
        reply = yield self._operation_call(native_id, creds)
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
        return Download(media_type=sample.mime_type, call=self.file_call(sample.uri, creds))

    def file_call(self, uri: str, creds: Credentials) -> HttpCall:
        """GET the file, rebuilt on the configured base as google-genai does (``files/{id}:download``);
        the API answers with a redirect to storage, which the runner follows."""
        match = _FILE_URI.match(uri)
        if match:
            url = f"{self.root(creds)}/files/{match.group(1)}:download"
            return HttpCall(
                "GET", url, headers=self.headers(creds), params={"alt": "media"}, follow_redirects=True
            )
        return HttpCall("GET", uri, headers=self.headers(creds), follow_redirects=True)
