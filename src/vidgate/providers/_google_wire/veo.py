"""The Veo flow the Gemini API and Vertex AI adapters share, with hooks for where they differ.

Both services take the same ``:predictLongRunning`` body, answer with a long-running operation and put
finished videos in it (inline, or by URI). What differs is where things live and how they are reached:
the create URL, the poll (Gemini ``GET {operation}``, Vertex ``POST :fetchPredictOperation``), the
sample download (a Gemini file vs. a ``gs://`` object), the auth header, image rules and the audio
switch. Those are the abstract hooks; the flows themselves are written once here, and the pass-through
(``google_passthrough``) reuses the same call builders so both paths agree about a deployment.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from vidgate.catalog import ModelSpec
from vidgate.errors import APIError, BadRequestError, invalid_value
from vidgate.providers._google_wire.wire import (
    Sample,
    decode_inline,
    google_error,
    json_object,
    read_operation,
    samples,
)
from vidgate.providers.base import (
    BaseProvider,
    Credentials,
    Download,
    Flow,
    HttpCall,
    HttpReply,
    ProviderJob,
)
from vidgate.providers.catalogue import find_model
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, SourceVideo, VideoRequest

# Veo's native names for what the gateway validates, permits and prices (instance fields, parameters,
# google-genai's config names, and the body's own structure) -> the first-class parameter to use.
VEO_RESERVED: Mapping[str, str] = {
    "instances": "prompt",
    "parameters": "extra_body",
    "prompt": "prompt",
    "image": "input_reference",
    "lastFrame": "last_frame",
    "referenceImages": "reference_images",
    "video": "",
    "mask": "",
    "durationSeconds": "seconds",
    "aspectRatio": "size",
    "resolution": "size",
    "sampleCount": "n",
    "numberOfVideos": "n",
    "generateAudio": "generate_audio",
    "negativePrompt": "negative_prompt",
    "personGeneration": "person_generation",
    "seed": "seed",
}


# A Veo 3.1 extension (reference §3.5): ``durationSeconds`` must be 8 and the video 720p; the model adds
# 7 s to the source and returns the whole clip.
EXTENSION_SECONDS = 8
EXTENSION_RESOLUTION = "720p"


class GoogleVeoProvider(BaseProvider, ABC):
    """Create, retrieve and download for Veo on a Google service; subclasses supply the wire hooks."""

    service: ClassVar[str]  # as it reads inside a sentence: "the Gemini API", "Vertex AI"
    # Whether a source video must be named by where the service stored it (the Gemini API), rather than
    # sent as bytes (Vertex AI takes either): then its operation is read when no output is known.
    needs_source_uri: ClassVar[bool] = False
    model_prefix: ClassVar[str]  # the resource prefix a model name may carry
    top_level_extra: ClassVar[frozenset[str]]  # ``extra_body`` keys sent beside, not in, ``parameters``
    reserved_params: ClassVar[Mapping[str, str]] = VEO_RESERVED

    # ---- hooks --------------------------------------------------------------------------------

    @abstractmethod
    def headers(self, creds: Credentials) -> dict[str, str]:
        """The auth headers (raises AuthenticationError when the credential is missing)."""

    @abstractmethod
    def predict_url(self, model: str, creds: Credentials) -> str:
        """The ``:predictLongRunning`` URL for ``model`` on this deployment."""

    @abstractmethod
    def image(self, image: ImageInput, param: str) -> dict[str, str]:
        """An input image as this service's image part."""

    @abstractmethod
    def source_video_part(self, source: SourceVideo) -> dict[str, str]:
        """The video a Veo extension continues, as this service takes it (``instances[0].video``)."""

    @abstractmethod
    def audio_parameter(self, req: VideoRequest, spec: ModelSpec | None, parameters: dict[str, Any]) -> None:
        """Set (or refuse) the audio switch in ``parameters``."""

    @abstractmethod
    def check_operation_name(self, native_id: str) -> None:
        """Raise BadRequestError (param ``video_id``) unless ``native_id`` is this service's operation."""

    @abstractmethod
    def poll_call(self, native_id: str, creds: Credentials) -> HttpCall:
        """The call that reads the operation ``native_id`` (not checked: see ``operation_call``)."""

    @abstractmethod
    def sample_call(self, uri: str, creds: Credentials) -> HttpCall:
        """The GET for a sample the service stored at ``uri``."""

    def model_id(self, model: str) -> str:
        """The bare model id of a request's model (subclasses may also check it)."""
        return model.removeprefix(self.model_prefix)

    # ---- shared -------------------------------------------------------------------------------

    @property
    def _subject(self) -> str:
        """The service name at the start of a sentence."""
        return self.service[:1].upper() + self.service[1:]

    def error_for(self, reply: HttpReply) -> APIError:
        return google_error(reply, self.name)

    def request_body(self, req: VideoRequest) -> dict[str, Any]:
        """The ``:predictLongRunning`` body for a validated request (raises BadRequestError, no I/O).

        ``extra_body`` keys go beside the validated fields, never over them (a reserved name is a 400)."""
        check_extra(req.extra_body, self.reserved_params)
        model = self.model_id(req.model)
        spec = find_model(f"{self.name}/{model}")
        instance: dict[str, Any] = {"prompt": req.prompt}
        if req.input_reference is not None:
            instance["image"] = self.image(req.input_reference, "input_reference")
        if req.last_frame is not None:
            instance["lastFrame"] = self.image(req.last_frame, "last_frame")
        if req.reference_images:
            instance["referenceImages"] = [
                {"image": self.image(img, "reference_images"), "referenceType": "asset"}
                for img in req.reference_images
            ]
        if req.task != "generate":
            instance["video"] = self.extension_video(req)
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
        self.audio_parameter(req, spec, parameters)
        body: dict[str, Any] = {"instances": [instance], "parameters": parameters}
        for key, value in req.extra_body.items():
            target = body if key in self.top_level_extra else parameters
            refuse_overlap({key: value}, target)
            target[key] = value
        return body

    def extension_video(self, req: VideoRequest) -> dict[str, str]:
        """The source of a Veo 3.1 extension, after the rules the service documents for one: it extends
        by a fixed 7 s with ``durationSeconds`` 8 (what is priced), at 720p, from no other image input."""
        if req.task != "extend":
            raise BadRequestError(
                f"Veo on {self.service} has no video edit; it can only extend a video.",
                param="model",
                code="unsupported_operation",
            )
        if req.source_video is None:
            raise BadRequestError("A Veo extension needs the video to extend.", param="video")
        if req.input_reference is not None or req.last_frame is not None or req.reference_images:
            raise BadRequestError(
                "A Veo extension takes the video only, no input_reference, last_frame or reference_images.",
                param="input_reference",
            )
        if req.seconds != EXTENSION_SECONDS:
            error = invalid_value("seconds", str(req.seconds), [str(EXTENSION_SECONDS)])
            error.message += (
                f" A Veo extension is sent with durationSeconds {EXTENSION_SECONDS} (it adds 7 s)."
            )
            raise error
        if req.resolution != EXTENSION_RESOLUTION:
            raise BadRequestError(
                f"Invalid value: '{req.size}'. Veo extends {EXTENSION_RESOLUTION} videos only: use a "
                f"{EXTENSION_RESOLUTION} size.",
                param="size",
                code="invalid_value",
            )
        return self.source_video_part(req.source_video)

    def resolve_source(self, req: VideoRequest, creds: Credentials) -> Flow[VideoRequest]:
        """An edit's or extension's source with its output references, read from its operation on this
        deployment when the caller gave none (the gateway and the SDK pass the native id and, at most,
        the bytes): the samples' URIs, and the inline bytes when the caller had none."""
        source = req.source_video
        if req.task == "generate" or source is None or source.outputs or source.native_id is None:
            return req
        if source.data and not self.needs_source_uri:
            return req
        try:
            self.check_operation_name(source.native_id)
        except BadRequestError:
            return req  # not an operation of this service (an interaction, say)
        reply = yield self.poll_call(source.native_id, creds)
        found = samples(json_object(reply))
        outputs = tuple(sample.uri for sample in found if sample.uri)
        data = source.data
        if not data and found and found[0].data_b64 is not None:
            data = decode_inline(found[0])
        return replace(req, source_video=replace(source, outputs=outputs, data=data))

    def create_call(self, model: str, body: Mapping[str, Any], creds: Credentials) -> HttpCall:
        """``POST ...:predictLongRunning`` with ``body`` (a create is never blindly re-sent)."""
        url = self.predict_url(model, creds)
        return HttpCall("POST", url, headers=self.headers(creds), json=dict(body), retry_safe=False)

    def operation_call(self, native_id: str, creds: Credentials) -> HttpCall:
        """The poll for an operation name a client gave us, checked first."""
        self.check_operation_name(native_id)
        return self.poll_call(native_id, creds)

    def sample_download(self, sample: Sample, creds: Credentials) -> Download:
        """Inline bytes as they came, else the GET for where the service stored the sample."""
        if sample.data_b64 is not None:
            return Download(media_type=sample.mime_type, data=decode_inline(sample))
        assert sample.uri is not None
        return Download(media_type=sample.mime_type, call=self.sample_call(sample.uri, creds))

    # ---- flows --------------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = self.request_body(req)
        reply = yield self.create_call(req.model, body, creds)
        job = read_operation(json_object(reply), fallback_model=req.model.removeprefix(self.model_prefix))
        if not job.native_id:
            raise APIError(
                f"{self._subject} answered the create without an operation name.", provider=self.name
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

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self.operation_call(native_id, creds)
        return read_operation(json_object(reply))

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """The first sample's bytes. Only ``video`` exists on Veo (no thumbnail or spritesheet)."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += f" {self._subject} has no thumbnail or spritesheet."
            error.provider = self.name
            raise error
        reply = yield self.operation_call(native_id, creds)
        op = json_object(reply)
        job = read_operation(op)
        if job.status != "completed":
            reason = f": {job.error.message}" if job.error else ""
            raise BadRequestError(
                f"Video is not ready for download: status is '{job.status}'{reason}",
                code="video_not_ready",
                provider=self.name,
            )
        return self.sample_download(samples(op)[0], creds)
