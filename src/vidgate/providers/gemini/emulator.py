"""Emulator of the Gemini API's Veo routes (``generativelanguage.googleapis.com``), §3 of the reference.

- ``POST /v1beta/models/{model}:predictLongRunning`` -> ``{"name": "models/{model}/operations/{id}"}``
- ``GET /v1beta/models/{model}/operations/{id}`` -> the operation (``done`` absent while running, as
  proto3 JSON omits a false bool; then ``response.generateVideoResponse`` or ``error``)
- ``GET /v1beta/files/{id}:download?alt=media`` -> 302 to ``/_storage/{token}/{id}.mp4`` on this host,
  which serves the MP4 (Range supported). A file belongs to the key that created it.

Auth is ``x-goog-api-key`` or ``?key=``; a wrong key is **400** INVALID_ARGUMENT with ErrorInfo reason
``API_KEY_INVALID``, a missing one 403 PERMISSION_DENIED, as on the real service. Video URIs keep
Google's host, as the real API's do: clients (google-genai, the seed scripts) rebuild them on their
own base URL. ``/v1`` is served the same as ``/v1beta``.

Veo 3.1 extension: ``instances[0].video`` = ``{"uri": <a file URI this API returned>}`` (of a finished,
unfiltered operation of the same key; other sources are a 400, as the API documents extending only Veo
videos it generated), ``durationSeconds`` 8 at 720p; the result is the source plus 7 s.

Gemini Omni: ``/v1/interactions`` (google-genai 3.x's default) and ``/v1beta/interactions``
(``_google_wire.emulator_interactions``); ``uri`` delivery as a file of this API (the same download
route and redirect), ``inline`` as base64.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import EmulatorSettings, PackageModels, key_ok
from vidgate.providers._google_wire.emulator_common import (
    GoogleError,
    Operation,
    VeoEmulator,
    error_info,
    filtered_reason,
    google_app,
    invalid,
    not_found,
    operation_id,
    read_json,
    render_sample,
)
from vidgate.providers._google_wire.emulator_interactions import InteractionsEmulator, interaction_routes

GOOGLE_ROOT = "https://generativelanguage.googleapis.com"
VERSIONS = ("v1beta", "v1")
SERVICE_NAME = "generativelanguage.googleapis.com"
RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"

MODELS = PackageModels("vidgate.providers.gemini")
_FILE_URI = re.compile(r"/files/([a-z0-9]+)(?::download)?(?:\?.*)?$")


def _model(version: str, model: str) -> ModelSpec:
    spec = MODELS.find(f"gemini/{model}")
    if version not in VERSIONS or spec is None:
        raise not_found(
            f"models/{model} is not found for API version {version}, or is not supported for "
            "predictLongRunning. Call ListModels to see the list of available models and their supported "
            "methods."
        )
    return spec


class GeminiEmulator(VeoEmulator):
    def __init__(self, settings: EmulatorSettings) -> None:
        super().__init__(settings)
        self.storage: dict[str, str] = {}  # storage token -> file id

    def authenticate(self, request: Request) -> str:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not key:
            raise GoogleError(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if not key_ok(self.settings, key):
            raise GoogleError(
                400,
                "API key not valid. Please pass a valid API key.",
                details=[error_info("API_KEY_INVALID", SERVICE_NAME)],
            )
        return key

    async def create(self, request: Request) -> Response:
        key = self.authenticate(request)
        version, model = request.path_params["version"], request.path_params["model"]
        spec = _model(version, model)
        veo, job = await self.start(
            await read_json(request), spec, "gemini", model, lambda video: self.extension_source(video, key)
        )
        op = Operation(
            name=f"models/{model}/operations/{job.id}",
            job=job,
            owner=key,
            sample_count=veo.sample_count,
            outputs=[operation_id() for _ in range(veo.sample_count)],
        )
        self.ops.add(op)
        return JSONResponse({"name": op.name})

    def extension_source(self, video: dict[str, Any], key: str) -> int:
        """The length of the Veo video ``video.uri`` names (an output of this key's finished operation)."""
        uri = video.get("uri")
        match = _FILE_URI.search(uri) if isinstance(uri, str) else None
        found = self.ops.output(match.group(1)) if match else None
        if found is None or found[0].owner != key:
            raise invalid(
                "`video` must reference a video generated by Veo (`video.uri` from an earlier operation)."
            )
        op = found[0]
        if op.job.state()[0] != "completed" or op.job.outcome != "ok":
            raise invalid(f"The video {uri} is not ready to be extended.")
        return op.job.seconds

    def operation_json(self, op: Operation) -> dict[str, Any]:
        unfinished = self.unfinished_json(op)
        if unfinished is not None:
            return unfinished
        if op.job.outcome == "filtered":
            result: dict[str, Any] = {
                "raiMediaFilteredCount": op.sample_count,
                "raiMediaFilteredReasons": [filtered_reason(op.sample_count)],
            }
        else:
            result = {
                "generatedSamples": [
                    {"video": {"uri": f"{GOOGLE_ROOT}/v1beta/files/{file_id}:download?alt=media"}}
                    for file_id in op.outputs
                ]
            }
        return {
            "name": op.name,
            "done": True,
            "response": {"@type": RESPONSE_TYPE, "generateVideoResponse": result},
        }

    async def poll(self, request: Request) -> Response:
        key = self.authenticate(request)
        version = request.path_params["version"]
        name = f"models/{request.path_params['model']}/operations/{request.path_params['op_id']}"
        op = self.ops.get(name)
        if version not in VERSIONS or op is None or op.owner != key:
            raise not_found(f"Operation {name} not found.")  # another key's operation does not exist for you
        dropped = await self.poll_faults(op)
        return dropped if dropped is not None else JSONResponse(self.operation_json(op))

    async def download(self, request: Request) -> Response:
        key = self.authenticate(request)
        file_id = request.path_params["file_id"]
        found = self.ops.output(file_id)
        if request.path_params["version"] not in VERSIONS or found is None or found[0].owner != key:
            raise GoogleError(
                403, f"You do not have permission to access the File {file_id} or it may not exist."
            )
        op, _index = found
        if op.job.state()[0] != "completed" or op.job.outcome != "ok":
            raise GoogleError(
                403, f"You do not have permission to access the File {file_id} or it may not exist."
            )
        if request.query_params.get("alt") != "media":
            raise invalid("Only media downloads are supported: add alt=media.")
        await self.download_faults(op)
        token = secrets.token_urlsafe(16)
        self.storage[token] = file_id
        location = str(request.url_for("storage", token=token, filename=f"{file_id}.mp4"))
        return RedirectResponse(location, status_code=302)

    async def serve_storage(self, request: Request) -> Response:
        """The storage host a download redirects to: a signed-URL-like path, no key needed."""
        file_id = self.storage.get(request.path_params["token"])
        found = self.ops.output(file_id) if file_id else None
        if found is None or request.path_params["filename"] != f"{file_id}.mp4":
            return Response("Not Found", status_code=404, media_type="text/plain")
        op, index = found
        path = await render_sample(self.settings, op.job, index)
        return FileResponse(
            path, media_type="video/mp4", filename=f"{file_id}.mp4", content_disposition_type="inline"
        )


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The Gemini API emulator as an ASGI app."""
    emulator = GeminiEmulator(settings or EmulatorSettings())
    omni = InteractionsEmulator(
        emulator,
        MODELS,
        "gemini",
        vertex=False,
        authenticate=emulator.authenticate,
        file_uri=lambda file_id: f"{GOOGLE_ROOT}/v1beta/files/{file_id}:download?alt=media",
        output_ref=lambda _fmt: operation_id(),
    )
    routes = [
        *interaction_routes(omni, "/v1/interactions"),  # google-genai 3.x's default version
        *interaction_routes(omni, "/v1beta/interactions"),
        Route("/{version}/models/{model}:predictLongRunning", emulator.create, methods=["POST"]),
        Route("/{version}/models/{model}/operations/{op_id}", emulator.poll, methods=["GET"]),
        Route("/{version}/files/{file_id}:download", emulator.download, methods=["GET"]),
        Route(
            "/_storage/{token}/{filename}", emulator.serve_storage, methods=["GET", "HEAD"], name="storage"
        ),
    ]
    return google_app(routes, emulator)
