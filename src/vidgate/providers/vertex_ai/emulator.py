"""Emulator of Vertex AI's Veo routes (``{location}-aiplatform.googleapis.com``), §4 of the reference.

- ``POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning``
  -> ``{"name": "projects/{p}/locations/{l}/publishers/google/models/{m}/operations/{uuid}"}``
- ``POST /{v1|v1beta1}/.../models/{m}:fetchPredictOperation`` with ``{"operationName": ...}`` -> the
  operation; when done, ``response.videos`` holds inline ``bytesBase64Encoded`` MP4s, or, when the create
  gave ``parameters.storageUri``, ``gcsUri`` objects
- ``GET /storage/v1/b/{bucket}/o/{object}?alt=media`` (the GCS JSON API) serves those objects (Range
  supported; without ``alt=media`` it answers the object's metadata).

google-genai uses ``v1beta1``, the REST docs ``v1``: both are served. Auth is ``Authorization: Bearer``;
with ``EmulatorSettings.api_key`` set, that value is the only accepted token, otherwise any token is;
anything else is 401 UNAUTHENTICATED. Operations belong to the project in their name.

Gemini Omni: ``/v1beta1/projects/{p}/locations/global/interactions`` (any version and location
are accepted: google-genai puts its client's location there) (``_google_wire.emulator_interactions``),
``inline`` delivery as base64, ``uri`` delivery (with ``gcs_uri``) as a ``gs://`` object served by the
GCS route; the first read after completion shows the known bug (``completed``, no output yet).

Veo 3.1 extension: ``instances[0].video`` = ``{gcsUri, mimeType}`` of an object this emulator wrote
(a finished operation of the same project) or ``{bytesBase64Encoded, mimeType: video/mp4}`` (any MP4),
``durationSeconds`` 8 at 720p; the result is the source plus 7 s.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
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
    inline_video_seconds,
    invalid,
    not_found,
    read_json,
    render_sample,
)
from vidgate.providers._google_wire.emulator_interactions import InteractionsEmulator, interaction_routes

VERSIONS = ("v1", "v1beta1")
SERVICE_NAME = "aiplatform.googleapis.com"
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
MODEL_PATH = "/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}"
_AUTH_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

MODELS = PackageModels("vidgate.providers.vertex_ai")


def _resource(request: Request) -> tuple[str, ModelSpec]:
    p = request.path_params
    spec = MODELS.find(f"vertex_ai/{p['model']}")
    if p["version"] not in VERSIONS or spec is None:
        raise not_found(
            f"Publisher Model `projects/{p['project']}/locations/{p['location']}/publishers/google/models/"
            f"{p['model']}` not found."
        )
    return f"projects/{p['project']}/locations/{p['location']}/publishers/google/models/{p['model']}", spec


def _gcs_not_found(bucket: str, name: str) -> JSONResponse:
    message = f"No such object: {bucket}/{name}"
    body = {
        "error": {
            "code": 404,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": "notFound"}],
        }
    }
    return JSONResponse(body, status_code=404)


class VertexEmulator(VeoEmulator):
    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GoogleError(
                401,
                f"Request is missing required authentication credential. {_AUTH_HELP}",
                details=[error_info("CREDENTIALS_MISSING", SERVICE_NAME)],
            )
        if not key_ok(self.settings, token.strip()):
            raise GoogleError(
                401,
                f"Request had invalid authentication credentials. {_AUTH_HELP}",
                details=[error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", SERVICE_NAME)],
            )

    async def create(self, request: Request) -> Response:
        self.authenticate(request)
        resource, spec = _resource(request)
        project = request.path_params["project"]
        veo, job = await self.start(
            await read_json(request),
            spec,
            "vertex",
            request.path_params["model"],
            lambda video: self.extension_source(video, project),
        )
        job.id = str(uuid.uuid4())
        outputs: list[str] = []
        if veo.storage_uri is not None:
            prefix = veo.storage_uri.removeprefix("gs://").rstrip("/")
            outputs = [f"gs://{prefix}/{job.id}/sample_{i}.mp4" for i in range(veo.sample_count)]
        op = Operation(
            name=f"{resource}/operations/{job.id}",
            job=job,
            owner=request.path_params["project"],
            sample_count=veo.sample_count,
            outputs=outputs,
        )
        self.ops.add(op)
        return JSONResponse({"name": op.name})

    def extension_source(self, video: dict[str, Any], project: str) -> int:
        """The length of an extension's source: a ``gs://`` object of this project, or inline bytes."""
        uri = video.get("gcsUri")
        if uri is None:
            return inline_video_seconds(video, "video")
        found = self.ops.output(uri) if isinstance(uri, str) else None
        if found is None or found[0].owner != project:
            raise invalid(f"Unable to read the video at {uri}: the object does not exist or is not readable.")
        op = found[0]
        if op.job.state()[0] != "completed" or op.job.outcome != "ok":
            raise invalid(f"Unable to read the video at {uri}: the object does not exist or is not readable.")
        return op.job.seconds

    async def operation_json(self, op: Operation) -> dict[str, Any]:
        unfinished = self.unfinished_json(op)
        if unfinished is not None:
            return unfinished
        response: dict[str, Any] = {"@type": RESPONSE_TYPE}
        if op.job.outcome == "filtered":
            response["raiMediaFilteredCount"] = op.sample_count
            response["raiMediaFilteredReasons"] = [filtered_reason(op.sample_count)]
        elif op.outputs:
            response["raiMediaFilteredCount"] = 0
            response["videos"] = [{"gcsUri": uri, "mimeType": "video/mp4"} for uri in op.outputs]
        else:
            videos = []
            for index in range(op.sample_count):
                path = await render_sample(self.settings, op.job, index)
                data = await anyio.to_thread.run_sync(path.read_bytes)
                videos.append(
                    {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": "video/mp4"}
                )
            response["raiMediaFilteredCount"] = 0
            response["videos"] = videos
        return {"name": op.name, "done": True, "response": response}

    async def fetch(self, request: Request) -> Response:
        self.authenticate(request)
        resource, _spec = _resource(request)
        body = await read_json(request)
        name = body.get("operationName")
        if not isinstance(name, str) or not name:
            raise invalid("`operationName` is required.")
        op = self.ops.get(name)
        if op is None or not name.startswith(f"{resource}/operations/"):
            raise not_found(f"Operation {name} not found.")
        dropped = await self.poll_faults(op)
        return dropped if dropped is not None else JSONResponse(await self.operation_json(op))

    async def storage_object(self, request: Request) -> Response:
        """GCS JSON API object read: metadata, or the bytes with ``alt=media``."""
        self.authenticate(request)
        bucket, name = request.path_params["bucket"], request.path_params["object"]
        found = self.ops.output(f"gs://{bucket}/{name}")
        if found is None or found[0].job.state()[0] != "completed" or found[0].job.outcome != "ok":
            return _gcs_not_found(bucket, name)
        op, index = found
        await self.download_faults(op)
        path = await render_sample(self.settings, op.job, index)
        if request.query_params.get("alt") != "media":
            return JSONResponse(
                {
                    "kind": "storage#object",
                    "id": f"{bucket}/{name}",
                    "name": name,
                    "bucket": bucket,
                    "contentType": "video/mp4",
                    "size": str(path.stat().st_size),
                }
            )
        return FileResponse(path, media_type="video/mp4")


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The Vertex AI (Veo) emulator as an ASGI app, GCS JSON API object reads included."""
    emulator = VertexEmulator(settings or EmulatorSettings())

    def project(request: Request) -> str:
        emulator.authenticate(request)
        return str(request.path_params["project"])

    omni = InteractionsEmulator(
        emulator,
        MODELS,
        "vertex_ai",
        vertex=True,
        authenticate=project,
        file_uri=lambda ref: ref,
        output_ref=lambda fmt: (
            f"{str(fmt.get('gcs_uri') or 'gs://unused').rstrip('/')}/{uuid.uuid4()}/sample_0.mp4"
        ),
    )
    root = "/{version}/projects/{project}/locations/{location}/interactions"
    routes = [
        *interaction_routes(omni, root),
        Route(MODEL_PATH + ":predictLongRunning", emulator.create, methods=["POST"]),
        Route(MODEL_PATH + ":fetchPredictOperation", emulator.fetch, methods=["POST"]),
        Route("/storage/v1/b/{bucket}/o/{object:path}", emulator.storage_object, methods=["GET", "HEAD"]),
    ]
    return google_app(routes, emulator)
