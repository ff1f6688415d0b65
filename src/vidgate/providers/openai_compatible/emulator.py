"""Emulator of an OpenAI-compatible videos server (vLLM-Omni, SGLang diffusion, NVIDIA Dynamo).

The OpenAI ``/v1/videos`` routes, with this family's dialects (field-2026-12 §5):

- auth is off unless an API key is set (then ``Authorization: Bearer``; vLLM's 401 body
  ``{"error": "Unauthorized"}``);
- any model name is served (a server hosts one model; the name is echoed);
- ``create_reply="minimal"`` answers create with ``{id, status, created_at}`` only (vLLM-Omni);
- ``seconds_type="integer"``: a JSON body's ``seconds`` must be an integer >= 1 (NVIDIA Dynamo), a
  string is a 400; multipart text is digits either way;
- every field beyond the Videos API's own is kept and echoed in the Video object under
  ``extra_fields`` (so tests can see what arrived); an extra file part is echoed as ``{filename,
  content_type, bytes, sha256}``;
- sizes and durations: a fixed list of common open-model ones (``SIZES``, 1-20 s).

Settings for ``vidgate emulate openai_compatible`` come from ``VIDGATE_EMULATOR_CREATE_REPLY`` and
``VIDGATE_EMULATOR_SECONDS_TYPE``. Imports no adapter code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request

from vidgate.catalog import ModelSpec, open_model
from vidgate.emulators.common import EmuJob, EmulatorSettings, key_ok
from vidgate.providers._openai_wire.emulator_app import Dialect, videos_app
from vidgate.providers._openai_wire.emulator_wire import Upload, WireError, bad_request, invalid_type

DEFAULT_MODEL = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
SIZES = ("1280x720", "720x1280", "832x480", "480x832", "1024x1024", "640x360", "360x640", "320x180")
SECONDS = tuple(range(1, 21))
CREATE_REPLY_ENV = "VIDGATE_EMULATOR_CREATE_REPLY"
SECONDS_TYPE_ENV = "VIDGATE_EMULATOR_SECONDS_TYPE"


@dataclass(frozen=True)
class CompatOptions:
    create_reply: Literal["full", "minimal"] = "full"
    seconds_type: Literal["string", "integer"] = "string"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CompatOptions:
        reply = environ.get(CREATE_REPLY_ENV, "full")
        seconds = environ.get(SECONDS_TYPE_ENV, "string")
        return cls(
            create_reply="minimal" if reply == "minimal" else "full",
            seconds_type="integer" if seconds == "integer" else "string",
        )


class CompatDialect(Dialect):
    prefix = "/v1"
    poll_after_header = False
    extra_files = True
    serves_edits = False  # the engines serve create, retrieve, list, content and delete only

    def __init__(self, options: CompatOptions) -> None:
        self.options = options

    def authenticate(self, request: Request, settings: EmulatorSettings) -> WireError | None:
        if settings.api_key is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and key_ok(settings, token.strip()):
            return None
        return WireError(401, {"error": "Unauthorized"})

    def resolve_model(self, model: object) -> tuple[str, ModelSpec]:
        name = DEFAULT_MODEL if model is None or model == "" else model
        if not isinstance(name, str):
            raise invalid_type("model", "a string", name)
        return name, open_model("emulated", name, sizes=SIZES, seconds=SECONDS, default_size=SIZES[0])

    def coerce_create(self, body: dict[str, Any], *, form: bool) -> dict[str, Any]:
        """Dynamo's integer seconds, read into the shared checks' string form."""
        if self.options.seconds_type != "integer" or "seconds" not in body:
            return body
        value = body["seconds"]
        if form and isinstance(value, str) and value.isascii() and value.isdigit():  # text in a form
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_type("seconds", "an integer", value)
        if value < 1:
            raise bad_request("Invalid 'seconds': must be an integer >= 1.", param="seconds")
        return {**body, "seconds": str(value)}

    def video_body(self, body: dict[str, Any], job: EmuJob, *, created: bool) -> dict[str, Any]:
        if created and self.options.create_reply == "minimal":
            return {"id": body["id"], "status": body["status"], "created_at": body["created_at"]}
        out = dict(body)
        if self.options.seconds_type == "integer":
            out["seconds"] = job.seconds
        fields = job.extra.get("fields")
        echoed = dict(fields) if isinstance(fields, Mapping) else {}
        out["extra_fields"] = {k: _described(v) if isinstance(v, Upload) else v for k, v in echoed.items()}
        return out


def _described(upload: Upload) -> dict[str, Any]:
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "bytes": len(upload.data),
        "sha256": hashlib.sha256(upload.data).hexdigest(),
    }


def create_app(settings: EmulatorSettings | None = None, options: CompatOptions | None = None) -> Starlette:
    """``app.state.store`` holds the jobs; ``options`` default to the environment's (see above)."""
    return videos_app(
        settings or EmulatorSettings(), CompatDialect(options or CompatOptions.from_env(os.environ))
    )
